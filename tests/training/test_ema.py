"""The exponential moving average of the weights: the update, swapping it in and out, its state."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from scratchlm.config import ModelConfig
from scratchlm.models import TextClassifier
from scratchlm.training.ema import EMA


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


def test_ema_on_a_text_classifier():
    """The same update and swap on a whole model (embeddings, encoder, head), not just one layer."""
    model = TextClassifier(
        ModelConfig(embed_dim=8, encoder={"num_layers": 1, "num_heads": 2, "ffn_dim": 16}, bigram_buckets=50),
        vocab_size=30,
        num_classes=2,
        max_seq_len=8,
    )
    ema = EMA(model, 0.9)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    ema.update(model)
    for n, p in model.named_parameters():
        torch.testing.assert_close(ema.shadow[n], 0.9 * before[n] + 0.1 * p.detach())
    current = {n: p.detach().clone() for n, p in model.named_parameters()}
    with ema.applied(model):
        torch.testing.assert_close(
            dict(model.named_parameters())["head.proj.weight"], ema.shadow["head.proj.weight"]
        )
    for n, p in model.named_parameters():
        assert torch.equal(p, current[n])
