"""Input layer, attention and encoder numerics against formulas and torch references."""

from __future__ import annotations

import math

import pytest
import torch

from scratchlm.config import ModelConfig
from scratchlm.models import TextClassifier
from scratchlm.modules import (
    HashedBigramEmbedding,
    LearnedPositionalEmbedding,
    MultiHeadSelfAttention,
    SinusoidalPositionalEncoding,
    TokenEmbedding,
    mean_pool,
    sinusoidal_table,
)
from scratchlm.modules.heads import max_pool


@pytest.mark.parametrize("dim", [6, 7])
def test_sinusoidal_equals_the_formula(dim):
    table = sinusoidal_table(20, dim)
    for pos in range(20):
        for i in range(dim):
            angle = pos / 10000 ** ((i - i % 2) / dim)
            expected = math.sin(angle) if i % 2 == 0 else math.cos(angle)
            assert table[pos, i].item() == pytest.approx(expected, abs=1e-6)
    pe = SinusoidalPositionalEncoding(dim, max_seq_len=8)
    x = torch.zeros(1, 20, dim)
    torch.testing.assert_close(pe(x)[0], table)  # extends past max_seq_len by formula


def test_learned_positions_refuse_longer_inputs():
    pe = LearnedPositionalEmbedding(4, max_seq_len=8)
    assert pe(torch.zeros(2, 8, 4)).shape == (2, 8, 4)
    with pytest.raises(ValueError, match="cannot extrapolate"):
        pe(torch.zeros(1, 9, 4))


def test_attention_equals_torch_multihead_attention():
    torch.manual_seed(0)
    d, h = 16, 4
    ours = MultiHeadSelfAttention(d, h).eval()
    ref = torch.nn.MultiheadAttention(d, h, batch_first=True).eval()
    with torch.no_grad():
        ref.in_proj_weight.copy_(ours.qkv.weight)
        ref.in_proj_bias.copy_(ours.qkv.bias)
        ref.out_proj.weight.copy_(ours.out.weight)
        ref.out_proj.bias.copy_(ours.out.bias)
    x = torch.randn(3, 7, d)
    mask = torch.tensor([[1] * 7, [1] * 4 + [0] * 3, [1] * 2 + [0] * 5], dtype=torch.bool)
    expected, _ = ref(x, x, x, key_padding_mask=~mask)
    got = ours(x, mask)
    torch.testing.assert_close(got[mask], expected[mask], atol=1e-5, rtol=1e-5)
    w = ours.attention_weights(x, mask)
    torch.testing.assert_close(w.sum(-1), torch.ones(3, h, 7))
    assert (w[1, :, :, 4:] == 0).all()


def test_token_embedding_padding_row_is_zero_and_gets_no_gradient():
    emb = TokenEmbedding(5000, 64)
    assert emb.weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert not emb.weight[0].any()
    emb(torch.tensor([[0, 3, 0, 7]])).sum().backward()
    assert not emb.weight.grad[0].any() and emb.weight.grad[3].any()
    emb.load_rows(torch.ones(2, 64), torch.tensor([0, 5]))
    assert not emb.weight[0].any() and (emb.weight[5] == 1).all()
    with pytest.raises(ValueError, match="dimension 3"):
        emb.load_rows(torch.ones(1, 3), torch.tensor([1]))


def test_bigram_buckets_are_consistent_and_well_spread():
    emb = HashedBigramEmbedding(100_000, 4, vocab_size=5000)
    ids = torch.tensor([[2, 7, 9, 11, 0, 0], [2, 5, 5, 5, 5, 6]])
    b = emb.bucket_ids(ids)
    assert b[0].tolist()[3:] == [0, 0, 0]  # pairs touching padding, and the last position
    assert b[1, -1] == 0
    assert b[0, 0].item() == emb.bucket_of(2, 7) and b[1, 2].item() == emb.bucket_of(5, 5)
    assert not emb.embedding.weight.any()  # starts as the unigram model
    g = torch.Generator().manual_seed(0)
    pairs = torch.randint(5, 5000, (1, 100_001), generator=g)
    filled = emb.bucket_ids(pairs).unique().numel()
    assert filled >= 0.6 * 100_000  # random assignment fills 63%


def test_pooling_ignores_padding():
    h = torch.tensor([[[1.0, 5.0], [3.0, -1.0], [100.0, 100.0]]])
    mask = torch.tensor([[True, True, False]])
    torch.testing.assert_close(mean_pool(h, mask), torch.tensor([[2.0, 2.0]]))
    torch.testing.assert_close(max_pool(h, mask), torch.tensor([[3.0, 5.0]]))


@pytest.mark.parametrize("pooling", ["cls", "mean", "max", "mean_max"])
@pytest.mark.parametrize("buckets", [0, 500])
@pytest.mark.parametrize("positional", ["sinusoidal", "learned", "none"])
def test_padding_does_not_change_the_logits(pooling, buckets, positional):
    cfg = ModelConfig(
        embed_dim=16,
        encoder={"num_layers": 2, "num_heads": 2, "ffn_dim": 32},
        positional={"kind": positional},
        pooling=pooling,
        bigram_buckets=buckets,
    )
    model = TextClassifier(cfg, vocab_size=50, num_classes=3, max_seq_len=16).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # leave the near-zero init, so differences would show
    short = torch.tensor([[2, 7, 8, 9]])
    batch = torch.tensor([[2, 7, 8, 9, 0, 0, 0], [2, 10, 11, 12, 13, 14, 15]])
    with torch.no_grad():
        torch.testing.assert_close(model(batch)[0], model(short)[0], atol=1e-5, rtol=1e-5)
