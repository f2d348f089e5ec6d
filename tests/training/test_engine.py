"""Engine options: activation checkpointing gives the same gradients, torch.compile the same losses,
and the MFU of the train log follows 6N + 12 L d s."""

from __future__ import annotations

import json

import pytest
import torch

from cli_helpers import ROOT, TINY
from scratchlm.config import load_config
from scratchlm.errors import ConfigError
from scratchlm.models.masked_lm import MaskedLanguageModel
from scratchlm.training import engine
from scratchlm.training.loop import train

QUICK = ["train.num_threads=1", "train.progress=false", "data.max_train_examples=64"]
QUICK += ["data.max_eval_examples=16", "train.batch_size=16", "model.bigram_buckets=0"]


def _grads(checkpointing: bool) -> dict[str, torch.Tensor]:
    cfg = load_config(
        ROOT / "configs" / "pd1998_mlm.yaml", ["model.embed_dim=32", "model.encoder.ffn_dim=64"]
    ).model
    torch.manual_seed(0)
    model = MaskedLanguageModel(cfg, vocab_size=50, max_seq_len=16)
    engine.apply_activation_checkpointing(model, checkpointing)
    model.train()  # dropout on: the recomputation must replay the same dropout masks
    ids = torch.randint(5, 50, (3, 12))
    real = torch.ones(3, 12, dtype=torch.bool)
    real[1, 9:] = False
    targets = torch.where(torch.rand(3, 12) < 0.3, ids, torch.full_like(ids, -100))
    targets[0, 0] = ids[0, 0]
    torch.manual_seed(1)
    model.loss(ids, real, targets).backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def test_activation_checkpointing_gives_the_same_gradients():
    plain, recomputed = _grads(False), _grads(True)
    assert plain.keys() == recomputed.keys() and len(plain) > 10
    for name in plain:
        torch.testing.assert_close(recomputed[name], plain[name], rtol=1e-5, atol=1e-7, msg=name)


def test_activation_checkpointing_needs_a_transformer(tmp_path):
    cfg = load_config(TINY, [*QUICK, "model.encoder.kind=gru", "train.activation_checkpointing=true"])
    with pytest.raises(ConfigError, match="recomputes Transformer layers"):
        train(cfg, tmp_path / "run")


def test_flops_per_token_and_peak():
    # bert-base-shaped: 85M matmul parameters, 12 layers of 768, sequence 128
    assert engine.flops_per_token(85_000_000, 12, 768, 128) == 6 * 85e6 + 12 * 12 * 768 * 128
    cfg = load_config(TINY, ["train.peak_tflops=2.5"]).train
    assert engine.peak_flops(cfg, "cpu") == 2.5e12
    assert engine.peak_flops(load_config(TINY, []).train, "cpu") is None  # no MFU on CPU unless given
    model = MaskedLanguageModel(load_config(TINY, []).model, vocab_size=100, max_seq_len=32)
    tables = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Embedding))
    assert engine.matmul_parameters(model) == sum(p.numel() for p in model.parameters()) - tables
    assert engine.transformer_shape(model) == (model.cfg.encoder.num_layers, model.cfg.embed_dim)


BASE = [*QUICK, "train.max_steps=3", "model.dropout=0", "model.encoder.attention_dropout=0"]
BASE += ["model.embedding_dropout=0"]


def _train_records(run):
    lines = (run / "train_log.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["event"] == "train"]


def test_train_log_has_mfu_only_with_a_peak(tmp_path):
    train(load_config(TINY, [*BASE, "train.peak_tflops=0.1"]), tmp_path / "run")
    (record,) = _train_records(tmp_path / "run")
    assert 0 < record["mfu"] < 1 and record["tokens_per_s"] > 0


@pytest.mark.slow
def test_compile_matches_eager(tmp_path):
    eager = train(load_config(TINY, BASE), tmp_path / "eager")
    compiled = train(
        load_config(TINY, [*BASE, "train.compile=true", "train.compile_backend=aot_eager"]),
        tmp_path / "compiled",
    )
    (e,), (c,) = _train_records(tmp_path / "eager"), _train_records(tmp_path / "compiled")
    assert "mfu" not in e  # CPU without train.peak_tflops: tokens/s only
    assert c["loss"] == pytest.approx(e["loss"], rel=1e-5)
    assert compiled["dev"]["accuracy"] == eager["dev"]["accuracy"]
