"""FSDP (PyTorch's FSDP2 ``fully_shard``) through torchrun on 2 CPU processes (gloo): the loss equals one
process with the same global batch, and an FSDP checkpoint (full tensors, the single-process format)
resumes in a single process. The same tolerances as the DDP test (tests/training/test_distributed.py):
the shards are reduce-scattered, so sums run in another order."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from test_distributed import ARGS, _close, _train_losses

from cli_helpers import ROOT, TINY, cli_env, run_cli


@pytest.mark.slow
def test_fsdp_two_processes_match_one_and_resume_in_one(tmp_path):
    single, fsdp = tmp_path / "single", tmp_path / "fsdp"
    proc = run_cli("train", str(TINY), *ARGS, "--out", str(single))
    assert proc.returncode == 0, proc.stderr[-2000:]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    proc = subprocess.run(
        [*torchrun, "-m", "scratchlm", "train", str(TINY), *ARGS, "--set", "train.distributed=fsdp"]
        + ["--out", str(fsdp)],
        cwd=ROOT,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("run written to") == 1
    assert _train_losses(fsdp) == pytest.approx(_train_losses(single), rel=1e-4)
    for name in ("model.safetensors", "optimizer.safetensors"):
        _close(single / "checkpoints" / "step-000006" / name, fsdp / "checkpoints" / "step-000006" / name)
    _close(single / "model.safetensors", fsdp / "model.safetensors")

    resumed = tmp_path / "resumed"
    shutil.copytree(fsdp, resumed)
    shutil.rmtree(resumed / "checkpoints" / "step-000006")
    proc = run_cli("train", "--resume", str(resumed))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "resumed from step-000003" in proc.stderr
    _close(
        fsdp / "checkpoints" / "step-000006" / "model.safetensors",
        resumed / "checkpoints" / "step-000006" / "model.safetensors",
    )
