"""The Transformer encoder: the module harness for its layers and the stack (pre-LN, post-LN, RoPE, ALiBi,
T5 bias, causal, activation checkpointing); the causal and the document mask: what a position may see."""

from __future__ import annotations

import pytest
import torch

from harness import run_module_test
from scratchlm.modules.attention import MultiHeadSelfAttention
from scratchlm.modules.attention_bias import ALiBiBias, T5RelativePositionBias
from scratchlm.modules.feed_forward import FeedForward
from scratchlm.modules.rotary import RotaryEmbedding
from scratchlm.modules.transformer import (
    PostNormEncoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
    attention_allowed,
    transformer_encoder,
)

D, H = 12, 3
X = torch.randn(2, 6, D, generator=torch.Generator().manual_seed(0))
PADDING = torch.tensor([[True] * 6, [True] * 4 + [False] * 2])


# -- the module harness ----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [TransformerEncoderLayer, PostNormEncoderLayer])
def test_layer_module_harness(cls):
    def layer():
        return cls(MultiHeadSelfAttention(D, H, dropout=0.1), FeedForward(D, 24, 0.1), D, dropout=0.1)

    run_module_test(layer, (X, PADDING), expected_shape=(2, 6, D))
    run_module_test(  # with the attention weights: (output, weights (b, h, s, s))
        layer, (X, PADDING), {"need_weights": True}, expected_shape=[(2, 6, D), (2, H, 6, 6)]
    )


def _checkpointed() -> TransformerEncoder:
    enc = transformer_encoder(D, 2, H, 24)
    enc.activation_checkpointing = True  # recomputed in backward: the same gradients reach every weight
    return enc


ENCODERS = {
    "pre": lambda: transformer_encoder(D, 2, H, 24),
    "post": lambda: transformer_encoder(D, 2, H, 24, norm_position="post"),
    "rope": lambda: transformer_encoder(D, 2, H, 24, rope=RotaryEmbedding(D // H, 4)),
    "alibi_causal": lambda: transformer_encoder(D, 2, H, 24, attention_bias=ALiBiBias(H), causal=True),
    "t5_bias": lambda: transformer_encoder(
        D, 2, H, 24, attention_bias=T5RelativePositionBias(H, num_buckets=8, max_distance=16)
    ),
    "checkpointed": _checkpointed,
    "generic": lambda: TransformerEncoder(
        [TransformerEncoderLayer(MultiHeadSelfAttention(D, H), FeedForward(D, 24), D)], D
    ),
}


@pytest.mark.parametrize("encoder", ENCODERS)
def test_encoder_module_harness(encoder):
    run_module_test(ENCODERS[encoder], (X, PADDING), expected_shape=(2, 6, D))


def test_encoder_module_harness_with_segments_and_weights():
    segments = torch.tensor([[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, -1, -1]])
    run_module_test(
        ENCODERS["alibi_causal"],
        (X, PADDING, segments),
        {"need_weights": True},
        expected_shape=[(2, 6, D), (2, H, 6, 6), (2, H, 6, 6)],
    )


def test_unknown_norm_position_is_refused():
    with pytest.raises(ValueError, match="unknown norm_position 'middle'; use one of pre, post"):
        transformer_encoder(D, 1, H, 24, norm_position="middle")


# -- the causal and the document mask --------------------------------------------------------------


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


def test_unique_layers_share_parameters_across_depth():
    torch.manual_seed(0)
    shared = transformer_encoder(
        16, 4, 4, 32, dropout=0.0, attention_dropout=0.0, norm_position="post", unique_layers=2
    )
    assert len(shared.layers) == 2 and shared.order == [0, 0, 1, 1]
    assert sum(p.numel() for p in shared.parameters()) * 2 == sum(
        p.numel() for p in transformer_encoder(16, 4, 4, 32, norm_position="post").parameters()
    )
    x, mask = torch.randn(2, 5, 16), torch.ones(2, 5, dtype=torch.bool)
    with torch.no_grad():
        want = x
        for i in shared.order:  # the same module run again at the next depth
            want = shared.layers[i](want, mask)
        torch.testing.assert_close(shared.eval()(x, mask), want)
    out, weights = shared(x, mask, need_weights=True)
    assert len(weights) == 4
