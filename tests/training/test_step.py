"""One optimizer step: train.grad_accum_steps micro-batches give the same step as one batch, bf16 autocast
trains, tokens/s is logged; the micro-batches cover the batch once."""

from __future__ import annotations

import json

import torch

from cli_helpers import TINY
from scratchlm.config import load_config
from scratchlm.io import load_tensors
from scratchlm.training.loop import train
from scratchlm.training.step import micro_batches

SETS = [
    "train.num_threads=1",
    "train.max_steps=4",
    "data.max_train_examples=128",
    "data.max_eval_examples=40",
]
SETS += [
    "model.dropout=0",
    "model.encoder.attention_dropout=0",
    "model.embedding_dropout=0",
    "train.progress=false",
]


def _run(tmp_path, name, *more):
    train(load_config(TINY, [*SETS, *more]), tmp_path / name)
    return tmp_path / name


def test_accumulation_equals_one_batch_and_bf16_runs(tmp_path):
    one = _run(tmp_path, "one")
    four = _run(tmp_path, "four", "train.grad_accum_steps=4")
    a = load_tensors(one / "checkpoints" / "step-000004" / "model.safetensors")
    b = load_tensors(four / "checkpoints" / "step-000004" / "model.safetensors")
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=1e-4, rtol=1e-3, msg=key)
    log = [json.loads(x) for x in (four / "train_log.jsonl").read_text().splitlines()]
    assert any(r.get("tokens_per_s", 0) > 0 for r in log)
    bf16 = _run(tmp_path, "bf16", "train.precision=bf16")
    assert (bf16 / "metrics.json").exists()


def test_micro_batches_cover_the_batch_once():
    assert micro_batches(list(range(7)), 4) == [[0], [1, 2], [3, 4], [5, 6]]
    assert micro_batches([5], 2) == [[], [5]]
