"""A run directory: what training writes and what eval / predict / summary read.

```
RUN/
  run.json            marker + metadata (task, labels or tags, vocab size, max_seq_len, versions)
  config.yaml         the resolved config
  tokenizer/          tokenizer.json + vocab.txt
  model.safetensors   the weights eval and predict use (best on dev)
  metrics.json        dev and test metrics of those weights
  train_log.jsonl     one JSON object per log event
  plots/*.png         training curves, confusion matrix (classifiers)
  checkpoints/step-NNNNNN/   full training state
```
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from scratchlm.config import RunConfig, config_from_dict, read_yaml
from scratchlm.errors import RunDirError, ScratchLMError
from scratchlm.tasks.base import Task
from scratchlm.tasks.registry import DEFAULT, make_task, task_of_run
from scratchlm.tokenizers import CharTokenizer, load_tokenizer

RUN_MARKER = "run.json"


def build_model(
    cfg: RunConfig, vocab_size: int, num_classes: int, pad_id: int, labels: list[str] | None = None
) -> torch.nn.Module:
    """The model of the task ``cfg.data.task`` names (``auto`` resolved from the data's kind)."""
    return make_task(cfg).build_model(vocab_size, num_classes, pad_id, labels)


def is_run_dir(path: str | Path) -> bool:
    return (Path(path) / RUN_MARKER).is_file()


def check_run_dir(path: str | Path, *, need_weights: bool = True) -> Path:
    path = Path(path)
    if not path.exists():
        raise RunDirError(
            f"{path}: no such run directory (train one with: scratchlm train CONFIG --out {path})"
        )
    if not path.is_dir() or not is_run_dir(path):
        raise RunDirError(
            f"{path}: not a scratchlm run directory (no {RUN_MARKER}); give the --out of a finished `scratchlm train`"
        )
    if need_weights and not (path / "model.safetensors").is_file():
        raise RunDirError(
            f"{path}: the run has no model.safetensors yet (training did not finish an evaluation); "
            f"resume it with: scratchlm train --resume {path}"
        )
    return path


@dataclass
class LoadedRun:
    path: Path
    config: RunConfig
    tokenizer: CharTokenizer
    labels: list[str]
    model: torch.nn.Module
    meta: dict

    @property
    def max_seq_len(self) -> int:
        return self.config.data.max_seq_len

    @property
    def task(self) -> str:
        """The task's name, as run.json records it."""
        return self.meta.get("task", DEFAULT)

    def handler(self, **options) -> Task:
        """The run's task (:mod:`scratchlm.tasks`), with prediction options (``beam_size``) applied."""
        return task_of_run(self.meta, self.config, self.path).with_options(**options)


def read_run_config(path: Path) -> RunConfig:
    try:
        return config_from_dict(read_yaml(path / "config.yaml"))
    except ScratchLMError as exc:
        where = path / "config.yaml"
        raise RunDirError(str(exc) if str(where) in str(exc) else f"{where}: {exc}") from None


def _damaged(file: Path, exc: BaseException | str) -> RunDirError:
    reason = exc if isinstance(exc, str) else (str(exc).splitlines() or [type(exc).__name__])[0]
    return RunDirError(f"{file}: damaged or unreadable ({reason}); restore it, or train the run again")


def read_run_meta(path: Path) -> dict:
    """``run.json`` of run ``path``, checked to be a JSON object with ``labels`` (one line naming the file
    when it is cut short or edited by hand)."""
    file = path / RUN_MARKER
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _damaged(file, exc) from None
    if not isinstance(meta, dict) or not isinstance(meta.get("labels"), list):
        raise _damaged(file, "not a JSON object with a list of labels")
    return meta


def load_run_tokenizer(path: Path, meta: dict, task: Task | None = None):
    """The run's tokenizer (read by ``task``: an image run's is its image processor), its vocabulary
    checked against the size ``run.json`` recorded (a cut-short ``vocab.txt`` would otherwise surface as
    a shape error deep in the model)."""
    try:
        tokenizer = (task.load_tokenizer if task is not None else load_tokenizer)(path / "tokenizer")
    except ScratchLMError as exc:
        where = path / "tokenizer"
        raise RunDirError(str(exc) if str(where) in str(exc) else f"{where}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a damaged file in a library's format
        raise _damaged(path / "tokenizer", exc) from None
    expected = meta.get("vocab_size")
    if isinstance(expected, int) and len(tokenizer.vocab) != expected:
        raise _damaged(
            path / "tokenizer" / "vocab.txt",
            f"{len(tokenizer.vocab)} tokens, but run.json records {expected}",
        )
    return tokenizer


def load_run_weights(model: torch.nn.Module, file: Path, device: str) -> None:
    """``model.safetensors`` into ``model``; a damaged or mismatched file is one line naming it."""
    from safetensors.torch import load_file

    try:
        state = load_file(str(file), device=device)
    except Exception as exc:  # noqa: BLE001 - safetensors' own error type for a cut-short file
        raise _damaged(file, exc) from None
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as exc:  # shapes that differ from the config's model
        problem = str(exc).split("\n")[-1].strip()
    else:
        problem = f"missing: {missing[:3]}, unexpected: {unexpected[:3]}" if missing or unexpected else ""
        if (
            unexpected
            and not missing
            and all(k.startswith("target_input.bigram_embedding.") for k in unexpected)
        ):
            raise RunDirError(
                f"{file}: a seq2seq run trained by an earlier version with model.bigram_buckets on the target "
                "side too, where the pair vector at position i holds the next target token, the one the decoder "
                "must predict: it learned to read the answer and cannot generate without it; train it again "
                "(the decoder now has no pair vectors)"
            )
    if problem:
        raise RunDirError(
            f"{file}: weights do not match the model {file.parent / 'config.yaml'} describes ({problem}); "
            "one of the two is damaged or was edited"
        )


def load_run(path: str | Path, *, device: str = "cpu") -> LoadedRun:
    path = check_run_dir(path)
    meta = read_run_meta(path)
    cfg = read_run_config(path)
    task = task_of_run(meta, cfg, path / RUN_MARKER)
    if cfg.data.task != task.name:  # runs written before data.task existed say auto
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, task=task.name))
        task = type(task)(cfg)
    tokenizer = load_run_tokenizer(path, meta, task)
    labels = [str(label) for label in meta["labels"]]
    model = task.build_model(len(tokenizer.vocab), len(labels), tokenizer.vocab.pad_id, labels)
    load_run_weights(model, path / "model.safetensors", device)
    model.to(device).eval()
    return LoadedRun(path, cfg, tokenizer, labels, model, meta)


def run_metadata(labels: list[str], tokenizer: CharTokenizer, cfg: RunConfig, **extra) -> dict:
    """``cfg.data.task`` resolved; ``extra``: task-specific entries (a tagger's ``scheme`` and ``units``)."""
    import platform

    import scratchlm

    return {
        "format": "scratchlm-run/1",
        "task": cfg.data.task,
        **extra,
        "labels": labels,
        "vocab_size": len(tokenizer.vocab),
        "max_seq_len": cfg.data.max_seq_len,
        "versions": {
            "scratchlm": scratchlm.__version__,
            "torch": torch.__version__,
            "python": platform.python_version(),
        },
    }
