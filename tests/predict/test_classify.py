"""Texts of a classifier run -> labels, probabilities, logits (``scratchlm predict`` and ``/v1/classify``)."""

from __future__ import annotations

import math

import pytest

from scratchlm.predict.classify import classify_encoded, classify_texts, encode_texts

TEXTS = [
    "这本书写得太好了，强烈推荐！",
    "差",
    "物流很快，包装也不错，就是价格有点贵。",
    "Quality is OK 质量一般",
]


def test_classify_gives_a_distribution_per_text_in_order(run):
    results = classify_texts(run, TEXTS)
    assert len(results) == len(TEXTS)
    for r in results:
        assert set(r["probabilities"]) == set(run.labels)
        assert math.isclose(sum(r["probabilities"].values()), 1.0, abs_tol=1e-5)
        assert r["label"] == max(r["probabilities"], key=r["probabilities"].get)
        assert r["score"] == r["probabilities"][r["label"]]
    # one text at a time gives the same answers: padding in a batch changes nothing
    for text, r in zip(TEXTS, results, strict=True):
        alone = classify_texts(run, [text])[0]
        assert alone["logits"] == pytest.approx(r["logits"], abs=1e-5)


def test_classify_counts_truncated_tokens(run):
    long = "好" * (run.max_seq_len + 10)
    (r,) = classify_texts(run, [long])
    assert r["truncated"] == 11  # max_seq_len - 1 characters fit beside [CLS]


def test_encode_texts_as_training_made_them(run):
    enc = encode_texts(run, TEXTS)
    assert [e.ids[0] for e in enc] == [run.tokenizer.vocab.cls_id] * len(TEXTS)
    assert classify_encoded(run, enc) == classify_texts(run, TEXTS)


def test_empty_input(run):
    assert classify_texts(run, []) == []
    assert classify_encoded(run, []) == []


def test_grouped_passes_give_the_same_answers(run):
    texts = TEXTS * 3 + ["好" * 30]
    plain = classify_texts(run, texts, batch_size=len(texts))
    grouped = classify_texts(run, texts, batch_size=len(texts), max_padding=0.1)
    for a, b in zip(plain, grouped, strict=True):
        assert a["logits"] == pytest.approx(b["logits"], abs=1e-5)
        assert a["label"] == b["label"]


def test_a_model_in_train_mode_classifies_as_in_eval_mode_and_stays_in_train_mode(run):
    want = classify_texts(run, TEXTS, max_padding=0.25)
    run.model.train()
    try:
        assert classify_texts(run, TEXTS, max_padding=0.25) == want
        assert run.model.training
    finally:
        run.model.eval()
