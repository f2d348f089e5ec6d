"""Shared fixtures: seeding, the CLI as a subprocess, and one small trained run for the whole session."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "configs" / "tiny_test.yaml"


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield


def cli_env() -> dict[str, str]:
    return dict(os.environ, CI="1", OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")


def run_cli(*args: str, input: str | None = None, cwd: Path = ROOT, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python -m scratchlm ARGS`` as a user would run it."""
    return subprocess.run([sys.executable, "-m", "scratchlm", *args], cwd=cwd, env=cli_env(), input=input,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """configs/tiny_test.yaml trained once through the real CLI (about 30 s on 2 cores)."""
    out = tmp_path_factory.mktemp("runs") / "tiny"
    proc = run_cli("train", str(TINY), "--set", "train.num_threads=1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out
