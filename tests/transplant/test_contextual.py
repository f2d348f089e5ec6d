"""Contextual vectors (transplant/contextual.py): every layer's hidden states of a checkpoint folder equal
transformers' ``hidden_states`` for the ids its own tokenizer gives; the same word in two texts has one
static row and two contextual vectors."""

from __future__ import annotations

import pytest
import torch

from hf_helpers import FAMILIES, checkpoint_dir, reference_model
from scratchlm.errors import DataError
from scratchlm.transplant.contextual import compare_word, find_word, hidden_states, layer_index, load_encoder

TEXT = "你好，世界！"


@pytest.mark.parametrize("family", ["bert", "xlm-roberta", "albert", "distilbert", "electra"])
def test_every_layer_equals_transformers_hidden_states(tmp_path_factory, family):
    from tokenizers import Tokenizer

    folder = checkpoint_dir(tmp_path_factory, family, "bin")
    encoder = load_encoder(str(folder))
    tokens, ids = encoder.encode(TEXT)
    want_ids = Tokenizer.from_file(str(folder / "tokenizer.json")).encode(TEXT).ids
    assert ids == want_ids and len(tokens) == 8  # [CLS] 你 好 ， 世 界 ！ [SEP] (or <s> ... </s>)
    states = hidden_states(encoder, ids)
    with torch.no_grad():
        want = reference_model(family, "bin")(
            input_ids=torch.tensor([ids]), output_hidden_states=True
        ).hidden_states
    assert len(states) == len(want) == encoder.num_layers + 1
    for got, ref in zip(states, want, strict=True):
        torch.testing.assert_close(got, ref[0], atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_compares_a_word_in_two_contexts(tmp_path_factory, family):
    encoder = load_encoder(str(checkpoint_dir(tmp_path_factory, family, "bin")))
    report = compare_word(encoder, ["我在银行存钱", "我们在河边的银行散步"], "银行")
    cos = report["contextual_cosine"]
    assert report["positions"] == [[3, 4], [7, 8]] and cos[0][1] == cos[1][0] and cos[0][1] < 0.9999
    assert (report["contextual_vs_static"] is None) == (family in ("albert", "electra"))  # 16-d rows


def test_a_word_in_two_contexts(tmp_path_factory):
    encoder = load_encoder(str(checkpoint_dir(tmp_path_factory, "bert", "legacy")))
    texts = ["我在银行存钱", "我们在河边的银行散步"]
    report = compare_word(encoder, texts, "银行")
    assert report["positions"] == [[3, 4], [7, 8]]  # after [CLS]
    cos = report["contextual_cosine"]
    assert cos[0][0] == pytest.approx(1.0) and cos[0][1] == cos[1][0] and cos[0][1] < 0.9999
    _, ids = encoder.encode(texts[1])
    last = hidden_states(encoder, ids)[-1][[7, 8]].mean(0)
    static = encoder.model.token_embedding.matrix()[report["pieces"]].detach().mean(0)
    want = float(torch.nn.functional.cosine_similarity(last, static, dim=0))
    assert report["contextual_vs_static"][1] == pytest.approx(want, abs=1e-4)
    with pytest.raises(DataError, match=r"not in text 2 \('别的'\)"):
        compare_word(encoder, ["银行", "别的"], "银行")


def test_layers_and_positions():
    assert layer_index("last", 4) == [3] and layer_index("all", 3) == [0, 1, 2] and layer_index("0", 3) == [0]
    with pytest.raises(DataError, match="--layer 7: use last, all, or a number from 0"):
        layer_index("7", 3)
    assert find_word([2, 5, 6, 5, 6], [5, 6]) == [1, 2] and find_word([2, 5], [6]) is None


def test_a_run_is_a_source(tiny_run):
    encoder = load_encoder(str(tiny_run))
    tokens, ids = encoder.encode("很好")
    assert tokens[0] == "[CLS]"
    states = hidden_states(encoder, ids)
    with torch.no_grad():
        want = encoder.model.encode(torch.tensor([ids]))[0]
    torch.testing.assert_close(states[-1], want)
    assert len(states) == encoder.num_layers + 1
