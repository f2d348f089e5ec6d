"""The task protocol: everything that differs between tasks, behind one class the rest of the project asks.

A task is one file in :mod:`scratchlm.tasks` with one :class:`Task` subclass, and one line in
:mod:`scratchlm.tasks.registry`. The training loop, ``eval``, ``predict``, ``summary``, the server and the
ONNX export never test a task's name: they call these methods and read these attributes.

=================  ===================================================================================
data               :meth:`load` (the dataset, ``data.task`` resolved), :attr:`labels`, :meth:`read_file`,
                   :meth:`texts`, :meth:`build_tokenizer`, :meth:`metadata`, :meth:`encode`
model              :meth:`build_model`, :meth:`check_config`
training           :meth:`batch`, :meth:`loss`, :meth:`loss_weight`, :attr:`score_key`
evaluation         :meth:`evaluate`, :meth:`evaluate_for_selection`, :meth:`headline`, :meth:`format`,
                   :meth:`eval_record`, :meth:`plots`, :meth:`written_line`
prediction         :meth:`predict`, :meth:`prediction_line`, :attr:`endpoints`, :attr:`export_outputs`
=================  ===================================================================================
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import torch

from scratchlm.config.model import POSITIONAL_KINDS_2D
from scratchlm.errors import ConfigError, DataError
from scratchlm.tasks.pretraining_shards import check_shards_config
from scratchlm.tasks.registry import TASKS

if TYPE_CHECKING:
    from collections.abc import Callable

    from scratchlm.config import DataConfig, RunConfig
    from scratchlm.data.collate import Batch
    from scratchlm.predict.sampling import GenerationOptions
    from scratchlm.training.run_dir import LoadedRun


def with_data(cfg: RunConfig, **changes) -> RunConfig:
    """``cfg`` with ``data`` fields replaced (a resolved ``data.task``, a tagger's scheme)."""
    return dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, **changes))


class Task:
    """One task. Subclasses set the class attributes and override what differs from these defaults."""

    name: ClassVar[str] = ""
    """The one name of the task: the ``data.task`` value and the ``task`` a run records in run.json."""
    score_key: ClassVar[str] = "accuracy"
    """The dev metric that picks the saved weights and drives early stopping (higher is better)."""
    endpoints: ClassVar[tuple[str, ...]] = ()
    """The server endpoints a run of this task answers (``scratchlm serve``)."""
    export_outputs: ClassVar[tuple[str, ...]] = ()
    """The output names of its ONNX graph (``()``: ``scratchlm export onnx`` does not export it)."""
    predicts_files: ClassVar[bool] = False
    """Whether ``predict --input FILE.jsonl`` labels a file's records for it (streamed, in batches)."""
    export_per_token: ClassVar[bool] = False
    """Whether its exported outputs have a value per position (a tagger's), not one per text."""
    export_quantizable: ClassVar[bool] = False
    """Whether ``export onnx --quantize int8`` is offered for it."""
    reads_cls: ClassVar[bool] = True
    """Whether its model reads a ``[CLS]`` id before the text's tokens."""
    pretrains: ClassVar[bool] = False
    """Raw-text pretraining whose input layer and encoder ``model.init: RUN`` fine-tunes from."""
    bidirectional: ClassVar[bool] = True
    """Whether its encoder attends in both directions (a causal LM's does not)."""
    plots_attention: ClassVar[bool] = False
    """Whether ``scratchlm plot attention`` can show its encoder's self-attention on one text (a
    bidirectional encoder read without a decoder)."""
    reads_images: ClassVar[bool] = False
    """Whether its inputs are images (``predict`` and ``/v1/classify`` take image files, not texts)."""
    metric_noun: ClassVar[str] = "examples"
    """What ``eval`` counts (``no sentences to evaluate``)."""

    def __init__(self, cfg: RunConfig):
        self.cfg = cfg
        self.data = None

    # ------------------------------------------------------------------------------------------ data
    @classmethod
    def detects(cls, data: DataConfig) -> bool:
        """Whether ``data.task: auto`` should pick this task for a user's file (``data.train_file`` or
        ``data.dataset``), by looking at it."""
        return False

    @classmethod
    def check_config(cls, cfg: RunConfig) -> None:
        """Cross-section checks of a config for this task (a :class:`ConfigError` naming the fields);
        subclasses call this one too."""
        if cfg.data.packing and not cls.pretrains:
            raise ConfigError(
                f"data.packing joins raw texts for pretraining (data.task: masked_lm or causal_lm), "
                f"not data.task={cls.name}"
            )
        if cfg.model.positional.kind in POSITIONAL_KINDS_2D and not cls.reads_images:
            raise ConfigError(
                f"model.positional.kind={cfg.model.positional.kind} is a 2-D encoding for image patches; "
                f"data.task={cls.name} reads sequences (use sinusoidal, learned, rope, ...)"
            )
        check_shards_config(cfg, cls.name, cls.pretrains)
        if cfg.data.tag_scheme != "auto" and TASKS[cls.name].reads != "tags":
            raise ConfigError(
                f"data.tag_scheme={cfg.data.tag_scheme} applies to data.task=tagging; a {cls.name} run has no tags"
            )

    def load(self) -> RunConfig:
        """Read the dataset into ``self.data``; returns the config as the run saves it."""
        raise NotImplementedError

    @property
    def labels(self) -> list[str]:
        """The output names, id = position (classes, tags, output tokens; ``[]`` for pretraining)."""
        return self.data.labels

    def split(self, name: str) -> list:
        return self.data.split(name)

    def texts(self, examples: list) -> list[str]:
        """The raw text of each example (what tokenizers and word2vec train on)."""
        return [ex.text for ex in examples]

    def build_tokenizer(self, examples: list):
        from scratchlm.tokenizers import build_tokenizer

        return build_tokenizer(self.cfg.data, self.texts(examples))

    def load_tokenizer(self, directory: str | Path):
        """The tokenizer a run saved in ``directory`` (an image run's: its image processor)."""
        from scratchlm.tokenizers import load_tokenizer

        return load_tokenizer(directory)

    def check_tokenizer(self, tokenizer, source: Path) -> None:
        """Refuse a pretrained run's tokenizer (``model.init: RUN``) this task cannot read."""

    def metadata(self, examples: list) -> dict:
        """Task entries of run.json (a tagger's ``scheme`` and ``units``)."""
        return {}

    def read_file(self, path: str, labels: list[str]) -> list:
        """The examples of a user's file (``eval --data``), checked against the run's ``labels``."""
        raise NotImplementedError

    def encode(self, tokenizer, examples: list, labels: list[str]):
        raise NotImplementedError

    def encoding_note(self, enc) -> str | None:
        """A line for the log about what encoding changed (truncation, windows, packing), or ``None``."""
        return None

    def eval_note(self, enc) -> str | None:
        """The line ``eval`` prints under its metrics (default: :meth:`encoding_note`)."""
        return self.encoding_note(enc)

    def extra_metrics(self, enc) -> dict:
        return {}

    def eval_title(self) -> str:
        """Added to the title of ``eval``'s report (a seq2seq run's beam size)."""
        return ""

    def extra_eval_metrics(self) -> dict:
        """Entries ``eval`` adds to its metrics (a seq2seq run's ``beam_size``)."""
        return {}

    # ----------------------------------------------------------------------------------------- model
    def build_model(
        self, vocab_size: int, num_labels: int, pad_id: int, labels: list[str] | None = None
    ) -> torch.nn.Module:
        """The model: ``num_labels`` outputs (classes, tags, output tokens); ``labels``: their names
        when known (a CRF tagger takes its scheme's transition rules from them)."""
        raise NotImplementedError

    # -------------------------------------------------------------------------------------- training
    def batch(self, enc, index: list[int], pad_id: int) -> Batch:
        raise NotImplementedError

    def loss_weight(self, batch: Batch) -> int:
        """How many units :meth:`loss` averages over: the weight of a micro-batch in gradient
        accumulation and DDP."""
        return len(batch.index)

    def loss(self, model, batch: Batch, device: str) -> torch.Tensor:
        raise NotImplementedError

    # ------------------------------------------------------------------------------------ evaluation
    def evaluate(self, model, enc, labels: list[str], pad_id: int, batch_size: int, device: str) -> dict:
        raise NotImplementedError

    def evaluate_for_selection(
        self, model, enc, labels: list[str], pad_id: int, batch_size: int, device: str
    ) -> dict:
        """The dev evaluation during training that picks the saved weights (a task may make it cheaper
        than :meth:`evaluate`, which gives the final figures)."""
        return self.evaluate(model, enc, labels, pad_id, batch_size, device)

    def eval_record(self, m: dict) -> dict:
        """The dev figures written to train_log.jsonl at each evaluation."""
        return {f"dev_{self.score_key}": m[self.score_key]}

    def headline(self, m: dict) -> str:
        raise NotImplementedError

    def format(self, m: dict, title: str = "") -> str:
        return "\n".join([title, self.headline(m)] if title else [self.headline(m)])

    def written_line(self, out: str, metrics: dict) -> str:
        """What ``scratchlm train`` prints when the run is written (``metrics``: its metrics.json)."""
        return f"run written to {out}: dev {self.headline(metrics['dev'])}"

    def plots(self, out: Path, metrics: dict) -> None:
        from scratchlm.viz import plots

        plots.training_curves(out / "train_log.jsonl", out / "plots" / "training_curves.png")

    # ------------------------------------------------------------------------------------ prediction
    def with_options(self, **options: Any) -> Task:
        """The task with prediction options applied (``beam_size`` for seq2seq); unknown ones refused."""
        given = {k: v for k, v in options.items() if v is not None}
        if given:
            raise ConfigError(f"{', '.join(given)}: not an option of a {self.name} run")
        return self

    def predict(self, run: LoadedRun, texts: Sequence[str], batch_size: int) -> list[dict]:
        """One JSON-ready result per raw text."""
        raise DataError(f"{run.path}: a {self.name} run does not predict on texts")

    def model_inputs(self, run: LoadedRun, text: str) -> tuple[list[int], list[str], int]:
        """``(ids, tokens, truncated)``: the positions the run's model reads for one raw text."""
        enc = run.tokenizer.encode(text, max_len=run.max_seq_len, truncation=run.config.data.truncation)
        return enc.ids, enc.tokens, enc.truncated

    def prediction_line(self, result: dict) -> str:
        """One result as ``predict`` prints it without ``--json``."""
        raise NotImplementedError

    def generation_options(
        self, run: LoadedRun, texts: Sequence[str], options: GenerationOptions
    ) -> GenerationOptions:
        """``options`` checked against the run and the texts (defaults filled in): a
        :class:`~scratchlm.errors.ConfigError` for a bad option, a :class:`~scratchlm.errors.LimitError`
        for a length the model cannot take (the server answers them before queueing the texts)."""
        raise DataError(f"{run.path}: a {self.name} run does not generate text")

    def generate(
        self,
        run: LoadedRun,
        texts: Sequence[str],
        options: GenerationOptions,
        *,
        on_event: Callable[[int, str, str | None], None] | None = None,
    ) -> list[dict]:
        """Text generated after each prompt (or from each source): ``{"prompt", "text", "tokens",
        "prompt_tokens", "finish_reason"}`` per text; ``on_event(row, piece, finish_reason)`` as the text
        comes (``scratchlm generate``, ``/v1/generate``). A :class:`~scratchlm.errors.LimitError` for a
        prompt the model cannot take with ``options.max_new_tokens`` more."""
        raise DataError(f"{run.path}: a {self.name} run does not generate text")

    def prediction_note(self, results: list[dict], run: LoadedRun) -> str | None:
        """A line for stderr under the predictions (texts truncated), or ``None``."""
        truncated = sum(bool(r.get("truncated")) for r in results)
        if truncated:
            return f"note: {truncated} text(s) truncated to {run.max_seq_len} tokens"
        return None

    def example_input(self, batch: int, seq_len: int, vocab_size: int) -> torch.Tensor:
        """``scratchlm summary``: an input its model reads (random token ids ``(batch, seq_len)``)."""
        return torch.randint(
            min(5, vocab_size - 1), vocab_size, (batch, min(seq_len, self.cfg.data.max_seq_len))
        )

    def placeholder_labels(self, num_classes: int) -> tuple[list[str], dict]:
        """``scratchlm summary CONFIG``: label names to build the model with, without reading the data,
        and ``data`` fields to set (a built-in tagging dataset's scheme)."""
        return [f"class_{i}" for i in range(num_classes)], {}

    def summary_note(self, labels: list[str], num_classes: int) -> str:
        return f"{num_classes} classes assumed"
