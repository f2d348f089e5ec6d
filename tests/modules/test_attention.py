"""Multi-head self-attention: the module harness, parity with torch.nn.MultiheadAttention, masking,
additive (bias) masks, weights; the explicit-softmax path equals SDPA through the encoder."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from harness import run_module_test
from scratchlm.modules import (
    ALiBiBias,
    MultiHeadSelfAttention,
    RotaryEmbedding,
    additive_attention_mask,
)


def _torch_mha(ours: MultiHeadSelfAttention, d: int, h: int) -> nn.MultiheadAttention:
    ref = nn.MultiheadAttention(d, h, bias=True, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(ours.qkv.weight)
        ref.in_proj_bias.copy_(ours.qkv.bias)
        ref.out_proj.weight.copy_(ours.out.weight)
        ref.out_proj.bias.copy_(ours.out.bias)
    return ref.eval()


def _mask(lengths, s):
    return torch.arange(s)[None, :] < torch.tensor(lengths)[:, None]


@pytest.mark.parametrize("rope", [False, True])
@pytest.mark.parametrize("mask", ["none", "padding", "additive"])
def test_module_harness(rope, mask):
    d, h, s = 12, 3, 7
    masks = {
        "none": None,
        "padding": _mask([7, 4], s),
        "additive": additive_attention_mask(_mask([7, 4], s), ALiBiBias(h)(s)),
    }
    run_module_test(
        lambda: MultiHeadSelfAttention(
            d, h, dropout=0.1, pos_embeddings=RotaryEmbedding(d // h, 8) if rope else None
        ),
        (torch.randn(2, s, d), masks[mask]),
        expected_shape=(2, s, d),
        num_trainable=3 * d * d + 3 * d + d * d + d,
    )


@pytest.mark.parametrize(("d", "h"), [(8, 1), (8, 2), (12, 3), (16, 4)])
def test_matches_torch_multihead_attention(d, h):
    torch.manual_seed(d * 10 + h)
    ours = MultiHeadSelfAttention(d, h).eval()
    for p in ours.parameters():  # non-trivial biases too
        nn.init.normal_(p, std=0.3)
    ref = _torch_mha(ours, d, h)
    s = 7
    x = torch.randn(3, s, d)
    mask = _mask([7, 4, 1], s)
    with torch.no_grad():
        got = ours(x, mask)
        want, _ = ref(x, x, x, key_padding_mask=~mask, need_weights=False)
    assert got.shape == (3, s, d)
    torch.testing.assert_close(got[mask], want[mask], atol=1e-5, rtol=1e-5)
    # without a mask as well
    with torch.no_grad():
        torch.testing.assert_close(ours(x), ref(x, x, x, need_weights=False)[0], atol=1e-5, rtol=1e-5)


def test_attention_weights_match_torch_and_ignore_padding():
    torch.manual_seed(1)
    d, h, s = 8, 2, 6
    ours = MultiHeadSelfAttention(d, h).eval()
    ref = _torch_mha(ours, d, h)
    x = torch.randn(2, s, d)
    mask = _mask([6, 3], s)
    w = ours.attention_weights(x, mask)
    assert w.shape == (2, h, s, s)
    torch.testing.assert_close(w.sum(-1), torch.ones(2, h, s), atol=1e-6, rtol=0)
    assert torch.all(w[1, :, :, 3:] == 0)
    assert torch.all(w[0] > 0)
    with torch.no_grad():
        _, ref_w = ref(x, x, x, key_padding_mask=~mask, need_weights=True, average_attn_weights=False)
    torch.testing.assert_close(w[0], ref_w[0], atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(w[1, :, :3], ref_w[1, :, :3], atol=1e-6, rtol=1e-5)


def test_padded_values_do_not_change_real_outputs():
    torch.manual_seed(2)
    attn = MultiHeadSelfAttention(8, 2).eval()
    x = torch.randn(1, 5, 8)
    mask = _mask([3], 5)
    y = x.clone()
    y[:, 3:] = 100 * torch.randn(1, 2, 8)
    with torch.no_grad():
        torch.testing.assert_close(attn(x, mask)[:, :3], attn(y, mask)[:, :3], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(attn(x, mask)[:, :3], attn(x[:, :3]), atol=1e-5, rtol=1e-5)


def test_embed_dim_must_divide_by_heads():
    with pytest.raises(ValueError, match="not divisible"):
        MultiHeadSelfAttention(10, 3)
    assert MultiHeadSelfAttention(12, 3).head_dim == 4


def test_dropout_only_in_training():
    torch.manual_seed(3)
    attn = MultiHeadSelfAttention(8, 2, dropout=0.5)
    x = torch.randn(2, 6, 8)
    attn.eval()
    with torch.no_grad():
        assert torch.equal(attn(x), attn(x))
        attn.train()
        assert not torch.allclose(attn(x), attn(x))


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


# --------------------------------------------- the explicit-softmax path (need_weights) equals SDPA
def _position_parts(kind: str, h: int, hd: int) -> dict:
    from scratchlm.modules.attention_bias import ALiBiBias, T5RelativePositionBias
    from scratchlm.modules.rotary import RotaryEmbedding

    if kind == "rope":
        return {"rope": RotaryEmbedding(hd, 8)}
    if kind == "alibi":
        return {"attention_bias": ALiBiBias(h)}
    if kind == "t5_bias":
        return {"attention_bias": T5RelativePositionBias(h, num_buckets=8, max_distance=16, init_std=0.5)}
    return {}


@pytest.mark.parametrize(
    ("kind", "norm_position"),
    [("none", "pre"), ("rope", "pre"), ("alibi", "pre"), ("t5_bias", "pre"), ("t5_bias", "post")],
)
def test_encoder_with_weights_equals_the_sdpa_encoder(kind, norm_position):
    from scratchlm.modules import transformer_encoder

    torch.manual_seed(3)
    d, h, s = 12, 3, 9
    parts = _position_parts(kind, h, d // h)
    enc = transformer_encoder(
        d, 2, h, 24, dropout=0.0, attention_dropout=0.0, norm_position=norm_position, **parts
    )
    for p in enc.parameters():  # non-trivial weights and biases everywhere
        nn.init.normal_(p, std=0.4)
    enc.eval()
    x = torch.randn(3, s, d)
    mask = _mask([9, 5, 1], s)
    with torch.no_grad():
        want = enc(x, mask)
        got, weights = enc(x, mask, need_weights=True)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    assert len(weights) == 2 and all(w.shape == (3, h, s, s) for w in weights)
    for w in weights:
        torch.testing.assert_close(w.sum(-1), torch.ones(3, h, s), atol=1e-5, rtol=0)
        assert torch.all(w[1, :, :, 5:] == 0) and torch.all(w[2, :, :, 1:] == 0)
        assert torch.all(w[2, :, :, 0] == 1)  # one real key takes all the weight
    # the weights are the layers' own: layer 0 sees the input layer's vectors after its norm
    layer = enc.layers[0]
    bias_mask = mask
    if enc.attention_bias is not None:
        from scratchlm.modules import additive_attention_mask

        bias_mask = additive_attention_mask(mask, enc.attention_bias(s))
    layer_input = layer.attn_norm(x) if norm_position == "pre" else x  # post-LN normalises after
    torch.testing.assert_close(weights[0], layer.attention.attention_weights(layer_input, bias_mask))
    # a padded row gives its real tokens the weights of the same sentence alone
    with torch.no_grad():
        alone = enc(x[1:2, :5], need_weights=True)[1]
    for w, w1 in zip(weights, alone, strict=True):
        torch.testing.assert_close(w[1, :, :5, :5], w1[0], atol=1e-5, rtol=1e-5)
