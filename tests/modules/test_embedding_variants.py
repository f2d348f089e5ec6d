"""Token embedding variants: initialisations, sqrt(d) scale, factorized (ALBERT), frozen rows, token
types, norms, concat combine; BERT parity; the padding row in every variant; config errors."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from scratchlm.config import ModelConfig, TrainConfig
from scratchlm.errors import ConfigError
from scratchlm.models import TextClassifier, components
from scratchlm.modules import (
    ConcatProjectPositions,
    FactorizedTokenEmbedding,
    InputLayer,
    SinusoidalPositionalEncoding,
    TokenEmbedding,
    TokenTypeEmbedding,
)
from scratchlm.training.optim import build_optimizer
from scratchlm.viz.summary import summarize

V, D = 3000, 64


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


def test_embed_scale_multiplies_by_sqrt_d():
    cfg = ModelConfig(embed_dim=16, encoder={"num_heads": 2}, embed_scale=True)
    emb = components.token_embedding(cfg, vocab_size=30, pad_id=0)
    ids = torch.tensor([[3, 4, 0]])
    torch.testing.assert_close(emb(ids), emb.weight[ids] * 4.0)


def test_factorized_parameter_counts_and_summary():
    full = TokenEmbedding(V, D)
    fact = FactorizedTokenEmbedding(V, D, 8)
    n = sum(p.numel() for p in fact.parameters())
    assert n == V * 8 + 8 * D == fact.parameter_saving()[0]
    assert sum(p.numel() for p in full.parameters()) == V * D == fact.parameter_saving()[1]
    assert fact(torch.tensor([[1, 2]])).shape == (1, 2, D)
    torch.testing.assert_close(fact.matrix(), fact.factors.weight @ fact.projection.weight.T)
    # rows of E = A.B start at about A's scale (B ~ N(0, 1/r))
    assert fact.matrix()[1:].std().item() == pytest.approx(0.02, rel=0.2)

    cfg = ModelConfig(embed_dim=D, encoder={"num_heads": 2, "num_layers": 1, "ffn_dim": 32}, embedding_rank=8)
    model = TextClassifier(cfg, vocab_size=V, num_classes=2, max_seq_len=16)
    dense = TextClassifier(
        ModelConfig(embed_dim=D, encoder={"num_heads": 2, "num_layers": 1, "ffn_dim": 32}),
        vocab_size=V,
        num_classes=2,
        max_seq_len=16,
    )
    count = sum(p.numel() for p in model.parameters())
    assert sum(p.numel() for p in dense.parameters()) - count == V * D - (V * 8 + 8 * D)
    table = summarize(model, torch.randint(5, V, (2, 8)))
    saved = V * D - (V * 8 + 8 * D)
    assert f"input.token_embedding: factorized token embedding: A {V} x 8 + B 8 x {D}" in table
    assert f"saves {saved:,}" in table
    assert f"{V * 8 + 8 * D:>14,}" in table  # the row of input.token_embedding


def test_factorized_refuses_pretrained_rows():
    with pytest.raises(ValueError, match="no exact place"):
        FactorizedTokenEmbedding(10, 8, 2).load_rows(torch.ones(1, 8), torch.tensor([1]))


VARIANTS = {
    "normal": {},
    "xavier": {"embedding_init": "xavier"},
    "zeros": {"embedding_init": "zeros"},
    "scaled": {"embed_scale": True},
    "factorized": {"embedding_rank": 4},
    "frozen_rows": {"init": "word2vec", "freeze_embedding_rows": "pretrained"},
    "bert_like": {"positional": {"kind": "learned"}, "num_token_types": 2, "embedding_norm": "layernorm"},
    "concat_rmsnorm": {
        "positional": {"combine": "concat", "combine_activation": "tanh"},
        "embedding_norm": "rmsnorm",
    },
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_padding_row_is_zero_and_gets_no_gradient(variant):
    cfg = ModelConfig(
        embed_dim=16,
        encoder={"num_heads": 2, "num_layers": 1, "ffn_dim": 32},
        pooling="mean",
        **VARIANTS[variant],
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
        encoder={"num_heads": 2, "num_layers": 1, "ffn_dim": 32},
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


def test_bert_embeddings_parity():
    from transformers import BertConfig
    from transformers.models.bert.modeling_bert import BertEmbeddings

    from scratchlm.models.hf_bert import copy_bert_embeddings

    torch.manual_seed(0)
    hf_cfg = BertConfig(
        vocab_size=100,
        hidden_size=32,
        max_position_embeddings=40,
        type_vocab_size=2,
        layer_norm_eps=1e-12,
        hidden_dropout_prob=0.0,
        pad_token_id=0,
    )
    hf = BertEmbeddings(hf_cfg).eval()
    with torch.no_grad():
        for p in hf.parameters():
            p.normal_(0, 0.5)
        hf.word_embeddings.weight[0].zero_()
    cfg = ModelConfig(
        embed_dim=32,
        encoder={"num_heads": 2},
        positional={"kind": "learned"},
        num_token_types=2,
        embedding_norm="layernorm",
        norm_eps=1e-12,
        embedding_dropout=0.0,
    )
    ours = components.input_layer(
        cfg, components.position_parts(cfg, max_seq_len=40), vocab_size=100, pad_id=0
    ).eval()
    copy_bert_embeddings(ours, hf)
    ids = torch.randint(1, 100, (3, 17))
    ids[1, 12:] = 0
    types = torch.randint(0, 2, (3, 17))
    with torch.no_grad():
        torch.testing.assert_close(ours(ids, types), hf(ids, types), atol=1e-6, rtol=0)
        torch.testing.assert_close(ours(ids), hf(ids), atol=1e-6, rtol=0)  # no types: all type 0


def test_token_types_default_to_type_zero():
    layer = InputLayer(TokenEmbedding(20, 8), None, token_type_embedding=TokenTypeEmbedding(3, 8))
    ids = torch.tensor([[1, 2, 3]])
    torch.testing.assert_close(layer(ids), layer(ids, torch.zeros_like(ids)))
    assert not torch.equal(layer(ids), layer(ids, torch.ones_like(ids)))


def test_concat_with_identity_blocks_equals_add():
    d = 8
    combine = ConcatProjectPositions(d)
    with torch.no_grad():
        combine.proj.weight.copy_(torch.cat([torch.eye(d), torch.eye(d)], dim=1))  # W = [I, I]
        combine.proj.bias.zero_()
    pe = SinusoidalPositionalEncoding(d, 16)
    concat = InputLayer(TokenEmbedding(30, d), pe, combine=combine)
    added = InputLayer(concat.token_embedding, pe)
    ids = torch.randint(1, 30, (2, 9))
    torch.testing.assert_close(concat(ids), added(ids))
    assert sum(p.numel() for p in combine.parameters()) == 2 * d * d + d


@pytest.mark.parametrize(
    ("norm", "cls"), [("layernorm", nn.LayerNorm), ("rmsnorm", nn.RMSNorm), ("none", None)]
)
def test_embedding_norm(norm, cls):
    cfg = ModelConfig(embed_dim=16, encoder={"num_heads": 2}, embedding_norm=norm, embedding_dropout=0.0)
    layer = components.input_layer(cfg, components.position_parts(cfg, 8), vocab_size=30, pad_id=0).eval()
    assert (layer.norm is None) if cls is None else isinstance(layer.norm, cls)
    out = layer(torch.randint(1, 30, (2, 5)))
    if norm == "rmsnorm":
        torch.testing.assert_close(out.pow(2).mean(-1), torch.ones(2, 5), atol=1e-4, rtol=1e-4)
    if norm == "layernorm":
        torch.testing.assert_close(out.mean(-1), torch.zeros(2, 5), atol=1e-5, rtol=0)


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


def test_copying_bert_embeddings_names_what_does_not_fit():
    from transformers import BertConfig
    from transformers.models.bert.modeling_bert import BertEmbeddings

    from scratchlm.models.hf_bert import copy_bert_embeddings

    hf = BertEmbeddings(BertConfig(vocab_size=100, hidden_size=32, max_position_embeddings=40))
    cfg = ModelConfig(
        embed_dim=32, encoder={"num_heads": 2}, positional={"kind": "sinusoidal"}, embedding_norm="layernorm"
    )
    ours = components.input_layer(
        cfg, components.position_parts(cfg, max_seq_len=40), vocab_size=90, pad_id=0
    )
    with pytest.raises(ValueError) as err:
        copy_bert_embeddings(ours, hf)
    message = str(err.value)
    assert "token_embedding.embedding.weight (90, 32) != word_embeddings.weight (100, 32)" in message
    assert "no positional.weight" in message and "no token_type_embedding.embedding.weight" in message
