"""Learning-rate schedule values, AdamW parameter groups, and the EMA of the weights."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from scratchlm.config import ModelConfig, TrainConfig
from scratchlm.models import TextClassifier
from scratchlm.training.ema import EMA
from scratchlm.training.optim import build_optimizer, parameter_groups
from scratchlm.training.schedule import build_scheduler, lr_lambda

# -- schedule --------------------------------------------------------------------------------------


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
    assert [_lr(s, "constant") for s in (10, 50, 110, 1000)] == [1.0, 1.0, 1.0, 1.0]


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


# -- parameter groups ------------------------------------------------------------------------------


def _tiny_model(**kw):
    cfg = ModelConfig(embed_dim=8, encoder={"num_layers": 1, "num_heads": 2, "ffn_dim": 16}, **kw)
    return TextClassifier(cfg, vocab_size=30, num_classes=2, max_seq_len=16)


def _groups_by_name(groups):
    return {g["name"]: g for g in groups}


def test_parameter_groups_split_embeddings_no_decay_and_decay():
    model = _tiny_model(bigram_buckets=50)
    cfg = TrainConfig(weight_decay=0.05, lr=1e-3)
    groups = _groups_by_name(parameter_groups(model, cfg))
    names = {id(p): n for n, p in model.named_parameters()}
    got = {g: {names[id(p)] for p in groups[g]["params"]} for g in groups}

    embeddings = {n for n, m in model.named_modules() if isinstance(m, nn.Embedding)}
    assert got["embedding"] == {f"{n}.weight" for n in embeddings}
    assert "input.token_embedding.embedding.weight" in got["embedding"]
    assert "input.bigram_embedding.embedding.weight" in got["embedding"]
    assert groups["embedding"]["weight_decay"] == 0.0 and groups["embedding"]["lr"] == 1e-3

    assert groups["no_decay"]["weight_decay"] == 0.0
    for n in got["no_decay"]:
        assert n.endswith(".bias") or "norm" in n, n
    assert "encoder.norm.weight" in got["no_decay"]
    assert "encoder.layers.0.attention.qkv.bias" in got["no_decay"]

    assert groups["decay"]["weight_decay"] == 0.05
    for n in got["decay"]:
        assert n.endswith(".weight") and "norm" not in n, n
        assert dict(model.named_parameters())[n].ndim == 2
    assert {"encoder.layers.0.attention.qkv.weight", "head.proj.weight"} <= got["decay"]

    # every trainable parameter in exactly one group
    all_ids = [id(p) for g in groups.values() for p in g["params"]]
    assert len(all_ids) == len(set(all_ids)) == sum(1 for p in model.parameters() if p.requires_grad)


def test_embedding_lr_and_frozen_parameters():
    model = _tiny_model()
    model.input.token_embedding.embedding.weight.requires_grad_(False)
    groups = _groups_by_name(parameter_groups(model, TrainConfig(lr=1e-3)))
    assert "embedding" not in groups  # the only embedding is frozen, and empty groups are dropped
    model.input.token_embedding.embedding.weight.requires_grad_(True)
    groups = _groups_by_name(parameter_groups(model, TrainConfig(lr=1e-3, embedding_lr=5e-3)))
    assert groups["embedding"]["lr"] == 5e-3
    opt = build_optimizer(model, TrainConfig(lr=1e-3, embedding_lr=5e-3, betas=(0.8, 0.9)))
    lrs = {g["name"]: g["lr"] for g in opt.param_groups}
    assert lrs == {"decay": 1e-3, "no_decay": 1e-3, "embedding": 5e-3}
    assert tuple(opt.param_groups[0]["betas"]) == (0.8, 0.9)


# -- EMA -------------------------------------------------------------------------------------------


def _linear():
    torch.manual_seed(0)
    m = nn.Linear(3, 2)
    m.register_buffer("counter", torch.zeros(1))
    return m


def test_ema_update_formula():
    model = _linear()
    ema = EMA(model, decay=0.9)
    s = {n: t.clone() for n, t in ema.shadow.items()}
    with torch.no_grad():
        model.weight.copy_(torch.arange(6.0).view(2, 3))
        model.bias.copy_(torch.tensor([10.0, -10.0]))
    w = {n: p.detach().clone() for n, p in model.named_parameters()}
    ema.update(model)
    for n in s:
        torch.testing.assert_close(ema.shadow[n], 0.9 * s[n] + 0.1 * w[n], atol=1e-6, rtol=0)
    assert set(ema.shadow) == {"weight", "bias"}  # buffers are not averaged
    # a second update keeps averaging
    s2 = {n: t.clone() for n, t in ema.shadow.items()}
    ema.update(model)
    for n in s:
        torch.testing.assert_close(ema.shadow[n], 0.9 * s2[n] + 0.1 * w[n], atol=1e-6, rtol=0)


def test_ema_shadow_is_a_copy():
    model = _linear()
    ema = EMA(model, decay=0.5)
    with torch.no_grad():
        model.weight.add_(1.0)
    assert not torch.equal(ema.shadow["weight"], model.weight)


def test_ema_applied_swaps_in_and_restores_exactly():
    model = _linear()
    ema = EMA(model, decay=0.9)
    with torch.no_grad():
        model.weight.normal_()
        model.bias.normal_()
    ema.update(model)
    training = {n: p.detach().clone() for n, p in model.named_parameters()}
    x = torch.randn(4, 3)
    with ema.applied(model):
        for n, p in model.named_parameters():
            assert torch.equal(p, ema.shadow[n])
        out = model(x)
    torch.testing.assert_close(out, x @ ema.shadow["weight"].T + ema.shadow["bias"])
    for n, p in model.named_parameters():
        assert torch.equal(p, training[n])
    # restored even when the block raises
    with pytest.raises(RuntimeError), ema.applied(model):
        raise RuntimeError("boom")
    for n, p in model.named_parameters():
        assert torch.equal(p, training[n])


def test_ema_state_dict_round_trip_and_validation():
    model = _linear()
    ema = EMA(model, decay=0.9)
    other = EMA(nn.Linear(3, 2), decay=0.9)
    other.load_state_dict(ema.state_dict())
    for n in ema.shadow:
        assert torch.equal(other.shadow[n], ema.shadow[n])
    with pytest.raises(ValueError, match="lacks"):
        other.load_state_dict({"weight": ema.shadow["weight"]})
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match="decay"):
            EMA(model, decay=bad)
