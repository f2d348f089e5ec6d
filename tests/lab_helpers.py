"""Tiny random-weight runs (written in about a second each) that the lab's tests share (tests/viz,
tests/serve, tests/cli): a classifier
(character pairs, sinusoidal positions added), its RoPE + LayerNorm twin, a concat + projection
classifier, an LSTM tagger and a causal LM."""

from __future__ import annotations

from pathlib import Path

from scratchlm.config import config_from_dict
from scratchlm.serve.synthetic import TINY_TEXTS, write_random_run, write_tiny_run, write_tiny_tagger_run


def tiny_causal_lm(directory: Path) -> Path:
    cfg = config_from_dict(
        {
            "data": {"task": "causal_lm", "dataset": "zh-reviews", "max_seq_len": 24},
            "model": {
                "embed_dim": 16,
                "encoder": {"num_layers": 1, "num_heads": 2, "ffn_dim": 32},
                "bigram_buckets": 0,
            },
        }
    )
    texts = [t for ts in TINY_TEXTS.values() for t in ts]
    return write_random_run(directory / "causal-lm", cfg, texts, [])


def tiny_seq2seq(directory: Path) -> Path:
    """An encoder-decoder run (the lab refuses it)."""
    cfg = config_from_dict(
        {
            "data": {"task": "seq2seq", "dataset": "cmudict-g2p", "max_seq_len": 24},
            "model": {"embed_dim": 16, "encoder": {"num_layers": 1, "num_heads": 2, "ffn_dim": 32}},
        }
    )
    outputs = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "HH", "AH"]
    return write_random_run(directory / "seq2seq", cfg, ["hello", "world"], outputs)


def write_lab_runs(root: Path) -> dict[str, Path]:
    """name -> run directory under ``root`` (the directory's name is the name)."""
    made = {
        "sinusoidal": write_tiny_run(root / "a"),
        "rope": write_tiny_run(root / "b", positional={"kind": "rope"}, embedding_norm="layernorm"),
        "concat": write_tiny_run(root / "c", positional={"combine": "concat", "combine_activation": "gelu"}),
        "tagger": write_tiny_tagger_run(root / "d"),
        "causal-lm": tiny_causal_lm(root),
    }
    out = {}
    for name, path in made.items():
        target = root / name
        if path != target:
            path.rename(target)
        out[name] = target
    return out
