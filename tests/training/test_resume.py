"""A run killed with SIGKILL mid-epoch and resumed ends bitwise identical to an uninterrupted run."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from cli_helpers import ROOT, TINY, cli_env, run_cli

# 3000 examples / batch 32 = 94 steps per epoch: checkpoints at 20, 40, ... land mid-epoch
ARGS = [
    "--set",
    "train.num_threads=1",
    "--set",
    "train.save_every=20",
    "--set",
    "train.max_steps=120",
    "--set",
    "train.ema_decay=0.95",
    "--set",
    "model.dropout=0.2",
]


def _tensors_equal(a: Path, b: Path) -> None:
    ta, tb = load_file(str(a)), load_file(str(b))
    assert ta.keys() == tb.keys()
    for key in ta:
        assert torch.equal(ta[key], tb[key]), f"{a.name}: {key} differs"


def test_sigkill_then_resume_is_bitwise_identical(tmp_path):
    full = tmp_path / "full"
    proc = run_cli("train", str(TINY), *ARGS, "--out", str(full))
    assert proc.returncode == 0, proc.stderr[-2000:]

    killed = tmp_path / "killed"
    child = subprocess.Popen(
        [sys.executable, "-m", "scratchlm", "train", str(TINY), *ARGS, "--out", str(killed)],
        cwd=ROOT,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    target = killed / "checkpoints" / "step-000060"
    while not (target / "trainer.json").exists() and child.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (killed / "checkpoints" / "step-000120").exists()

    proc = run_cli("train", "--resume", str(killed))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "resumed from step-" in proc.stderr
    _tensors_equal(
        full / "checkpoints" / "step-000120" / "model.safetensors",
        killed / "checkpoints" / "step-000120" / "model.safetensors",
    )
    _tensors_equal(
        full / "checkpoints" / "step-000120" / "ema.safetensors",
        killed / "checkpoints" / "step-000120" / "ema.safetensors",
    )
    _tensors_equal(full / "model.safetensors", killed / "model.safetensors")
    assert (full / "metrics.json").read_text() == (killed / "metrics.json").read_text()


def test_resume_without_checkpoint_says_so(tmp_path):
    proc = run_cli("train", "--resume", str(tmp_path))
    assert proc.returncode == 2 and "cannot resume" in proc.stderr
