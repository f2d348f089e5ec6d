"""Tiny causal LMs for the generation tests (models/, predict/, tasks/): every positional kind, random
weights large enough that outputs differ visibly."""

from __future__ import annotations

import dataclasses

import torch

from cli_helpers import ROOT
from scratchlm.config import load_config
from scratchlm.models.causal_lm import CausalLanguageModel

KINDS = ["sinusoidal", "scaled_sinusoidal", "learned", "rope", "alibi", "t5_bias", "none", "learned_concat"]
"""``model.positional.kind`` values (``_concat``: combined by concatenation and projection)."""


def small_model(kind: str, max_seq_len: int = 24, vocab_size: int = 30) -> CausalLanguageModel:
    """A 2-layer causal LM with ``kind`` positions, in eval mode."""
    torch.manual_seed(0)
    positional = {"kind": kind.removesuffix("_concat")}
    if kind.endswith("_concat"):
        positional["combine"] = "concat"
    cfg = load_config(
        ROOT / "configs" / "pd1998_clm.yaml",
        ["model.embed_dim=16", "model.encoder.num_heads=4", "model.encoder.ffn_dim=32"],
    ).model
    cfg = dataclasses.replace(cfg, positional=dataclasses.replace(cfg.positional, **positional))
    m = CausalLanguageModel(cfg, vocab_size=vocab_size, max_seq_len=max_seq_len)
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.3)
    return m.eval()


def write_tiny_clm_run(directory, *, max_seq_len: int = 24, positional: str = "rope"):
    """``directory/run``: a 16-wide, 1-layer causal LM with random weights over the characters of a few
    Chinese sentences (a served generation model, written in about a second)."""
    from pathlib import Path

    from scratchlm.config import config_from_dict
    from scratchlm.serve.synthetic import TINY_TEXTS, write_random_run

    texts = [t for group in TINY_TEXTS.values() for t in group]
    cfg = config_from_dict(
        {
            "data": {"task": "causal_lm", "corpus": ["pd1998-text"], "max_seq_len": max_seq_len},
            "model": {
                "embed_dim": 16,
                "encoder": {"num_layers": 1, "num_heads": 2, "ffn_dim": 32},
                "positional": {"kind": positional},
            },
        }
    )
    return write_random_run(Path(directory) / "run", cfg, texts, [])
