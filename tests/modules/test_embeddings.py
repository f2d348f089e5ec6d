"""Token embedding (init, padding row, pretrained rows) and the hashed bigram embedding."""

from __future__ import annotations

import pytest
import torch

from scratchlm.modules import HashedBigramEmbedding, TokenEmbedding


def test_token_embedding_init_std_and_zero_padding_row():
    torch.manual_seed(0)
    emb = TokenEmbedding(20000, 64, padding_idx=0, init_std=0.02)
    w = emb.weight.detach()
    assert w.shape == (20000, 64)
    assert torch.all(w[0] == 0)
    rest = w[1:]
    assert abs(rest.std().item() - 0.02) < 3e-4
    assert abs(rest.mean().item()) < 3e-4
    other = TokenEmbedding(20000, 64, init_std=0.1)
    assert abs(other.weight.detach()[1:].std().item() - 0.1) < 1.5e-3


def test_forward_is_a_lookup():
    emb = TokenEmbedding(10, 4)
    ids = torch.tensor([[3, 0, 9], [1, 1, 2]])
    out = emb(ids)
    assert out.shape == (2, 3, 4)
    torch.testing.assert_close(out, emb.weight[ids])
    assert torch.all(out[0, 1] == 0)


def test_padding_row_gets_zero_gradient_and_stays_zero():
    torch.manual_seed(0)
    emb = TokenEmbedding(10, 4, padding_idx=0)
    ids = torch.tensor([[2, 0, 0], [5, 2, 0]])
    (emb(ids) * torch.randn(2, 3, 4)).sum().backward()
    grad = emb.weight.grad
    assert torch.all(grad[0] == 0)
    assert grad[2].abs().sum() > 0 and grad[5].abs().sum() > 0
    assert torch.all(grad[[1, 3, 4, 6, 7, 8, 9]] == 0)
    opt = torch.optim.SGD(emb.parameters(), lr=1.0)
    opt.step()
    assert torch.all(emb.weight[0] == 0)


def test_padding_idx_none_has_no_zero_row():
    torch.manual_seed(0)
    emb = TokenEmbedding(10, 4, padding_idx=None)
    assert emb.weight[0].abs().sum() > 0


def test_load_rows_sets_rows_keeps_padding_zero_and_checks_dim():
    emb = TokenEmbedding(8, 3, padding_idx=0)
    before = emb.weight.detach().clone()
    rows = torch.arange(9, dtype=torch.float64).view(3, 3) + 1
    emb.load_rows(rows, torch.tensor([0, 2, 5]))
    w = emb.weight.detach()
    assert torch.all(w[0] == 0)  # padding stays zero even when given a row
    torch.testing.assert_close(w[2], rows[1].float())
    torch.testing.assert_close(w[5], rows[2].float())
    assert w.dtype == torch.float32
    for i in (1, 3, 4, 6, 7):
        assert torch.equal(w[i], before[i])
    with pytest.raises(ValueError, match="dimension 4"):
        emb.load_rows(torch.zeros(2, 4), torch.tensor([1, 2]))


# -- hashed bigrams --------------------------------------------------------------------------------


def test_bigram_bucket_ids_equal_bucket_of():
    torch.manual_seed(0)
    V, B = 500, 97
    emb = HashedBigramEmbedding(B, 8, vocab_size=V, pad_id=0)
    ids = torch.randint(1, V, (4, 12))
    buckets = emb.bucket_ids(ids)
    assert buckets.shape == ids.shape and buckets.dtype == torch.long
    for r in range(4):
        for i in range(11):
            assert buckets[r, i].item() == emb.bucket_of(ids[r, i].item(), ids[r, i + 1].item())
        assert buckets[r, 11].item() == 0  # the last position has no right neighbour
    assert buckets[:, :-1].min() >= 1 and buckets.max() <= B - 1


def test_bucket_of_is_order_sensitive_and_deterministic():
    emb = HashedBigramEmbedding(1000, 4, vocab_size=100)
    assert emb.bucket_of(3, 7) == HashedBigramEmbedding(1000, 4, vocab_size=100).bucket_of(3, 7)
    pairs = [(a, b) for a in range(1, 30) for b in range(1, 30) if a != b]
    assert sum(emb.bucket_of(a, b) != emb.bucket_of(b, a) for a, b in pairs) > 0.9 * len(pairs)


def test_pairs_touching_padding_and_last_position_map_to_zero():
    emb = HashedBigramEmbedding(50, 4, vocab_size=20, pad_id=0)
    ids = torch.tensor([[2, 3, 4, 0, 0], [5, 6, 7, 8, 9], [0, 3, 4, 0, 7]])
    b = emb.bucket_ids(ids)
    assert b[0, 0] == emb.bucket_of(2, 3) and b[0, 1] == emb.bucket_of(3, 4)
    assert b[0, 2:].tolist() == [0, 0, 0]  # (4, pad), (pad, pad), last
    assert torch.all(b[1, :4] > 0) and b[1, 4] == 0
    assert b[2].tolist() == [0, emb.bucket_of(3, 4), 0, 0, 0]


def test_bigram_zero_init_and_zero_row_stays_zero():
    emb = HashedBigramEmbedding(64, 6, vocab_size=30)
    assert torch.all(emb.embedding.weight == 0)
    ids = torch.tensor([[1, 2, 3, 0]])
    assert torch.all(emb(ids) == 0)
    with torch.no_grad():
        emb.embedding.weight.normal_()
        emb.embedding.weight[0].zero_()
    out = emb(ids)
    torch.testing.assert_close(out[0, 0], emb.embedding.weight[emb.bucket_of(1, 2)])
    assert torch.all(out[0, 2:] == 0)
    out.sum().backward()
    assert torch.all(emb.embedding.weight.grad[0] == 0)


def test_bigram_needs_two_buckets():
    with pytest.raises(ValueError, match="num_buckets"):
        HashedBigramEmbedding(1, 4, vocab_size=10)


def test_load_pairs_first_pair_wins():
    emb = HashedBigramEmbedding(100, 2, vocab_size=50)
    rows = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    filled = emb.load_pairs([(1, 2), (1, 2), (3, 4)], rows)
    assert filled == 2
    torch.testing.assert_close(emb.embedding.weight[emb.bucket_of(1, 2)], rows[0])
    torch.testing.assert_close(emb.embedding.weight[emb.bucket_of(3, 4)], rows[2])


def _fill(buckets: torch.Tensor, num_buckets: int) -> float:
    return buckets.unique().numel() / num_buckets


def test_hash_spreads_random_pairs():
    g = torch.Generator().manual_seed(0)
    V, B, n = 6000, 100_000, 100_000
    emb = HashedBigramEmbedding(B, 1, vocab_size=V)
    pairs = torch.randint(1, V, (n, 2), generator=g)
    buckets = emb.bucket_ids(pairs)[:, 0]
    assert buckets.min() >= 1
    # a random function fills 1 - 1/e = 63% of the buckets
    assert _fill(buckets, B) >= 0.55


@pytest.mark.parametrize(
    ("vocab_size", "num_buckets"),
    [
        (4355, 200_000),  # zh-reviews vocabulary with configs/zh_sentiment.yaml's buckets: fine
        (4355, 20_000),  # configs/tiny_test.yaml's buckets
        (4000, 100_000),
        (6000, 100_000),
        (8000, 20_000),
    ],
)
def test_hash_spreads_the_pairs_of_frequent_tokens(vocab_size, num_buckets):
    # frequent characters have the smallest ids, so real text's most frequent pairs form a dense grid:
    # all pairs of ids 5..104 (10,000 pairs) should fill about as many buckets as random pairs do
    import math

    emb = HashedBigramEmbedding(num_buckets, 1, vocab_size=vocab_size)
    k = 100
    a = torch.arange(5, 5 + k).repeat_interleave(k)
    b = torch.arange(5, 5 + k).repeat(k)
    filled = emb.bucket_ids(torch.stack([a, b], 1))[:, 0].unique().numel()
    m = num_buckets - 1
    random_fill = m * (1 - math.exp(-k * k / m))
    assert filled >= 0.9 * random_fill, (filled, round(random_fill))
