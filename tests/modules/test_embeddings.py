"""Token embeddings: the module harness for every kind; initialisations, the padding row (zero, no
gradient, in every model variant), pretrained rows, frozen rows; the factorized (ALBERT) embedding; token
types; the hashed bigram embedding and how well it spreads pairs; embedding settings as config errors."""

from __future__ import annotations

import math

import pytest
import torch

from harness import run_module_test
from scratchlm.config import ModelConfig, TrainConfig
from scratchlm.errors import ConfigError
from scratchlm.models import TextClassifier
from scratchlm.modules import (
    FactorizedTokenEmbedding,
    HashedBigramEmbedding,
    TokenEmbedding,
    TokenTypeEmbedding,
)
from scratchlm.training.optim import build_optimizer

V, D = 3000, 64
IDS = torch.tensor([[3, 7, 0, 0], [5, 9, 3, 2]])  # (b, s), padding id 0


# -- the module harness ----------------------------------------------------------------------------


def _frozen() -> TokenEmbedding:
    emb = TokenEmbedding(12, 6, row_freezing=True)
    emb.freeze_rows(torch.tensor([3, 5]))
    return emb


def _frozen_all() -> TokenEmbedding:
    emb = TokenEmbedding(12, 6)
    emb.embedding.weight.requires_grad_(False)
    return emb


@pytest.mark.parametrize(
    "factory",
    [
        lambda: TokenEmbedding(12, 6),
        lambda: TokenEmbedding(12, 6, init="xavier", scale=6**0.5),
        lambda: TokenEmbedding(12, 6, padding_idx=None),
        _frozen,
        _frozen_all,
        lambda: FactorizedTokenEmbedding(12, 6, 2, scale=2.0),
    ],
    ids=["plain", "scaled", "no_padding", "frozen_rows", "frozen_all", "factorized"],
)
def test_token_embedding_module_harness(factory):
    out = run_module_test(factory, (IDS,), expected_shape=(2, 4, 6))
    if factory().padding_idx is not None:
        assert not out[0, 2:].any()  # padding positions are zero vectors


def test_token_type_and_bigram_module_harness():
    run_module_test(lambda: TokenTypeEmbedding(2, 6), (IDS.clamp_max(1),), expected_shape=(2, 4, 6))
    out = run_module_test(
        lambda: HashedBigramEmbedding(50, 6, vocab_size=12), (IDS,), expected_shape=(2, 4, 6)
    )
    assert not out.any()  # zero-initialised: a model starts as its unigram version


# -- initialisation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("init", "check"),
    [
        ("normal", lambda w: w.std().item() == pytest.approx(0.02, rel=0.05)),
        ("truncated_normal", lambda w: w.abs().max() <= 0.04 and w.std().item() < 0.02),
        (
            "uniform",
            lambda w: w.abs().max() <= 0.05 and w.std().item() == pytest.approx(0.05 / 3**0.5, rel=0.05),
        ),
        ("xavier", lambda w: w.abs().max() <= math.sqrt(6 / (V + D))),
        ("kaiming", lambda w: w.std().item() == pytest.approx(D**-0.5, rel=0.05)),
        ("zeros", lambda w: not w.any()),
    ],
)
def test_initialisations(init, check):
    emb = TokenEmbedding(V, D, init=init)
    w = emb.weight.detach()[1:]
    assert check(w)
    assert not emb.weight[0].any()  # padding row


def test_unknown_init_is_refused():
    with pytest.raises(ValueError, match="unknown embedding init 'he'.*normal, truncated_normal"):
        TokenEmbedding(10, 4, init="he")


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


# -- the padding row in every model variant; frozen rows -------------------------------------------

VARIANTS = {
    "normal": {},
    "xavier": {"embedding_init": "xavier"},
    "zeros": {"embedding_init": "zeros"},
    "scaled": {"embed_scale": True},
    "factorized": {"embedding_rank": 4},
    "frozen_rows": {"init": "word2vec", "freeze_embedding_rows": "pretrained"},
    "bert_like": {"positional": "learned", "num_token_types": 2, "embedding_norm": "layernorm"},
    "concat_rmsnorm": {"combine": "concat", "combine_activation": "tanh", "embedding_norm": "rmsnorm"},
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_padding_row_is_zero_and_gets_no_gradient(variant):
    cfg = ModelConfig(
        embed_dim=16, num_heads=2, num_layers=1, ffn_dim=32, pooling="mean", **VARIANTS[variant]
    )
    model = TextClassifier(cfg, vocab_size=40, num_classes=2, max_seq_len=12, pad_id=0)
    emb = model.token_embedding
    if variant == "frozen_rows":
        emb.freeze_rows(torch.tensor([5, 6]))
    assert not emb.weight[0].any() and not emb.matrix()[0].any()
    opt = build_optimizer(model, TrainConfig(lr=0.05))
    ids = torch.tensor([[2, 5, 7, 0, 0], [2, 6, 8, 9, 0]])
    for _ in range(3):
        opt.zero_grad()
        model(ids).logsumexp(-1).sum().backward()
        assert not emb.weight.grad[0].any()
        opt.step()
    assert not emb.weight[0].any() and not emb.matrix()[0].any()
    assert emb.weight.grad[7].any()


def test_frozen_rows_keep_their_values_and_the_others_train():
    cfg = ModelConfig(
        embed_dim=16,
        num_heads=2,
        num_layers=1,
        ffn_dim=32,
        init="word2vec",
        freeze_embedding_rows="pretrained",
    )
    model = TextClassifier(cfg, vocab_size=40, num_classes=2, max_seq_len=12)
    emb = model.token_embedding
    pretrained = torch.tensor([3, 4, 5])
    emb.load_rows(torch.randn(3, 16), pretrained)
    emb.freeze_rows(pretrained)
    before = emb.weight.detach().clone()
    opt = build_optimizer(model, TrainConfig(lr=0.05, weight_decay=0.1))
    ids = torch.tensor([[2, 3, 4, 5, 6, 7], [2, 5, 8, 9, 0, 0]])
    for _ in range(5):
        opt.zero_grad()
        model(ids).logsumexp(-1).sum().backward()
        opt.step()
    after = emb.weight.detach()
    assert torch.equal(after[pretrained], before[pretrained])
    for row in (2, 6, 7, 8, 9):
        assert not torch.equal(after[row], before[row])
    # the mask is saved with the weights, so a resumed or reloaded run keeps it
    state = model.state_dict()
    assert state["input.token_embedding.frozen_rows"].tolist()[3:6] == [True] * 3
    again = TextClassifier(cfg, vocab_size=40, num_classes=2, max_seq_len=12)
    again.load_state_dict(state)
    assert torch.equal(again.token_embedding.frozen_rows, emb.frozen_rows)


# -- factorized (ALBERT) ---------------------------------------------------------------------------


def test_factorized_parameter_counts():
    full = TokenEmbedding(V, D)
    fact = FactorizedTokenEmbedding(V, D, 8)
    n = sum(p.numel() for p in fact.parameters())
    assert n == V * 8 + 8 * D == fact.parameter_saving()[0]
    assert sum(p.numel() for p in full.parameters()) == V * D == fact.parameter_saving()[1]
    assert fact(torch.tensor([[1, 2]])).shape == (1, 2, D)
    torch.testing.assert_close(fact.matrix(), fact.factors.weight @ fact.projection.weight.T)
    # rows of E = A.B start at about A's scale (B ~ N(0, 1/r))
    assert fact.matrix()[1:].std().item() == pytest.approx(0.02, rel=0.2)


def test_factorized_refuses_pretrained_rows():
    with pytest.raises(ValueError, match="no exact place"):
        FactorizedTokenEmbedding(10, 8, 2).load_rows(torch.ones(1, 8), torch.tensor([1]))


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
    repeated = emb.bucket_ids(torch.tensor([[2, 5, 5, 5, 5, 6]]))  # a token paired with itself
    assert repeated[0, 2].item() == emb.bucket_of(5, 5) and repeated[0, -1] == 0


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
    # the same for the 100,000 pairs of one long row of random ids
    emb = HashedBigramEmbedding(B, 4, vocab_size=5000)
    row = torch.randint(5, 5000, (1, n + 1), generator=g)
    assert _fill(emb.bucket_ids(row), B) >= 0.6


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


# -- embedding settings are config errors ----------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"embedding_init": "he"},
            r"model.embedding_init='he' is not one of normal, truncated_normal, uniform",
        ),
        ({"embedding_init_a": 0}, r"model.embedding_init_a=0.* must be > 0"),
        ({"embedding_rank": 192}, r"model.embedding_rank=192 must be in \[1, embed_dim=192\)"),
        ({"embedding_rank": 0}, r"model.embedding_rank=0"),
        ({"embedding_rank": 16, "init": "word2vec"}, r"model.embedding_rank=16 with model.init=word2vec"),
        (
            {"freeze_embedding_rows": "all"},
            r"model.freeze_embedding_rows='all' is not one of none, pretrained",
        ),
        ({"freeze_embedding_rows": "pretrained"}, r"model.init is normal \(no pretrained source\)"),
        (
            {"freeze_embedding_rows": "pretrained", "init": "word2vec", "freeze_embeddings": True},
            r"already freezes every row",
        ),
        ({"num_token_types": -1}, r"model.num_token_types=-1 must be >= 0"),
    ],
)
def test_bad_embedding_settings_are_config_errors(overrides, message):
    with pytest.raises(ConfigError, match=message):
        ModelConfig(**overrides)
