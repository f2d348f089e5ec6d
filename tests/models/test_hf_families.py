"""BERT-family members (models/hf_families.py): which family a config.json names, and the ModelConfig
fields of each, with what scratchlm cannot reproduce named in one line."""

from __future__ import annotations

import pytest

from scratchlm.config import ModelConfig
from scratchlm.errors import DataError
from scratchlm.models.hf_families import FAMILIES, family_of, max_positions, model_fields


@pytest.mark.parametrize(
    "config, family",
    [
        ({"model_type": "bert"}, "bert"),
        ({"model_type": "xlm-roberta"}, "roberta"),
        ({"architectures": ["BertForMaskedLM"]}, "bert"),
        ({"architectures": ["ElectraForPreTraining"]}, "electra"),
        ({"architectures": ["DistilBertForSequenceClassification"]}, "distilbert"),
    ],
)
def test_family_of(config, family):
    assert family_of(config).name == family


def test_an_unknown_architecture_is_one_line():
    with pytest.raises(DataError) as exc:
        family_of({"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"]}, where="x/config.json")
    message = str(exc.value)
    assert message.startswith(
        "x/config.json: unknown architecture (model_type 'gpt2', architectures ['GPT2LMHeadModel'])"
    )
    assert (
        "albert, bert, camembert, distilbert, electra, roberta, xlm-roberta" in message
        and "\n" not in message
    )


BERT = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64)


def test_fields_of_each_family_make_a_model_config():
    albert = model_fields(
        FAMILIES["albert"], {**BERT, "num_hidden_layers": 3, "embedding_size": 16, "hidden_act": "gelu_new"}
    )
    assert albert["input_dim"] == 16 and albert["encoder"]["unique_layers"] == 1
    assert albert["encoder"]["activation"] == "gelu_tanh"
    electra = model_fields(FAMILIES["electra"], {**BERT, "embedding_size": 32})
    assert "input_dim" not in electra  # the same width: ElectraModel has no embeddings_project
    distil = model_fields(FAMILIES["distilbert"], dict(dim=32, n_layers=2, n_heads=4, hidden_dim=64))
    assert distil["num_token_types"] == 0 and distil["norm_eps"] == 1e-12
    for fields in (albert, electra, distil):
        cfg = ModelConfig(**fields)
        assert cfg.encoder.norm_position == "post" and cfg.positional.kind == "learned"
    roberta = {**BERT, "model_type": "roberta", "pad_token_id": 1, "max_position_embeddings": 514}
    assert max_positions(FAMILIES["roberta"], roberta) == 512


def test_what_scratchlm_cannot_run_is_listed():
    with pytest.raises(
        DataError,
        match=r"not a bert encoder scratchlm can run: hidden_act 'relu'.*; position_embedding_type 'relative_key'",
    ):
        model_fields(
            FAMILIES["bert"], {**BERT, "hidden_act": "relu", "position_embedding_type": "relative_key"}
        )
    with pytest.raises(DataError, match="inner_group_num 2"):
        model_fields(FAMILIES["albert"], {**BERT, "inner_group_num": 2})
    with pytest.raises(DataError, match="no intermediate_size"):
        model_fields(FAMILIES["bert"], {k: v for k, v in BERT.items() if k != "intermediate_size"})
