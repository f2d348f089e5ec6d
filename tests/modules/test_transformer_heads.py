"""Encoder + pooling + head: padding never changes a sequence's logits; pooling ignores padding."""

from __future__ import annotations

import pytest
import torch

from scratchlm.config import ModelConfig
from scratchlm.data.collate import pad_batch
from scratchlm.models import TextClassifier
from scratchlm.modules.heads import ClassificationHead, cls_pool, max_pool, mean_max_pool, mean_pool

VOCAB = 40


def _model(pooling: str, bigram_buckets: int = 0, positional: str = "sinusoidal") -> TextClassifier:
    torch.manual_seed(0)
    cfg = ModelConfig(
        embed_dim=16,
        encoder={"num_layers": 2, "num_heads": 2, "ffn_dim": 32, "attention_dropout": 0.0},
        positional={"kind": positional},
        dropout=0.0,
        embedding_dropout=0.0,
        pooling=pooling,
        bigram_buckets=bigram_buckets,
        init_std=0.2,  # large weights: differences (and padding leaks) show up clearly
    )
    model = TextClassifier(cfg, vocab_size=VOCAB, num_classes=3, max_seq_len=32, pad_id=0)
    if bigram_buckets:
        with torch.no_grad():  # zero-initialised: give the pairs real vectors so they matter
            w = model.input.bigram_embedding.embedding.weight
            w.normal_(std=0.5)
            w[0].zero_()
    return model.eval()


@pytest.mark.parametrize("pooling", ["cls", "mean", "max", "mean_max"])
@pytest.mark.parametrize("bigram_buckets", [0, 64])
def test_logits_do_not_depend_on_padding(pooling, bigram_buckets):
    model = _model(pooling, bigram_buckets)
    short = [2, 7, 9, 11, 5]
    long = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]
    with torch.no_grad():
        alone = model(torch.tensor([short]))
        ids, mask = pad_batch([long, short], pad_id=0)
        batched = model(ids, mask)
        batched_implicit_mask = model(ids)
        long_alone = model(torch.tensor([long]))
    assert alone.shape == (1, 3)
    torch.testing.assert_close(batched[1:], alone, atol=1e-5, rtol=0)
    torch.testing.assert_close(batched[:1], long_alone, atol=1e-5, rtol=0)
    torch.testing.assert_close(batched_implicit_mask, batched, atol=1e-6, rtol=0)
    # the two sequences give different logits: the check above is not trivially true
    assert not torch.allclose(alone, long_alone, atol=1e-3)


@pytest.mark.parametrize("positional", ["learned", "none"])
def test_padding_invariance_other_positions(positional):
    model = _model("mean", positional=positional)
    short = [2, 5, 6]
    with torch.no_grad():
        alone = model(torch.tensor([short]))
        ids, mask = pad_batch([short, [2] + list(range(3, 20))], pad_id=0)
        torch.testing.assert_close(model(ids, mask)[:1], alone, atol=1e-5, rtol=0)


def test_bigram_vectors_change_the_logits():
    plain, with_pairs = _model("cls", 0), _model("cls", 64)
    ids = torch.tensor([[2, 7, 9, 11, 5]])
    with torch.no_grad():
        assert not torch.allclose(plain(ids), with_pairs(ids), atol=1e-4)


def test_encoder_output_at_real_positions_ignores_padding():
    model = _model("cls")
    with torch.no_grad():
        ids, mask = pad_batch([[2, 4, 6, 8, 10, 12], [2, 4, 6]], pad_id=0)
        h = model.encode(ids, mask)
        h_alone = model.encode(torch.tensor([[2, 4, 6]]))
    assert h.shape == (2, 6, 16)
    torch.testing.assert_close(h[1, :3], h_alone[0], atol=1e-5, rtol=0)


# -- pooling by hand -----------------------------------------------------------------------------

H = torch.tensor(
    [
        [[1.0, 2.0], [3.0, 4.0], [100.0, -100.0]],
        [[-5.0, -1.0], [-3.0, -7.0], [0.0, 0.0]],
        [[7.0, -2.0], [0.0, 0.0], [0.0, 0.0]],
    ]
)
MASK = torch.tensor([[True, True, False], [True, True, False], [True, False, False]])


def test_mean_pool_ignores_padding():
    expected = torch.tensor([[2.0, 3.0], [-4.0, -4.0], [7.0, -2.0]])
    torch.testing.assert_close(mean_pool(H, MASK), expected)
    torch.testing.assert_close(mean_pool(H), H.mean(1))


def test_max_pool_ignores_padding():
    # row 2: padding zeros would win over -1 and -7 if they counted
    expected = torch.tensor([[3.0, 4.0], [-3.0, -1.0], [7.0, -2.0]])
    torch.testing.assert_close(max_pool(H, MASK), expected)
    torch.testing.assert_close(max_pool(H), H.amax(1))


def test_mean_max_and_cls_pool():
    out = mean_max_pool(H, MASK)
    assert out.shape == (3, 4)
    torch.testing.assert_close(out, torch.cat([mean_pool(H, MASK), max_pool(H, MASK)], -1))
    torch.testing.assert_close(cls_pool(H, MASK), H[:, 0])


def test_mean_pool_all_padding_row_is_zero_not_nan():
    h = torch.ones(1, 3, 2)
    out = mean_pool(h, torch.zeros(1, 3, dtype=torch.bool))
    assert torch.equal(out, torch.zeros(1, 2))


def test_classification_head_is_linear_in_eval():
    torch.manual_seed(0)
    head = ClassificationHead(4, 3, dropout=0.5).eval()
    x = torch.randn(5, 4)
    torch.testing.assert_close(head(x), x @ head.proj.weight.T + head.proj.bias)


def test_mean_max_head_width():
    model = _model("mean_max")
    assert model.head.proj.in_features == 32
    assert _model("cls").head.proj.in_features == 16
