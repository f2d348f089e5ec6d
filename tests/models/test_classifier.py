"""The text classifier (input layer + encoder + pooling + head): padding never changes a sequence's
logits, for every pooling, positional kind, bigram table and encoder kind; lengths beyond training
extrapolate or say they cannot; the head's width follows the pooling."""

from __future__ import annotations

import pytest
import torch

from scratchlm.config import POSITIONAL_KINDS, ModelConfig
from scratchlm.data.collate import pad_batch
from scratchlm.models import TextClassifier

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


@pytest.mark.parametrize("positional", ["sinusoidal", "learned", "none"])
@pytest.mark.parametrize("pooling", ["cls", "mean", "max", "mean_max", "last"])
@pytest.mark.parametrize("bigram_buckets", [0, 64])
def test_logits_do_not_depend_on_padding(pooling, bigram_buckets, positional):
    model = _model(pooling, bigram_buckets, positional)
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
def test_padding_invariance_with_the_short_text_first(positional):
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


def test_mean_max_head_width():
    model = _model("mean_max")
    assert model.head.proj.in_features == 32
    assert _model("cls").head.proj.in_features == 16


# -- every positional kind, through the classifier -------------------------------------------------


def _positional_model(positional: str, max_seq_len: int = 16, **overrides) -> TextClassifier:
    """``overrides``: ``combine``/``combine_activation`` (of ``model.positional``) or other model keys."""
    pos = {k: overrides.pop(k) for k in ("combine", "combine_activation") if k in overrides}
    cfg = ModelConfig(
        embed_dim=16,
        encoder={"num_layers": 2, "num_heads": 2, "ffn_dim": 32},
        positional={"kind": positional, **pos},
        pooling="mean",
        **overrides,
    )
    model = TextClassifier(cfg, vocab_size=50, num_classes=3, max_seq_len=max_seq_len).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.1)  # leave the near-zero init, so differences would show
        model.token_embedding.weight[0].zero_()
    return model


VARIANTS = [(kind, {}) for kind in POSITIONAL_KINDS] + [
    (kind, {"combine": "concat", "combine_activation": act})  # of model.positional
    for kind, act in (("sinusoidal", "none"), ("learned", "gelu"), ("scaled_sinusoidal", "tanh"))
]


@pytest.mark.parametrize(("positional", "overrides"), VARIANTS, ids=lambda v: str(v))
def test_padding_does_not_change_the_logits_for_any_positional_kind(positional, overrides):
    model = _positional_model(positional, **overrides, embedding_norm="layernorm", num_token_types=2)
    short = torch.tensor([[2, 7, 8, 9]])
    batch = torch.tensor([[2, 7, 8, 9, 0, 0, 0], [2, 10, 11, 12, 13, 14, 15]])
    with torch.no_grad():
        torch.testing.assert_close(model(batch)[0], model(short)[0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("positional", POSITIONAL_KINDS)
def test_twice_the_training_length_extrapolates_or_says_it_cannot(positional):
    model = _positional_model(positional, max_seq_len=16)
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


# -- recurrent encoders ----------------------------------------------------------------------------


@pytest.mark.parametrize("encoder", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("pooling", ["cls", "mean_max", "last"])
def test_classifier_on_a_recurrent_encoder(encoder, pooling):
    torch.manual_seed(0)
    cfg = ModelConfig(
        embed_dim=16,
        encoder={
            "kind": encoder,
            "num_layers": 1,
            "num_heads": 2,
            "ffn_dim": 32,
            "attention_dropout": 0.0,
            "rnn_hidden_dim": 12,
            "bidirectional": True,
        },
        positional={"kind": "none"},
        dropout=0.0,
        embedding_dropout=0.0,
        pooling=pooling,
    )
    model = TextClassifier(cfg, vocab_size=30, num_classes=3, max_seq_len=16).eval()
    assert model.head.proj.in_features == 24 * (2 if pooling == "mean_max" else 1)
    with torch.no_grad():
        alone = model(torch.tensor([[2, 5, 6, 7]]))
        ids, mask = pad_batch([[2, 9, 8, 7, 6, 5, 4], [2, 5, 6, 7]], 0)
        torch.testing.assert_close(model(ids, mask)[1:], alone, atol=1e-5, rtol=0)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_last_pooling_with_a_sigmoid_head_is_keras_lstm_then_dense_1_sigmoid(bidirectional):
    """Article 004's ``LSTM(64) -> Dense(1, sigmoid)``: the head reads each text's final LSTM state (of
    both directions when bidirectional), padding or not, and ``p(second label) = sigmoid(w . h + b)``."""
    torch.manual_seed(0)
    cfg = ModelConfig(
        embed_dim=8,
        encoder={"kind": "lstm", "num_layers": 1, "rnn_hidden_dim": 6, "bidirectional": bidirectional},
        positional={"kind": "none"},
        dropout=0.0,
        embedding_dropout=0.0,
        pooling="last",
        head="sigmoid",
        init_std=0.3,
    )
    model = TextClassifier(cfg, vocab_size=30, num_classes=2, max_seq_len=16).eval()
    width = 12 if bidirectional else 6
    assert model.head.proj.weight.shape == (1, width)
    texts = [[2, 9, 8, 7, 6, 5, 4], [2, 5, 6, 7]]
    ids, mask = pad_batch(texts, 0)
    with torch.no_grad():
        logits = model(ids, mask)
        for i, text in enumerate(texts):
            x = model.input(torch.tensor([text]))
            h_n = model.encoder.rnn(x)[1][0]  # nn.LSTM's own final hidden state, (directions, 1, H)
            final = h_n[:, 0].reshape(-1)
            p = torch.sigmoid(model.head.proj.weight[0] @ final + model.head.proj.bias[0])
            torch.testing.assert_close(logits[i].softmax(-1)[1], p, atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="two classes"):
        TextClassifier(cfg, vocab_size=30, num_classes=3, max_seq_len=16)
