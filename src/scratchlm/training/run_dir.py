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
from scratchlm.errors import ConfigError, RunDirError, ScratchLMError
from scratchlm.models import TextClassifier, TokenTagger
from scratchlm.tokenizers import CharTokenizer, load_tokenizer

RUN_MARKER = "run.json"

TASK_NAMES = {
    "classify": "classification",
    "tag": "tagging",
    "mlm": "masked_lm",
    "clm": "causal_lm",
    "seq2seq": "seq2seq",
}
"""``data.task`` -> the task a run records in run.json."""


def build_model(
    cfg: RunConfig, vocab_size: int, num_classes: int, pad_id: int, labels: list[str] | None = None
) -> TextClassifier | TokenTagger:
    """The model ``cfg.data.task`` asks for (``auto`` must be resolved first). A tagger with a CRF head
    gets its scheme's transition rules from the tag names (``labels``) when the scheme is known."""
    task = cfg.data.task
    if task == "mlm":
        from scratchlm.models.masked_lm import MaskedLanguageModel

        return MaskedLanguageModel(
            cfg.model, vocab_size=vocab_size, max_seq_len=cfg.data.max_seq_len, pad_id=pad_id
        )
    if task == "seq2seq":
        from scratchlm.models.seq2seq import Seq2SeqModel

        return Seq2SeqModel(
            cfg.model,
            vocab_size=vocab_size,
            target_vocab_size=num_classes,
            max_seq_len=cfg.data.max_seq_len,
            pad_id=pad_id,
        )
    if task == "clm":
        from scratchlm.models.causal_lm import CausalLanguageModel

        return CausalLanguageModel(
            cfg.model, vocab_size=vocab_size, max_seq_len=cfg.data.max_seq_len, pad_id=pad_id
        )
    if task == "tag":
        rules = None
        if labels is not None and cfg.data.tag_scheme != "auto":
            from scratchlm.data.schemes import get_scheme

            rules = get_scheme(cfg.data.tag_scheme).transition_rules(labels)
        return TokenTagger(
            cfg.model,
            vocab_size=vocab_size,
            num_tags=num_classes,
            max_seq_len=cfg.data.max_seq_len,
            pad_id=pad_id,
            transition_rules=rules,
        )
    if task != "classify":
        raise ConfigError(f"data.task={task!r}: resolve it to classify or tag before building a model")
    if cfg.model.head != "softmax":
        raise ConfigError(f"model.head={cfg.model.head} is a tagger head; a classifier uses softmax")
    return TextClassifier(
        cfg.model,
        vocab_size=vocab_size,
        num_classes=num_classes,
        max_seq_len=cfg.data.max_seq_len,
        pad_id=pad_id,
    )


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
    model: TextClassifier | TokenTagger
    meta: dict

    @property
    def max_seq_len(self) -> int:
        return self.config.data.max_seq_len

    @property
    def task(self) -> str:
        """``classification`` or ``tagging``."""
        return self.meta.get("task", "classification")


def read_run_config(path: Path) -> RunConfig:
    try:
        return config_from_dict(read_yaml(path / "config.yaml"))
    except ScratchLMError as exc:
        raise RunDirError(f"{path / 'config.yaml'}: {exc}") from None


def load_run(path: str | Path, *, device: str = "cpu") -> LoadedRun:
    from safetensors.torch import load_file

    path = check_run_dir(path)
    meta = json.loads((path / RUN_MARKER).read_text(encoding="utf-8"))
    cfg = read_run_config(path)
    if cfg.data.task == "auto":  # runs written before data.task existed are classifiers
        task = "tag" if meta.get("task") == "tagging" else "classify"
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, task=task))
    tokenizer = load_tokenizer(path / "tokenizer")
    labels = list(meta["labels"])
    model = build_model(cfg, len(tokenizer.vocab), len(labels), tokenizer.vocab.pad_id, labels)
    state = load_file(str(path / "model.safetensors"), device=device)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise RunDirError(
            f"{path / 'model.safetensors'}: weights do not match the config "
            f"(missing: {missing[:3]}, unexpected: {unexpected[:3]})"
        )
    model.to(device).eval()
    return LoadedRun(path, cfg, tokenizer, labels, model, meta)


def run_metadata(labels: list[str], tokenizer: CharTokenizer, cfg: RunConfig, **extra) -> dict:
    """``extra``: task-specific entries (a tagger's ``scheme`` and ``units``)."""
    import platform

    import scratchlm

    return {
        "format": "scratchlm-run/1",
        "task": TASK_NAMES.get(cfg.data.task, "classification"),
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
