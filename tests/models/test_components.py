"""Wiring modules from a ModelConfig: where each positional kind's parts go, the token embedding's
sqrt(d) scale, and for every encoder kind that padding changes nothing at the real positions."""

from __future__ import annotations

import pytest
import torch

from scratchlm.config import ModelConfig
from scratchlm.data.collate import pad_batch
from scratchlm.models import TextClassifier, components


def test_embed_scale_multiplies_by_sqrt_d():
    cfg = ModelConfig(embed_dim=16, num_heads=2, embed_scale=True)
    emb = components.token_embedding(cfg, vocab_size=30, pad_id=0)
    ids = torch.tensor([[3, 4, 0]])
    torch.testing.assert_close(emb(ids), emb.weight[ids] * 4.0)


def test_a_causal_encoder_is_a_transformer():
    cfg = ModelConfig(embed_dim=16, encoder="lstm", positional="none")
    with pytest.raises(ValueError, match=r"a causal encoder is a Transformer \(model.encoder: transformer\)"):
        components.encoder(cfg, components.position_parts(cfg, 8), causal=True)


def _model(positional: str) -> TextClassifier:
    cfg = ModelConfig(
        embed_dim=16, num_layers=2, num_heads=2, ffn_dim=32, pooling="mean", positional=positional
    )
    return TextClassifier(cfg, vocab_size=50, num_classes=3, max_seq_len=16).eval()


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


@pytest.mark.parametrize("kind", ["transformer", "lstm", "gru"])
def test_padding_does_not_change_real_positions_for_every_encoder(kind):
    """Input layer + encoder, as the models wire them: a sentence alone and padded in a batch with a
    longer one gives the same vectors at its real positions."""
    torch.manual_seed(0)
    extra = {} if kind == "transformer" else {"rnn_hidden_dim": 7, "num_layers": 2}
    cfg = ModelConfig(
        embed_dim=16,
        encoder=kind,
        num_heads=2,
        ffn_dim=32,
        dropout=0.0,
        attention_dropout=0.0,
        embedding_dropout=0.0,
        bigram_buckets=50,
        positional="sinusoidal" if kind == "transformer" else "none",
        init_std=0.2,
        **extra,
    )
    parts = components.position_parts(cfg, 32)
    layer = components.input_layer(cfg, parts, vocab_size=40, pad_id=0)
    encoder = components.encoder(cfg, parts)
    with torch.no_grad():
        layer.bigram_embedding.embedding.weight.normal_(std=0.5)
        layer.bigram_embedding.embedding.weight[0].zero_()
    layer.eval(), encoder.eval()
    short, long = [7, 9, 11, 5], [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    with torch.no_grad():
        alone = encoder(layer(torch.tensor([short])), torch.ones(1, 4, dtype=torch.bool))
        ids, mask = pad_batch([long, short], pad_id=0)
        batched = encoder(layer(ids), mask)
    assert batched.shape == (2, 10, components.encoder_output_dim(cfg))
    torch.testing.assert_close(batched[1, :4], alone[0], atol=1e-5, rtol=0)
    assert not torch.allclose(batched[0, :4], alone[0], atol=1e-3)  # the check is not trivially true
