"""What the training loop, ``eval`` and ``summary`` need to know about a task, behind one interface:
load and encode the data, batch it, compute the loss, evaluate, report.

- :class:`ClassificationTask` — one label per text: cross-entropy, accuracy / macro-F1, confusion matrix.
- :class:`TaggingTask` — one tag per unit: token cross-entropy or CRF likelihood, strict span F1.
- :class:`~scratchlm.tasks.masked_lm.MaskedLMTask` — masked-LM pretraining on raw text.
- :class:`~scratchlm.tasks.seq2seq.Seq2SeqTask` — source text to output tokens: WER / PER.
- :class:`~scratchlm.tasks.causal_lm.CausalLMTask` — causal-LM (next-token) pretraining on raw text.

``data.task`` picks one (:func:`make_task`; ``auto`` looks at the dataset), and :meth:`load` returns the
config with ``data.task`` (and a tagger's ``data.tag_scheme``) resolved, which is what a run saves.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from scratchlm.config import RunConfig
from scratchlm.data import Example, load_classification_data
from scratchlm.data.collate import Batch, make_batch, make_tag_batch
from scratchlm.errors import DataError
from scratchlm.tasks.metrics import format_metrics, format_span_metrics

log = logging.getLogger("scratchlm.train")


@dataclass
class EncodedSplit:
    seqs: list[list[int]]
    labels: list[int]
    truncated: int = 0


def encode_split(
    tokenizer, examples: list[Example], label_ids: dict[str, int], max_len: int, truncation: str = "end"
):
    out = EncodedSplit([], [])
    for ex in examples:
        enc = tokenizer.encode(ex.text, max_len=max_len, truncation=truncation)
        out.seqs.append(enc.ids)
        out.labels.append(label_ids[ex.label])
        out.truncated += enc.truncated > 0
    return out


def _with_data(cfg: RunConfig, **changes) -> RunConfig:
    return dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, **changes))


class ClassificationTask:
    name = "classification"
    score_key = "accuracy"
    """The dev metric that picks the saved weights and drives early stopping."""
    confusion_plot = True
    """Whether ``plots`` draws a confusion matrix (the tasks built on this one have none)."""

    def __init__(self, cfg: RunConfig):
        self.cfg = cfg
        self.data = None

    def load(self) -> RunConfig:
        self.data = load_classification_data(self.cfg.data)
        self.cfg = _with_data(self.cfg, task="classify")
        return self.cfg

    @property
    def labels(self) -> list[str]:
        return self.data.labels

    def texts(self, examples: list) -> list[str]:
        return [ex.text for ex in examples]

    def build_tokenizer(self, examples: list):
        from scratchlm.tokenizers import build_tokenizer

        return build_tokenizer(self.cfg.data, self.texts(examples))

    def metadata(self, examples: list) -> dict:
        return {}

    def read_file(self, path: str, labels: list[str]) -> list[Example]:
        from scratchlm.data.files import read_examples

        d = self.cfg.data
        examples = read_examples(path, text_field=d.text_field, label_field=d.label_field)
        for ex in examples:
            if ex.label not in labels:
                raise DataError(
                    f"{ex.source}: label {ex.label!r} is not one the model knows ({', '.join(labels)})"
                )
        return examples

    def encode(self, tokenizer, examples: list, labels: list[str]) -> EncodedSplit:
        ids = {label: i for i, label in enumerate(labels)}
        return encode_split(tokenizer, examples, ids, self.cfg.data.max_seq_len, self.cfg.data.truncation)

    def encoding_note(self, enc: EncodedSplit) -> str | None:
        if enc.truncated:
            return f"{enc.truncated} of {len(enc.seqs)} texts truncated to data.max_seq_len={self.cfg.data.max_seq_len} tokens"
        return None

    def extra_metrics(self, enc: EncodedSplit) -> dict:
        return {"truncated": enc.truncated}

    def batch(self, enc: EncodedSplit, index: list[int], pad_id: int) -> Batch:
        return make_batch(enc.seqs, enc.labels, index, pad_id)

    def loss_weight(self, batch: Batch) -> int:
        """How many units :meth:`loss` averages over (texts here; tokens for a tagger): the weight of a
        micro-batch in gradient accumulation and DDP."""
        return len(batch.index)

    def loss(self, model, batch: Batch, device: str) -> torch.Tensor:
        logits = model(batch.ids.to(device), batch.padding_mask.to(device))
        return F.cross_entropy(
            logits, batch.labels.to(device), label_smoothing=self.cfg.train.label_smoothing
        )

    def evaluate(
        self, model, enc: EncodedSplit, labels: list[str], pad_id: int, batch_size: int, device: str
    ) -> dict:
        from scratchlm.predict.batching import evaluate_ids

        return evaluate_ids(model, enc.seqs, enc.labels, labels, pad_id, batch_size, device)

    def evaluate_for_selection(
        self, model, enc, labels: list[str], pad_id: int, batch_size: int, device: str
    ) -> dict:
        """The dev evaluation during training that picks the saved weights (a task may make it cheaper
        than :meth:`evaluate`, which gives the final figures)."""
        return self.evaluate(model, enc, labels, pad_id, batch_size, device)

    def eval_record(self, m: dict) -> dict:
        return {"dev_accuracy": m["accuracy"], "dev_macro_f1": m["macro_f1"]}

    def headline(self, m: dict) -> str:
        return f"accuracy {m['accuracy']:.4f} macro-F1 {m['macro_f1']:.4f}"

    def format(self, m: dict, title: str = "") -> str:
        return format_metrics(m, title)

    def plots(self, out: Path, metrics: dict) -> None:
        from scratchlm.viz import plots

        plots.training_curves(out / "train_log.jsonl", out / "plots" / "training_curves.png")
        if self.confusion_plot:
            plots.confusion_matrix(
                metrics.get("test", metrics["dev"]),
                out / "plots" / "confusion_matrix.png",
                title="test" if "test" in metrics else "dev",
            )


class TaggingTask(ClassificationTask):
    name = "tagging"
    confusion_plot = False
    score_key = "f1"

    def load(self) -> RunConfig:
        from scratchlm.data.tagging import load_tagging_data

        self.data = load_tagging_data(self.cfg.data)
        self.cfg = _with_data(self.cfg, task="tag", tag_scheme=self.data.scheme)
        return self.cfg

    @property
    def scheme(self) -> str:
        return self.data.scheme if self.data is not None else self.cfg.data.tag_scheme

    def build_tokenizer(self, examples: list):
        from scratchlm.tasks.tagging_units import build_unit_tokenizer

        return build_unit_tokenizer(self.cfg.data, [ex.tokens for ex in examples])

    def metadata(self, examples: list) -> dict:
        # raw text is split into characters for predict unless the training tokens were longer
        words = any(not isinstance(ex.tokens, str) for ex in examples)
        return {"scheme": self.scheme, "units": "tokens" if words else "chars"}

    def read_file(self, path: str, labels: list[str]) -> list:
        from scratchlm.data.tagging import check_examples, read_tagged_file

        d = self.cfg.data
        examples = check_examples(
            read_tagged_file(
                path, tokens_field=d.tokens_field, text_field=d.text_field, tags_field=d.tags_field
            ),
            self.scheme,
        )
        known = set(labels)
        for ex in examples:
            for tag in ex.tags:
                if tag not in known:
                    raise DataError(
                        f"{ex.source}: tag {tag!r} is not one the model knows ({', '.join(labels)})"
                    )
        return examples

    def encode(self, tokenizer, examples: list, labels: list[str]):
        from scratchlm.tasks.tagging_units import encode_examples

        return encode_examples(tokenizer, examples, labels, self.cfg.data.max_seq_len)

    def encoding_note(self, enc) -> str | None:
        if enc.cut:
            return (
                f"{enc.cut} of {len(enc.lengths)} sentences longer than data.max_seq_len={self.cfg.data.max_seq_len} "
                f"units, each cut into windows ({len(enc.seqs)} windows in all; nothing is dropped)"
            )
        return None

    def extra_metrics(self, enc) -> dict:
        return {"windows": len(enc.seqs), "sentences_cut": enc.cut}

    def batch(self, enc, index: list[int], pad_id: int) -> Batch:
        return make_tag_batch(enc.seqs, enc.tags, index, pad_id)

    def loss_weight(self, batch: Batch) -> int:
        return int(batch.padding_mask.sum())

    def loss(self, model, batch: Batch, device: str) -> torch.Tensor:
        return model.loss(
            batch.ids.to(device),
            batch.padding_mask.to(device),
            batch.labels.to(device),
            label_smoothing=self.cfg.train.label_smoothing,
        )

    def evaluate(self, model, enc, labels: list[str], pad_id: int, batch_size: int, device: str) -> dict:
        from scratchlm.predict.batching import decode_tags
        from scratchlm.tasks.tagging_units import evaluate_tags, join_windows, span_types

        predicted = join_windows(enc, decode_tags(model, enc.seqs, pad_id, batch_size, device))
        gold = join_windows(enc, enc.tags)
        names = [[labels[i] for i in row] for row in predicted]
        gold_names = [[labels[i] for i in row] for row in gold]
        return evaluate_tags(names, gold_names, self.scheme, span_types(labels, self.scheme))

    def eval_record(self, m: dict) -> dict:
        return {"dev_f1": m["f1"], "dev_precision": m["precision"], "dev_recall": m["recall"]}

    def headline(self, m: dict) -> str:
        return f"F1 {m['f1']:.4f} (P {m['precision']:.4f} R {m['recall']:.4f})"

    def format(self, m: dict, title: str = "") -> str:
        return format_span_metrics(m, title)


def make_task(cfg: RunConfig) -> ClassificationTask:
    """The task ``cfg.data.task`` names (``auto``: from the dataset)."""
    from scratchlm.data.tagging import resolve_task

    task = resolve_task(cfg.data)
    if task == "seq2seq":
        from scratchlm.tasks.seq2seq import Seq2SeqTask

        return Seq2SeqTask(cfg)
    if cfg.data.task == "mlm":
        from scratchlm.tasks.masked_lm import MaskedLMTask

        return MaskedLMTask(cfg)
    if cfg.data.task == "clm":
        from scratchlm.tasks.causal_lm import CausalLMTask

        return CausalLMTask(cfg)
    return TaggingTask(cfg) if task == "tag" else ClassificationTask(cfg)
