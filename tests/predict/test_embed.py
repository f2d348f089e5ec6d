"""Texts of an encoder run -> sentence and token vectors (``/v1/embed``)."""

from __future__ import annotations

import math

import pytest
import torch

from scratchlm.predict.classify import encode_texts
from scratchlm.predict.embed import EmbedOptions, embed_encoded, embed_texts

TEXTS = [
    "这本书写得太好了，强烈推荐！",
    "差",
    "物流很快，包装也不错，就是价格有点贵。",
    "Quality is OK 质量一般",
]


def test_embed_pooled_and_token_vectors(run):
    d = run.config.model.embed_dim
    plain = embed_texts(run, TEXTS)
    assert [len(r["vector"]) for r in plain] == [d] * len(TEXTS)
    assert "token_vectors" not in plain[0]

    (r,) = embed_texts(run, [TEXTS[0]], EmbedOptions(tokens=True, pooling="mean"))
    enc = encode_texts(run, [TEXTS[0]])[0]
    assert r["tokens"] == enc.tokens and r["tokens"][0] == "[CLS]"
    assert len(r["token_vectors"]) == len(enc.ids) and r["offsets"][1] == [0, 1]
    mean = torch.tensor(r["token_vectors"]).mean(0)
    assert torch.allclose(mean, torch.tensor(r["vector"]), atol=1e-5)  # mean pooling over real tokens only

    (wide,) = embed_texts(run, [TEXTS[1]], EmbedOptions(pooling="mean_max"))
    assert len(wide["vector"]) == 2 * d
    unit = embed_texts(run, TEXTS, EmbedOptions(normalize=True))
    assert all(math.isclose(sum(x * x for x in u["vector"]), 1.0, abs_tol=1e-4) for u in unit)
    # batched = alone
    assert embed_texts(run, [TEXTS[2]])[0]["vector"] == pytest.approx(plain[2]["vector"], abs=1e-5)


def test_empty_input(run):
    assert embed_texts(run, []) == []
    assert embed_encoded(run, [], EmbedOptions(tokens=True)) == []


def test_grouped_passes_give_the_same_answers(run):
    texts = TEXTS * 3 + ["好" * 30]
    pooled = embed_texts(run, texts, EmbedOptions(tokens=True), max_padding=0.1)
    for a, b in zip(embed_texts(run, texts, EmbedOptions(tokens=True)), pooled, strict=True):
        assert a["vector"] == pytest.approx(b["vector"], abs=1e-5)
        assert len(a["token_vectors"]) == len(b["token_vectors"])
        for va, vb in zip(a["token_vectors"], b["token_vectors"], strict=True):
            assert va == pytest.approx(vb, abs=1e-5)


def test_a_model_in_train_mode_embeds_as_in_eval_mode_and_stays_in_train_mode(run):
    want = embed_texts(run, TEXTS, EmbedOptions(tokens=True))
    run.model.train()
    try:
        assert embed_texts(run, TEXTS, EmbedOptions(tokens=True)) == want
        assert run.model.training
    finally:
        run.model.eval()
