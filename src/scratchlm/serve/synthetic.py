"""A run directory with a recipe's architecture and random weights, written in about a second.

For tests and throughput benchmarks of serving and export: speed and export parity do not depend on
what the weights learned, and training even a tiny model costs seconds. The layout is exactly what
``scratchlm train`` writes (``run.json``, ``config.yaml``, ``tokenizer/``, ``model.safetensors``), so
``load_run`` reads it like any other run. Every weight is random, the zero-initialised ones
(the hashed bigram table) included, so parity checks exercise every path.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from scratchlm.config import RunConfig, dump_config
from scratchlm.io import atomic_write_json, atomic_write_text, save_tensors
from scratchlm.tasks.classification import ClassificationTask
from scratchlm.tasks.tagging import TaggingTask
from scratchlm.tokenizers import CharTokenizer
from scratchlm.training.run_dir import RUN_MARKER, build_model, run_metadata


@torch.no_grad()
def write_random_run(
    out: str | Path,
    cfg: RunConfig,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    seed: int = 0,
    scale: float = 0.3,
    meta: dict | None = None,
) -> Path:
    """Write a run to ``out``: a character vocabulary from ``texts``, the model of ``cfg.model`` with
    weights drawn from ``normal(0, scale)`` (LayerNorms kept at 1/0, padding rows at zero); ``meta``:
    task-specific entries of ``run.json`` (a tagger's ``scheme`` and ``units``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tokenizer = CharTokenizer.train(texts, normalize=cfg.data.normalize, lowercase=cfg.data.lowercase)
    torch.manual_seed(seed)
    model = build_model(cfg, len(tokenizer.vocab), len(labels), tokenizer.vocab.pad_id, list(labels))
    for name, param in model.named_parameters():
        if "norm" not in name.split(".")[-2]:
            param.normal_(0.0, scale)
    model.token_embedding.weight[tokenizer.vocab.pad_id].zero_()
    bigrams = model.input.bigram_embedding
    if bigrams is not None:
        bigrams.embedding.weight[0].zero_()
    lexicon = model.input.lexicon_embedding
    if lexicon is not None:
        lexicon.set_words(_text_words(tokenizer, texts, lexicon.max_len, len(lexicon.group_names)))
    tokenizer.save(out / "tokenizer")
    atomic_write_text(out / "config.yaml", dump_config(cfg))
    atomic_write_json(out / RUN_MARKER, run_metadata(list(labels), tokenizer, cfg, **(meta or {})))
    save_tensors(out / "model.safetensors", model.state_dict())
    return out


def _text_words(
    tokenizer, texts: Sequence[str], max_len: int, num_groups: int
) -> list[tuple[list[int], int]]:
    """A dictionary for a random run's lexicon: the texts' windows of 2..max_len characters that start at
    every third character, each in group ``1 + start % (num_groups - 1)`` beside "any word", so that
    words of every length and group match and most windows do not."""
    words = []
    for text in texts:
        ids = tokenizer.encode(text, add_cls=False).ids
        for start in range(0, len(ids), 3):
            for length in range(2, max_len + 1):
                if start + length <= len(ids):
                    group = 1 + start % (num_groups - 1) if num_groups > 1 else 0
                    words.append((ids[start : start + length], 1 | (1 << group)))
    return words


TINY_TEXTS = {
    "positive": [
        "这本书写得太好了，强烈推荐！",
        "物流很快，包装也不错。",
        "非常满意，下次还会再来。",
        "质量好，价格便宜。",
    ],
    "negative": [
        "质量很差，用了两天就坏了。",
        "内容空洞，浪费时间。",
        "客服态度恶劣，不会再买。",
        "太贵了，不值这个价。",
    ],
}


def _merged(base: dict, changes: dict) -> dict:
    """``base`` with ``changes``; a nested section (a dict) is updated key by key, not replaced."""
    out = dict(base)
    for key, value in changes.items():
        out[key] = {**out[key], **value} if isinstance(value, dict) and key in out else value
    return out


def write_tiny_run(directory: str | Path, *, max_seq_len: int = 24, seed: int = 0, **model) -> Path:
    """``directory/run``: a 16-wide, 1-layer classifier (``model`` overrides its config keys, a nested
    section's keys one by one: ``encoder={"num_layers": 2}``) with random weights, and ``directory/{train,dev}.jsonl``, the 8 labelled texts its config reads."""
    import json

    from scratchlm.config import config_from_dict

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rows = [{"text": t, "label": label} for label, texts in TINY_TEXTS.items() for t in texts]
    for name in ("train", "dev"):
        (directory / f"{name}.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
        )
    cfg = config_from_dict(
        {
            "data": {
                "task": ClassificationTask.name,
                "dataset": str(directory / "train.jsonl"),
                "dev_file": str(directory / "dev.jsonl"),
                "max_seq_len": max_seq_len,
            },
            "model": _merged(
                {
                    "embed_dim": 16,
                    "encoder": {"num_layers": 1, "num_heads": 2, "ffn_dim": 32},
                    "pooling": "mean",
                    "bigram_buckets": 97,
                },
                model,
            ),
        }
    )
    texts = [r["text"] for r in rows] + ["abcdefghijklmnopqrstuvwxyz ABC 123"]
    return write_random_run(directory / "run", cfg, texts, sorted(TINY_TEXTS), seed=seed)


BMES = ["B", "M", "E", "S"]


def write_tiny_tagger_run(
    directory: str | Path, *, max_seq_len: int = 24, seed: int = 0, head: str = "softmax", **model
) -> Path:
    """``directory/run``: a 16-wide word segmenter (BMES tags, character units; ``model`` overrides its
    config keys, ``head="crf"`` adds a CRF with the scheme's transition rules) with random weights, the
    CRF's start, transition and end scores included."""
    from scratchlm.config import config_from_dict

    cfg = config_from_dict(
        {
            "data": {
                "task": TaggingTask.name,
                "dataset": "pd1998-cws",
                "tag_scheme": "bmes",
                "max_seq_len": max_seq_len,
            },
            "model": _merged(
                {
                    "embed_dim": 16,
                    "encoder": {"kind": "lstm", "num_layers": 1, "num_heads": 2, "ffn_dim": 32},
                    "positional": {"kind": "none"},
                    "head": head,
                    "bigram_buckets": 97,
                },
                model,
            ),
        }
    )
    texts = [t for ts in TINY_TEXTS.values() for t in ts] + ["abcdefghijklmnopqrstuvwxyz ABC 123"]
    return write_random_run(
        Path(directory) / "run", cfg, texts, BMES, seed=seed, meta={"scheme": "bmes", "units": "chars"}
    )
