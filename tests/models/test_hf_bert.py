"""BERT-family interop: a tiny random ``transformers.BertModel`` and scratchlm's post-LN classifier
encoder give the same vectors (fp32, 1e-4) through the weight map, in both directions; the input layer
given ``BertEmbeddings``' weights equals it (1e-6), and what does not fit is named."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from scratchlm.config import ModelConfig
from scratchlm.errors import DataError
from scratchlm.models import TextClassifier, components
from scratchlm.models.hf_bert import (
    bert_config,
    bert_model_fields,
    bert_to_scratchlm,
    copy_bert_embeddings,
    scratchlm_to_bert,
)

transformers = pytest.importorskip("transformers")

HF_TINY = dict(
    vocab_size=50,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    max_position_embeddings=24,
    type_vocab_size=2,
    layer_norm_eps=1e-12,
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
    pad_token_id=0,
)


def _hf_model() -> torch.nn.Module:
    torch.manual_seed(0)
    model = transformers.BertModel(transformers.BertConfig(**HF_TINY)).eval()
    with torch.no_grad():  # move LayerNorms and biases off their 1 / 0 init, so the map is tested
        for name, p in model.named_parameters():
            if "LayerNorm" in name or name.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.1)
    return model


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.randint(1, 50, (3, 11))
    ids[1, 7:] = 0
    ids[2, 4:] = 0
    return ids, ids != 0


def _ours(cfg_fields: dict) -> TextClassifier:
    cfg = ModelConfig(**cfg_fields)
    return TextClassifier(cfg, vocab_size=50, num_classes=2, max_seq_len=24).eval()


def test_bert_to_scratchlm_parity():
    hf = _hf_model()
    fields = bert_model_fields(hf.config.to_dict())
    assert fields["encoder"]["norm_position"] == "post" and fields["norm_eps"] == 1e-12
    ours = _ours(fields)
    state, unused = bert_to_scratchlm(hf.state_dict(), 2)
    assert unused == sorted(k for k in hf.state_dict() if k.startswith("pooler."))
    missing, unexpected = ours.load_state_dict(state, strict=False)
    assert not unexpected and all(k.startswith("head.") for k in missing)
    ids, mask = _batch()
    with torch.no_grad():
        want = hf(input_ids=ids, attention_mask=mask.long()).last_hidden_state
        got = ours.encode(ids, mask)
    torch.testing.assert_close(got[mask], want[mask], atol=1e-4, rtol=1e-4)


def test_scratchlm_to_bert_parity():
    fields = bert_model_fields(transformers.BertConfig(**HF_TINY).to_dict())
    ours = _ours(fields)
    with torch.no_grad():
        for p in ours.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    hf_cfg = bert_config(ours.cfg, vocab_size=50, max_positions=24)
    hf = transformers.BertModel(transformers.BertConfig(**hf_cfg)).eval()
    missing, unexpected = hf.load_state_dict(scratchlm_to_bert(ours.state_dict(), 2), strict=False)
    assert not unexpected and all(k.startswith("pooler.") for k in missing)
    ids, mask = _batch()
    with torch.no_grad():
        want = ours.encode(ids, mask)
        got = hf(input_ids=ids, attention_mask=mask.long()).last_hidden_state
    torch.testing.assert_close(got[mask], want[mask], atol=1e-4, rtol=1e-4)


def test_strict_keys_and_architecture_errors():
    state = _hf_model().state_dict()
    del state["encoder.layer.1.output.dense.bias"]
    state["encoder.layer.0.attention.self.rotary.weight"] = torch.zeros(1)
    with pytest.raises(
        DataError, match=r"missing: encoder.layer.1.output.dense.bias.*unexpected: encoder.layer.0"
    ):
        bert_to_scratchlm(state, 2)
    bert_prefixed = {"bert." + k: v for k, v in _hf_model().state_dict().items()}
    bert_prefixed["cls.predictions.bias"] = torch.zeros(50)
    _, unused = bert_to_scratchlm(bert_prefixed, 2)
    assert "cls.predictions.bias" in unused
    with pytest.raises(DataError, match="hidden_act 'relu'"):
        bert_model_fields({**HF_TINY, "hidden_act": "relu"})
    bert = ModelConfig(**bert_model_fields(HF_TINY))
    pre_ln = dataclasses.replace(bert, encoder=dataclasses.replace(bert.encoder, norm_position="pre"))
    with pytest.raises(DataError, match=r"model\.encoder\.norm_position='pre' \(needs 'post'\)"):
        bert_config(pre_ln, vocab_size=50, max_positions=24)


# -- the embeddings block alone (copy_bert_embeddings) ---------------------------------------------


def test_bert_embeddings_parity():
    from transformers import BertConfig
    from transformers.models.bert.modeling_bert import BertEmbeddings

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


def test_copying_bert_embeddings_names_what_does_not_fit():
    from transformers import BertConfig
    from transformers.models.bert.modeling_bert import BertEmbeddings

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
