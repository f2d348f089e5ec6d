"""Decoders of an encoder-decoder: the module harness for each block; cross-attention ignores padded
source positions; the Transformer decoder is causal; the recurrent decoder runs a target whole or step
by step with the same outputs."""

from __future__ import annotations

import pytest
import torch

from harness import run_module_test
from scratchlm.modules.attention import MultiHeadSelfAttention
from scratchlm.modules.decoder import (
    MultiHeadCrossAttention,
    RecurrentAttentionDecoder,
    RecurrentDecoder,
    TransformerDecoder,
    TransformerDecoderLayer,
    causal_mask,
    transformer_decoder,
)
from scratchlm.modules.feed_forward import FeedForward
from scratchlm.modules.rotary import RotaryEmbedding

B, T, S, D, H = 2, 5, 7, 12, 3
MEMORY_DIM = 10


def _inputs(memory_dim: int = D):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(B, T, D, generator=g)
    memory = torch.randn(B, S, memory_dim, generator=g)
    memory_mask = torch.arange(S)[None, :] < torch.tensor([S, 4])[:, None]  # (b, s)
    return x, memory, memory_mask


def _layer() -> TransformerDecoderLayer:
    return TransformerDecoderLayer(
        MultiHeadSelfAttention(D, H, dropout=0.1),
        MultiHeadCrossAttention(D, H, dropout=0.1),
        FeedForward(D, 24, dropout=0.1),
        D,
        dropout=0.1,
    )


def test_causal_mask_is_lower_triangular():
    m = causal_mask(4)
    assert m.shape == (1, 1, 4, 4) and m.dtype == torch.bool
    assert m[0, 0].tolist() == [[j <= i for j in range(4)] for i in range(4)]


@pytest.mark.parametrize("memory_dim", [None, MEMORY_DIM])
def test_cross_attention_module_harness(memory_dim):
    x, memory, memory_mask = _inputs(memory_dim or D)
    run_module_test(
        lambda: MultiHeadCrossAttention(D, H, memory_dim, dropout=0.1),
        (x, memory, memory_mask),
        expected_shape=(B, T, D),
        num_trainable=(D * D + D) + ((memory_dim or D) * 2 * D + 2 * D) + (D * D + D),
    )


def test_decoder_layer_module_harness():
    x, memory, memory_mask = _inputs()
    run_module_test(_layer, (x, memory, memory_mask, causal_mask(T)), expected_shape=(B, T, D))


@pytest.mark.parametrize("rope", [False, True])
def test_transformer_decoder_module_harness(rope):
    x, memory, memory_mask = _inputs()
    run_module_test(
        lambda: transformer_decoder(D, 2, H, 24, rope=RotaryEmbedding(D // H, 8) if rope else None),
        (x, memory, memory_mask),
        expected_shape=(B, T, D),
    )
    run_module_test(  # the generic block, given its layers
        lambda: TransformerDecoder([_layer(), _layer()], D), (x, memory, None), expected_shape=(B, T, D)
    )


def test_cross_attention_ignores_padded_memory():
    torch.manual_seed(0)
    attn = MultiHeadCrossAttention(D, H).eval()
    x, memory, memory_mask = _inputs()
    changed = memory.clone()
    changed[1, 4:] = 100 * torch.randn(S - 4, D)  # only padded source positions of row 1 change
    with torch.no_grad():
        torch.testing.assert_close(attn(x, memory, memory_mask), attn(x, changed, memory_mask))
        alone = attn(x[1:], memory[1:, :4], None)  # the real positions alone, no mask
        torch.testing.assert_close(attn(x, memory, memory_mask)[1:], alone, atol=1e-5, rtol=1e-5)
        assert not torch.allclose(attn(x, memory, None)[1:], alone, atol=1e-3)  # the mask matters


def test_transformer_decoder_is_causal():
    torch.manual_seed(0)
    dec = transformer_decoder(D, 2, H, 24, dropout=0.0, attention_dropout=0.0).eval()
    x, memory, memory_mask = _inputs()
    changed = x.clone()
    changed[:, 3:] = torch.randn(B, T - 3, D)  # target positions 3 and later change
    with torch.no_grad():
        a, b = dec(x, memory, memory_mask), dec(changed, memory, memory_mask)
        torch.testing.assert_close(a[:, :3], b[:, :3], atol=1e-6, rtol=0)
        assert (a[:, 3:] - b[:, 3:]).abs().max() > 1e-3
        torch.testing.assert_close(dec(x[:, :3], memory, memory_mask), a[:, :3], atol=1e-5, rtol=1e-5)


def _teacher_forced(decoder: RecurrentAttentionDecoder, x, memory, memory_mask):
    outputs, state, weights = decoder(x, decoder.start(memory, memory_mask))
    return outputs, weights, state["h"]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("attention", ["bahdanau", "luong_dot", "luong_general"])
def test_recurrent_decoder_module_harness(cell, attention):
    hidden = MEMORY_DIM if attention == "luong_dot" else 8  # dot attention needs equal widths
    x, memory, memory_mask = _inputs(MEMORY_DIM)
    out = run_module_test(
        lambda: RecurrentAttentionDecoder(
            cell, D, hidden, MEMORY_DIM, num_layers=2, attention=attention, dropout=0.1
        ),
        (x, memory, memory_mask),
        forward=_teacher_forced,
        expected_shape=[(B, T, hidden), (B, T, S), (B, 2, hidden)],
    )
    weights = out[1]
    torch.testing.assert_close(weights.sum(-1), torch.ones(B, T))
    assert torch.all(weights[1, :, 4:] == 0)  # no weight on padded source positions


@pytest.mark.parametrize("attention", ["bahdanau", "luong_general"])
def test_recurrent_decoder_step_by_step_equals_the_whole_target(attention):
    torch.manual_seed(0)
    dec = RecurrentAttentionDecoder("lstm", D, 8, MEMORY_DIM, num_layers=2, attention=attention).eval()
    x, memory, memory_mask = _inputs(MEMORY_DIM)
    with torch.no_grad():
        whole, final, _ = dec(x, dec.start(memory, memory_mask))
        state, steps = dec.start(memory, memory_mask), []
        for i in range(T):
            out, state, _ = dec(x[:, i : i + 1], state)
            steps.append(out)
    torch.testing.assert_close(torch.cat(steps, 1), whole, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(state["h"], final["h"], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_decoder_without_attention_starts_from_the_final_state_only(cell):
    """Harness; the outputs equal torch's own RNN run from ``h0 = tanh(W final + b)`` (an LSTM's
    ``c0 = 0``) on every layer; step by step equals the whole target."""
    x, _, _ = _inputs()
    final = torch.randn(B, MEMORY_DIM)
    run_module_test(
        lambda: RecurrentDecoder(cell, D, 8, MEMORY_DIM, num_layers=2, dropout=0.1),
        (x, final),
        forward=lambda dec, x, final: dec(x, dec.start(final))[0],
        expected_shape=(B, T, 8),
    )
    torch.manual_seed(0)
    dec = RecurrentDecoder(cell, D, 8, MEMORY_DIM, num_layers=2).eval()
    with torch.no_grad():
        out, state, weights = dec(x, dec.start(final))
        h0 = torch.tanh(final @ dec.init_state.weight.T + dec.init_state.bias).view(B, 2, 8)
        h0 = h0.transpose(0, 1).contiguous()  # (L, b, H)
        reference = dec.rnn(x, (h0, torch.zeros_like(h0)) if cell == "lstm" else h0)[0]
        state2, steps = dec.start(final), []
        for i in range(T):
            step, state2, _ = dec(x[:, i : i + 1], state2)
            steps.append(step)
    assert weights is None and set(state) == ({"h", "c"} if cell == "lstm" else {"h"})  # no memory kept
    torch.testing.assert_close(out, reference)
    torch.testing.assert_close(torch.cat(steps, 1), out, atol=1e-5, rtol=1e-5)
