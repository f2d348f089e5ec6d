"""Every ``model.positional.kind``: RoPE, ALiBi, T5 bias, scaled sinusoidal, against formulas and
references; padding invariance and lengths beyond training through the classifier. (Their config errors:
tests/config/test_model.py.)"""

from __future__ import annotations

import math

import pytest
import torch

from scratchlm.config import POSITIONAL_KINDS, ModelConfig
from scratchlm.models import TextClassifier
from scratchlm.modules import (
    ALiBiBias,
    MultiHeadSelfAttention,
    RotaryEmbedding,
    ScaledSinusoidalPositionalEncoding,
    T5RelativePositionBias,
    additive_attention_mask,
    alibi_slopes,
    sinusoidal_table,
)
from scratchlm.modules.attention_bias import relative_positions, t5_relative_position_bucket

# ------------------------------------------------------------------------------------------- RoPE


def test_rope_pins_the_paper_values():
    # head_dim 4, base 10000: theta_0 = 1, theta_1 = 10000^(-2/4) = 0.01; pairs are (x0, x1), (x2, x3)
    rope = RotaryEmbedding(4, max_seq_len=8)
    x = torch.tensor([1.0, 0.0, 1.0, 0.0]).expand(1, 1, 3, 4)  # (b, h, s, hd), the same vector at 3 positions
    out = rope(x)[0, 0]
    for m in range(3):
        expected = [math.cos(m), math.sin(m), math.cos(0.01 * m), math.sin(0.01 * m)]
        torch.testing.assert_close(out[m], torch.tensor(expected), atol=1e-6, rtol=0)


def test_rope_matches_a_complex_number_reference():
    # RoFormer eq. (34) as complex multiplication: (x_2i + i x_2i+1) * exp(i m theta_i)
    torch.manual_seed(0)
    b, h, s, hd, base = 2, 3, 11, 8, 500.0
    x = torch.randn(b, h, s, hd)
    theta = base ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)
    angles = torch.outer(torch.arange(s, dtype=torch.float64), theta)  # (s, hd/2)
    z = torch.view_as_complex(x.double().reshape(b, h, s, hd // 2, 2).contiguous())
    want = torch.view_as_real(z * torch.polar(torch.ones_like(angles), angles)).reshape(b, h, s, hd)
    torch.testing.assert_close(RotaryEmbedding(hd, 4, base=base)(x), want.float(), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("rotary_dim", [16, 8, 2])
def test_rope_keeps_norms_and_scores_depend_only_on_the_offset(rotary_dim):
    torch.manual_seed(1)
    hd, s = 16, 40
    rope = RotaryEmbedding(hd, max_seq_len=s, rotary_dim=rotary_dim)
    q, k = torch.randn(hd), torch.randn(hd)
    rq = rope(q.expand(1, 1, s, hd))[0, 0]  # (s, hd): q placed at every position
    rk = rope(k.expand(1, 1, s, hd))[0, 0]
    torch.testing.assert_close(rq.norm(dim=-1), q.norm().expand(s), atol=1e-5, rtol=1e-5)
    scores = rq @ rk.T  # scores[m, n] = <R_m q, R_n k>
    for offset in (-7, 0, 3, 20):
        diagonal = torch.diagonal(scores, offset)
        torch.testing.assert_close(diagonal, diagonal[0].expand_as(diagonal), atol=1e-4, rtol=1e-4)
    if rotary_dim < hd:  # partial rotary: the rest of the head passes through unchanged
        assert torch.equal(rq[:, rotary_dim:], q[rotary_dim:].expand(s, hd - rotary_dim))


def test_rope_cache_extends_consistently():
    rope = RotaryEmbedding(8, max_seq_len=4)
    x = torch.randn(1, 2, 10, 8)
    long = rope(x)  # rebuilds the cache for 10 positions
    torch.testing.assert_close(rope(x[:, :, :4]), long[:, :, :4])
    torch.testing.assert_close(RotaryEmbedding(8, max_seq_len=16)(x), long)


@pytest.mark.parametrize("rotary_dim", [0, 3, 10])
def test_rope_rejects_bad_rotary_dims(rotary_dim):
    with pytest.raises(ValueError, match="even"):
        RotaryEmbedding(8, rotary_dim=rotary_dim)


# ------------------------------------------------------------------------------------------ ALiBi


def test_alibi_slopes_for_8_heads_are_the_paper_sequence():
    assert alibi_slopes(8) == pytest.approx([1 / 2**i for i in range(1, 9)], rel=1e-12)


def test_alibi_slopes_for_12_heads_follow_the_interleaving_rule():
    # not a power of two: the 8-head slopes, then every other slope of 16 heads (2^-0.5, 2^-1.5, ...)
    eight = [2.0**-i for i in range(1, 9)]
    sixteen = [2.0 ** (-0.5 * i) for i in range(1, 17)]
    assert alibi_slopes(16) == pytest.approx(sixteen, rel=1e-12)
    expected = eight + sixteen[0::2][:4]
    assert alibi_slopes(12) == pytest.approx(expected, rel=1e-12)
    assert expected[8:] == pytest.approx([2**-0.5, 2**-1.5, 2**-2.5, 2**-3.5])
    assert alibi_slopes(6) == pytest.approx([2**-2, 2**-4, 2**-6, 2**-8, 2**-1, 2**-3])


def test_alibi_bias_is_minus_slope_times_distance():
    bias = ALiBiBias(4)(5)  # (h, s, s)
    assert bias.shape == (4, 5, 5)
    slopes = alibi_slopes(4)
    for h in range(4):
        for i in range(5):
            for j in range(5):
                assert bias[h, i, j].item() == pytest.approx(-slopes[h] * abs(i - j))
    assert list(ALiBiBias(4).parameters()) == []


# --------------------------------------------------------------------------------------- T5 bias


@pytest.mark.parametrize(("num_buckets", "max_distance"), [(32, 128), (16, 40), (8, 20), (5, 7)])
def test_t5_buckets_equal_hugging_face(num_buckets, max_distance):
    from transformers.models.t5.modeling_t5 import T5Attention

    rel = relative_positions(300)  # offsets -299 .. 299
    ours = t5_relative_position_bucket(rel, num_buckets, max_distance)
    theirs = T5Attention._relative_position_bucket(
        rel, bidirectional=True, num_buckets=num_buckets, max_distance=max_distance
    )
    assert torch.equal(ours, theirs)
    assert ours.min() == 0 and ours.max() == 2 * (num_buckets // 2) - 1  # an odd count leaves one unused


def test_t5_bias_looks_up_one_scalar_per_head_and_bucket():
    bias_module = T5RelativePositionBias(3, num_buckets=8, max_distance=16)
    bias = bias_module(12)  # (h, s, s)
    assert bias.shape == (3, 12, 12)
    buckets = t5_relative_position_bucket(relative_positions(12), 8, 16)
    for h in range(3):
        torch.testing.assert_close(bias[h], bias_module.weight[buckets, h])
    # distances past max_distance share the last bucket of their direction: long inputs reuse it
    far = t5_relative_position_bucket(torch.tensor([16, 100, 10_000, -16, -10_000]), 8, 16)
    assert far.tolist() == [7, 7, 7, 3, 3]


# ------------------------------------------------------------------------ attention with a bias


def test_attention_with_an_additive_bias_equals_the_explicit_softmax():
    torch.manual_seed(2)
    d, h, s = 12, 3, 6
    attn = MultiHeadSelfAttention(d, h).eval()
    x = torch.randn(2, s, d)
    padding = torch.tensor([[True] * s, [True] * 4 + [False] * 2])
    bias = ALiBiBias(h)(s)
    mask = additive_attention_mask(padding, bias)  # (b, h, s, s)
    assert mask.dtype == torch.float32 and mask.shape == (2, h, s, s)
    assert torch.isinf(mask[1, :, :, 4:]).all() and torch.isfinite(mask[0]).all()
    q, k, v = attn.qkv(x).view(2, s, 3, h, d // h).unbind(2)
    q, k, v = (t.transpose(1, 2) for t in (q, k, v))
    weights = (q @ k.transpose(-1, -2) / math.sqrt(d // h) + mask).softmax(-1)
    want = attn.out((weights @ v).transpose(1, 2).reshape(2, s, d))
    with torch.no_grad():
        torch.testing.assert_close(attn(x, mask), want, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(attn.attention_weights(x, mask), weights, atol=1e-5, rtol=1e-5)


# --------------------------------------------------------------------------- scaled sinusoidal


def test_scaled_sinusoidal_is_the_table_times_a_learned_scalar():
    pe = ScaledSinusoidalPositionalEncoding(8, max_seq_len=4)
    assert [p.shape for p in pe.parameters()] == [torch.Size([])]
    assert pe.scale.item() == pytest.approx(8**-0.5)
    with torch.no_grad():
        pe.scale.fill_(3.0)
    torch.testing.assert_close(pe.encodings(10), 3.0 * sinusoidal_table(10, 8))
    pe.encodings(6).sum().backward()
    assert pe.scale.grad is not None


# ----------------------------------------------------------------------- through the classifier


def _model(positional: str, max_seq_len: int = 16, **overrides) -> TextClassifier:
    """``overrides``: ``combine``/``combine_activation`` (of ``model.positional``) or other model keys."""
    pos = {k: overrides.pop(k) for k in ("combine", "combine_activation") if k in overrides}
    cfg = ModelConfig(
        embed_dim=16,
        encoder={"num_layers": 2, "num_heads": 2, "ffn_dim": 32},
        pooling="mean",
        positional={"kind": positional, **pos},
        **overrides,
    )
    model = TextClassifier(cfg, vocab_size=50, num_classes=3, max_seq_len=max_seq_len).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # leave the near-zero init, so differences would show
        model.token_embedding.weight[0].zero_()
    return model


VARIANTS = [(kind, {}) for kind in POSITIONAL_KINDS] + [
    (kind, {"combine": "concat", "combine_activation": act})
    for kind, act in (("sinusoidal", "none"), ("learned", "gelu"), ("scaled_sinusoidal", "tanh"))
]


@pytest.mark.parametrize(("positional", "overrides"), VARIANTS, ids=lambda v: str(v))
def test_padding_does_not_change_the_logits(positional, overrides):
    model = _model(positional, **overrides, embedding_norm="layernorm", num_token_types=2)
    short = torch.tensor([[2, 7, 8, 9]])
    batch = torch.tensor([[2, 7, 8, 9, 0, 0, 0], [2, 10, 11, 12, 13, 14, 15]])
    with torch.no_grad():
        torch.testing.assert_close(model(batch)[0], model(short)[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("positional", POSITIONAL_KINDS)
def test_twice_the_training_length_extrapolates_or_says_it_cannot(positional):
    model = _model(positional, max_seq_len=16)
    ids = torch.randint(5, 50, (2, 32))  # 2x max_seq_len
    if positional == "learned":
        with pytest.raises(ValueError, match="cannot extrapolate"):
            model(ids)
        return
    with torch.no_grad():
        logits = model(ids)
        assert logits.shape == (2, 3) and torch.isfinite(logits).all()
        if model.input.positional is not None:  # the extended table agrees with the trained positions
            short = model.input.positional.encodings(16).clone()
            torch.testing.assert_close(model.input.positional.encodings(32)[:16], short)


def test_relative_kinds_leave_the_input_layer_without_positions():
    for kind, part in (("rope", "pos_embeddings"), ("alibi", None), ("t5_bias", None), ("none", None)):
        model = _model(kind)
        assert model.input.positional is None and model.input.combine is None
        attention = model.encoder.layers[0].attention
        assert (getattr(attention, part) is not None) if part else attention.pos_embeddings is None
        has_bias = model.encoder.attention_bias is not None
        assert has_bias == (kind in ("alibi", "t5_bias"))
    # one rotary module shared by every layer (it holds only a cache), one bias module for the stack
    model = _model("rope")
    assert (
        model.encoder.layers[0].attention.pos_embeddings is model.encoder.layers[1].attention.pos_embeddings
    )
    assert not any("pos_embeddings" in k for k in model.state_dict())
