"""The causal and the document mask of the Transformer encoder: what a position may see."""

from __future__ import annotations

import pytest
import torch

from scratchlm.modules.attention_bias import ALiBiBias
from scratchlm.modules.transformer import attention_allowed, transformer_encoder


def _encoder(causal: bool, bias=None):
    torch.manual_seed(0)
    enc = transformer_encoder(
        16, 2, 4, 32, dropout=0.0, attention_dropout=0.0, attention_bias=bias, causal=causal
    )
    return enc.eval()


@pytest.mark.parametrize("bias", [None, "alibi"])
def test_causal_output_at_t_ignores_later_tokens(bias):
    enc = _encoder(True, ALiBiBias(4) if bias else None)
    x = torch.randn(2, 9, 16)
    changed = x.clone()
    changed[:, 5:] = torch.randn(2, 4, 16)  # tokens after position 4 change
    real = torch.ones(2, 9, dtype=torch.bool)
    a, b = enc(x, real), enc(changed, real)
    torch.testing.assert_close(a[:, :5], b[:, :5], rtol=0, atol=1e-6)
    assert (a[:, 5:] - b[:, 5:]).abs().max() > 1e-3  # and later positions do see them


def test_bidirectional_encoder_sees_later_tokens():
    enc = _encoder(False)
    x = torch.randn(1, 6, 16)
    changed = x.clone()
    changed[:, 5] = torch.randn(16)
    assert (enc(x)[:, 0] - enc(changed)[:, 0]).abs().max() > 1e-4


def test_document_mask_keeps_attention_inside_each_text():
    enc = _encoder(False)
    x = torch.randn(1, 8, 16)
    segments = torch.tensor([[0, 0, 0, 1, 1, 1, 1, 2]])
    changed = x.clone()
    changed[:, 3:7] = torch.randn(1, 4, 16)  # only text 1 changes
    real = torch.ones(1, 8, dtype=torch.bool)
    a, b = enc(x, real, segments), enc(changed, real, segments)
    torch.testing.assert_close(a[:, :3], b[:, :3], rtol=0, atol=1e-6)
    torch.testing.assert_close(a[:, 7:], b[:, 7:], rtol=0, atol=1e-6)
    # the first text alone gives the same vectors as inside the packed block
    alone = enc(x[:, :3], real[:, :3])
    torch.testing.assert_close(a[:, :3], alone, rtol=1e-5, atol=1e-5)


def test_allowed_mask_matches_brute_force_and_has_no_empty_row():
    real = torch.tensor([[True, True, True, False, False]])
    segments = torch.tensor([[0, 0, 1, -1, -1]])
    m = attention_allowed(real, 5, causal=True, segments=segments)[0, 0]
    for q in range(5):
        for k in range(5):
            want = (k <= q and bool(real[0, k]) and segments[0, q] == segments[0, k]) or q == k
            assert bool(m[q, k]) == want
    # padded queries see only themselves: finite outputs
    out = _encoder(True)(torch.randn(1, 5, 16), real, segments)
    assert torch.isfinite(out).all()
