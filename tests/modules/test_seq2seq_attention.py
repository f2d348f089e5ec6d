"""Attention of a recurrent decoder over the source memory: the module harness for each kind; scores
against their formulas; the weights sum to one over real source positions; wrong widths and kinds."""

from __future__ import annotations

import pytest
import torch

from harness import run_module_test
from scratchlm.modules.seq2seq_attention import (
    AdditiveAttention,
    DotAttention,
    GeneralAttention,
    source_attention,
)

B, T, S = 2, 3, 6


def _inputs(query_dim: int, memory_dim: int):
    g = torch.Generator().manual_seed(0)
    q, memory = torch.randn(B, T, query_dim, generator=g), torch.randn(B, S, memory_dim, generator=g)
    mask = torch.arange(S)[None, :] < torch.tensor([S, 2])[:, None]  # (b, s)
    return q, memory, mask


def _attend(module, q, memory, mask):
    return module(q, memory, module.keys(memory), mask)  # keys: once per source, as the decoder does


@pytest.mark.parametrize(
    ("factory", "query_dim", "num_trainable"),
    [
        (lambda: AdditiveAttention(4, 5, 7), 4, 4 * 7 + (5 * 7 + 7) + 7),
        (lambda: DotAttention(5, 5), 5, 0),
        (lambda: GeneralAttention(4, 5), 4, 5 * 4),
    ],
    ids=["additive", "dot", "general"],
)
def test_module_harness(factory, query_dim, num_trainable):
    context, weights = run_module_test(
        factory,
        _inputs(query_dim, 5),
        forward=_attend,
        expected_shape=[(B, T, 5), (B, T, S)],
        num_trainable=num_trainable,
    )
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, T))
    assert torch.all(weights[1, :, 2:] == 0)  # padded source positions get no weight


def test_scores_equal_their_formulas():
    torch.manual_seed(0)
    q, memory, mask = _inputs(5, 5)
    full = torch.ones(B, S, dtype=torch.bool)
    additive, general = AdditiveAttention(5, 5, 7), GeneralAttention(5, 5)
    scores = {
        "additive": additive.v(torch.tanh(additive.query(q)[:, :, None] + additive.key(memory)[:, None])),
        "dot": (q @ memory.transpose(1, 2))[..., None],
        "general": (q @ general.key(memory).transpose(1, 2))[..., None],
    }
    for name, module in (("additive", additive), ("dot", DotAttention(5, 5)), ("general", general)):
        context, weights = _attend(module, q, memory, full)
        want = scores[name].squeeze(-1).softmax(-1)  # (b, t, s)
        torch.testing.assert_close(weights, want, msg=name)
        torch.testing.assert_close(context, want @ memory, msg=name)


def test_source_attention_kinds_and_errors():
    assert isinstance(source_attention("bahdanau", 4, 5), AdditiveAttention)
    assert isinstance(source_attention("luong_dot", 5, 5), DotAttention)
    assert isinstance(source_attention("luong_general", 4, 5), GeneralAttention)
    with pytest.raises(
        ValueError, match="unknown attention 'luong'; use bahdanau, luong_dot or luong_general"
    ):
        source_attention("luong", 4, 5)
    with pytest.raises(ValueError, match="dot attention needs equal widths, got query 4 and memory 5"):
        DotAttention(4, 5)
