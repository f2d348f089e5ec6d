"""DDP and FSDP (PyTorch's FSDP2 ``fully_shard``) through torchrun on 2 CPU processes (gloo): the loss
equals one process with the same global batch, and a checkpoint of the two (FSDP's in full tensors,
the single-process format) resumes in a single process.

Tolerance: the two processes see halves of each batch, padded to their own longest text, and the
gradients are averaged by an all-reduce (FSDP: reduce-scattered), so sums run in another order: equal
up to float32 rounding (relative 1e-4 on the logged loss, 1e-4 absolute on the weights and the
optimizer state after 6 AdamW steps).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from cli_helpers import ROOT, TINY, cli_env, run_cli
from scratchlm.errors import ConfigError
from scratchlm.training.distributed import check_batch

SETS = [
    "train.num_threads=1",
    "train.max_steps=6",
    "train.save_every=3",
    "data.max_train_examples=320",
    "data.max_eval_examples=50",
    "model.dropout=0",
    "model.encoder.attention_dropout=0",
    "model.embedding_dropout=0",
]
ARGS = [x for s in SETS for x in ("--set", s)]


def _train_losses(run):
    lines = (run / "train_log.jsonl").read_text().splitlines()
    return [r["loss"] for r in map(json.loads, lines) if r["event"] == "train"]


def _close(a, b, atol=1e-4):
    ta, tb = load_file(str(a)), load_file(str(b))
    assert ta.keys() == tb.keys()
    for k in ta:
        torch.testing.assert_close(ta[k], tb[k], atol=atol, rtol=1e-3, msg=k)


@pytest.mark.parametrize(
    "extra", [[], pytest.param(["--set", "train.distributed=fsdp"], marks=pytest.mark.slow, id="fsdp")]
)
def test_two_processes_match_one_and_resume_in_one(tmp_path, extra):
    single, two = tmp_path / "single", tmp_path / "two"
    proc = run_cli("train", str(TINY), *ARGS, "--out", str(single))
    assert proc.returncode == 0, proc.stderr[-2000:]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    proc = subprocess.run(
        [*torchrun, "-m", "scratchlm", "train", str(TINY), *ARGS, *extra, "--out", str(two)],
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("run written to") == 1  # rank 0 alone reports (and writes)
    assert _train_losses(two) == pytest.approx(_train_losses(single), rel=1e-4)
    for name in ("model.safetensors", "optimizer.safetensors"):
        _close(single / "checkpoints" / "step-000006" / name, two / "checkpoints" / "step-000006" / name)
    _close(single / "model.safetensors", two / "model.safetensors")

    resumed = tmp_path / "resumed"
    shutil.copytree(two, resumed)
    shutil.rmtree(resumed / "checkpoints" / "step-000006")
    proc = run_cli("train", "--resume", str(resumed))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "resumed from step-000003" in proc.stderr
    _close(
        two / "checkpoints" / "step-000006" / "model.safetensors",
        resumed / "checkpoints" / "step-000006" / "model.safetensors",
    )


def test_world_size_must_divide_the_batch():
    check_batch(32, 2, 2)
    with pytest.raises(ConfigError, match="cannot be cut into 3 process"):
        check_batch(32, 1, 3)
