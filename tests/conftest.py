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


TINY_IMAGE_SETS = [
    "data.max_train_examples=300",
    "data.max_eval_examples=60",
    "model.embed_dim=16",
    "model.encoder.num_layers=1",
    "model.encoder.num_heads=2",
    "model.encoder.ffn_dim=32",
    "train.epochs=2",
    "train.num_threads=1",
]
"""configs/digits_vit.yaml made tiny: seconds on a CPU."""


@pytest.fixture(scope="session")
def tiny_image_run(tmp_path_factory):
    """configs/digits_vit.yaml, tiny, trained once in this process (a few seconds)."""
    from cli_helpers import ROOT
    from scratchlm.config import load_config
    from scratchlm.training.loop import train

    out = tmp_path_factory.mktemp("runs") / "tiny-image"
    train(load_config(ROOT / "configs" / "digits_vit.yaml", TINY_IMAGE_SETS), out)
    return out
