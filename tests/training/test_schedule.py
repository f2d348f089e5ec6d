"""The learning-rate schedule: linear warmup, then linear, cosine or constant, driving the optimizer's lr."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from scratchlm.training.schedule import build_scheduler, lr_lambda


def _lr(step, kind, total=110, warmup=10):
    return lr_lambda(step, total_steps=total, warmup_steps=warmup, kind=kind)


@pytest.mark.parametrize("kind", ["linear", "cosine", "constant"])
def test_warmup_is_linear_from_one_over_warmup_to_one(kind):
    assert _lr(0, kind) == pytest.approx(1 / 10)
    assert _lr(4, kind) == pytest.approx(5 / 10)
    assert _lr(9, kind) == pytest.approx(1.0)  # last warmup step reaches the peak
    assert _lr(10, kind) == pytest.approx(1.0)  # first decay step starts at the peak
    assert [_lr(s, kind) for s in range(10)] == pytest.approx([(s + 1) / 10 for s in range(10)])


def test_linear_decay():
    # 100 decay steps after 10 warmup steps
    assert _lr(60, "linear") == pytest.approx(0.5)
    assert _lr(35, "linear") == pytest.approx(0.75)
    assert _lr(110, "linear") == pytest.approx(0.0)
    assert _lr(500, "linear") == pytest.approx(0.0)  # clamped after the end
    values = [_lr(s, "linear") for s in range(10, 111)]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))


def test_cosine_decay():
    assert _lr(60, "cosine") == pytest.approx(0.5)
    assert _lr(35, "cosine") == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.25)))
    assert _lr(110, "cosine") == pytest.approx(0.0, abs=1e-12)
    assert _lr(1000, "cosine") == pytest.approx(0.0, abs=1e-12)


def test_constant_after_warmup():
    assert [_lr(s, "constant") for s in (10, 50, 80, 110, 1000)] == [1.0] * 5


def test_no_warmup_starts_at_the_peak():
    assert lr_lambda(0, total_steps=100, warmup_steps=0, kind="linear") == 1.0
    assert lr_lambda(50, total_steps=100, warmup_steps=0, kind="linear") == pytest.approx(0.5)
    with pytest.raises(ValueError, match="unknown schedule"):
        lr_lambda(50, total_steps=100, warmup_steps=0, kind="step")


def test_build_scheduler_drives_the_optimizer_lr():
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=2.0)
    sched = build_scheduler(opt, total_steps=20, warmup_ratio=0.1, kind="linear")  # warmup 2 steps
    seen = []
    for _ in range(21):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    expected = [2.0 * lr_lambda(s, total_steps=20, warmup_steps=2, kind="linear") for s in range(21)]
    assert seen == pytest.approx(expected)
    assert seen[0] == pytest.approx(1.0) and seen[1] == pytest.approx(2.0) and seen[20] == pytest.approx(0.0)
