"""Shared fixtures: seeding, and one small trained run for the whole session."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

pytest.register_assert_rewrite("harness")  # the shared module harness's asserts explain themselves

from cli_helpers import TINY, run_cli  # noqa: E402


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """configs/tiny_test.yaml trained once through the real CLI (about 30 s on 2 cores)."""
    out = tmp_path_factory.mktemp("runs") / "tiny"
    proc = run_cli("train", str(TINY), "--set", "train.num_threads=1", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out
