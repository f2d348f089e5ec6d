"""Fine-tuning from a pretraining run: ``model.init: RUN_DIR`` where RUN_DIR is a masked-LM run
or a ``scratchlm transplant`` output directory (a pretrained encoder with a new vocabulary).

The new run takes the pretraining run's tokenizer (the token ids must mean the same) and copies its
input layer and encoder (every tensor named ``input.*`` or ``encoder.*``) into the classifier or tagger;
the head starts fresh. Keys and shapes are checked first, as nanoGPT's ``from_pretrained`` does: a
missing, extra or differently shaped tensor is an error that lists them and the ``model.*`` settings that
differ between the two configs, and nothing is copied. One exception: a hashed character-pair table
(``model.bigram_buckets``) may be added to a run that had none, since it starts at zero and leaves what
the model computes unchanged. Then ``model.freeze_embeddings`` and
``model.freeze_layers`` switch off the gradient of the token embedding and of the bottom encoder layers;
``train.layer_lr_decay`` (:mod:`scratchlm.training.optim`) gives lower layers smaller learning rates.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import torch
from torch import nn

from scratchlm.config import ModelConfig, RunConfig
from scratchlm.errors import ConfigError
from scratchlm.tasks.base import Task
from scratchlm.tasks.registry import TASKS, make_task, task_class

log = logging.getLogger("scratchlm.train")

TRANSPLANT = "transplant"
"""What run.json says in a ``scratchlm transplant`` output directory (a model, not a trained task)."""

BODY = ("input.", "encoder.")
"""The parts a fine-tuned model takes from the pretrained one (the same names in every task model)."""

ADDED_AT_ZERO = ("input.bigram_embedding.", "input.lexicon_embedding.")
"""Tables that start at zero (the hashed character pairs), so a model with them computes exactly what it
computes without them: a run that lacks them fine-tunes into a model that has them (they start at zero)."""

CHECKPOINT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin")
"""With a config.json (or a sentence-transformers modules.json) and no run.json: a downloaded checkpoint."""

ARCHITECTURE_EXEMPT = {"init", "dropout", "encoder.attention_dropout", "embedding_dropout", "pooling", "head"}
ARCHITECTURE_EXEMPT |= {"freeze_embeddings", "freeze_layers", "freeze_embedding_rows", "vectors_std"}


def pretraining_run(init: str) -> Path | None:
    """``init`` as a pretraining run directory, or ``None`` when it names something else (vectors)."""
    path = Path(init)
    marker = path / "run.json"
    if init in ("normal", "word2vec"):
        return None
    if not marker.is_file():
        weights = any((path / n).is_file() for n in CHECKPOINT_FILES)
        if (path / "modules.json").is_file() or ((path / "config.json").is_file() and weights):
            raise ConfigError(
                f"model.init {init} is a Hugging Face checkpoint folder; make it a model directory first: "
                f"scratchlm tokenizer import {init} --out TOK, then scratchlm transplant --source {init} "
                "--target-tokenizer TOK --strategy exact --max-seq-len N --out OUT, and set model.init=OUT "
                "(docs/checkpoints.md)"
            )
        return None
    meta = json.loads(marker.read_text(encoding="utf-8"))
    if meta.get("task") == TRANSPLANT:
        return path
    if meta.get("task") not in TASKS:
        return None
    task = task_class(meta["task"])
    if task.pretrains and not task.bidirectional:
        raise ConfigError(
            f"model.init {init}: a causal-LM run ({task.name}) attends in one direction; fine-tuning starts "
            "from a pretraining run whose encoder attends in both directions, as the classifier's and the "
            "tagger's do"
        )
    return path if task.pretrains else None


def pretrained_tokenizer(cfg: RunConfig, task: Task | None = None):
    """The pretraining run's tokenizer when ``model.init`` names one (checked by ``task``, by default the
    one ``cfg`` names), else ``None``."""
    run = pretraining_run(cfg.model.init)
    if run is None:
        return None
    from scratchlm.tokenizers import load_tokenizer

    tokenizer = load_tokenizer(run / "tokenizer")
    (task or make_task(cfg)).check_tokenizer(tokenizer, run)
    return tokenizer


def _config_differences(mine: ModelConfig, theirs: ModelConfig) -> list[str]:
    from scratchlm.config.migrate import flatten

    here, there = dict(flatten(dataclasses.asdict(mine))), dict(flatten(dataclasses.asdict(theirs)))
    return [
        f"{k}: {there[k]!r} there, {here[k]!r} here"
        for k in here
        if k not in ARCHITECTURE_EXEMPT and here[k] != there[k]
    ]


def load_pretrained_body(model: nn.Module, run: Path) -> dict:
    """Copy the run's ``input.*`` and ``encoder.*`` tensors into ``model`` after strict key and shape
    checks; returns a report for the log."""
    from scratchlm.io import load_tensors
    from scratchlm.training.run_dir import read_run_config

    weights = run / "model.safetensors"
    if not weights.is_file():
        raise ConfigError(f"model.init {run}: the pretraining run has no model.safetensors (unfinished?)")
    theirs = {k: v for k, v in load_tensors(weights).items() if k.startswith(BODY)}
    mine = {k: v for k, v in model.state_dict().items() if k.startswith(BODY)}
    missing = sorted(set(mine) - set(theirs))
    added = [k for k in missing if k.startswith(ADDED_AT_ZERO)]
    missing = [k for k in missing if k not in added]
    extra = sorted(set(theirs) - set(mine))
    shapes = [
        f"{k} {tuple(theirs[k].shape)} there, {tuple(mine[k].shape)} here"
        for k in sorted(set(mine) & set(theirs))
        if theirs[k].shape != mine[k].shape
    ]
    if missing or extra or shapes:
        parts = []
        for title, items in (
            ("missing from the run", missing),
            ("extra in the run", extra),
            ("shape", shapes),
        ):
            if items:
                more = f" (+{len(items) - 8} more)" if len(items) > 8 else ""
                parts.append(f"{title}: {', '.join(items[:8])}{more}")
        diff = _config_differences(model.cfg, read_run_config(run).model)
        hint = f"; model settings that differ: {'; '.join(diff)}" if diff else ""
        pos = "input.positional.weight"
        if pos in theirs and pos in mine and theirs[pos].shape != mine[pos].shape:
            hint += f"; its learned positions cover data.max_seq_len={theirs[pos].shape[0]}: set that"
        raise ConfigError(
            f"model.init {run}: its input layer and encoder do not fit this model: {' | '.join(parts)}{hint}"
        )
    with torch.no_grad():
        for key, value in theirs.items():
            mine[key].copy_(value)
    report = {
        "init": f"pretrained run {run}",
        "tensors": len(theirs),
        "parameters": int(sum(v.numel() for v in theirs.values())),
    }
    log.info(
        "input layer and encoder from %s: %d tensors, %s values; the head starts fresh",
        run,
        report["tensors"],
        f"{report['parameters']:,}",
    )
    if added:
        report["added_at_zero"] = added
        log.info(
            "added to it, starting at zero (the model computes what it computed): %s, %s values",
            ", ".join(added),
            f"{sum(mine[k].numel() for k in added):,}",
        )
    return report


def apply_freezing(model: nn.Module, cfg: ModelConfig) -> None:
    """``freeze_embeddings``: the token embedding (every table of it); ``freeze_layers``: the bottom N
    encoder layers."""
    if cfg.freeze_embeddings:
        model.token_embedding.requires_grad_(False)
    if cfg.freeze_layers:
        layers = getattr(model.encoder, "layers", None)
        if layers is None or cfg.freeze_layers > len(layers):
            have = "no layer list" if layers is None else f"{len(layers)} layers"
            raise ConfigError(f"model.freeze_layers={cfg.freeze_layers}: the encoder has {have}")
        for layer in layers[: cfg.freeze_layers]:
            layer.requires_grad_(False)
