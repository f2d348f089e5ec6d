from __future__ import annotations

import json
import math

import pytest

from lab_helpers import tiny_seq2seq
from scratchlm.training.run_dir import load_run
from scratchlm.viz.lab_report import describe_run, lab_reads, lab_report
from scratchlm.viz.token_tiers import token_tiers


def test_a_classifier_report_has_every_step(loaded):
    run = loaded["sinusoidal"]
    rep = lab_report(run, "这本书ＡＢ太棒了", token_tiers(run))
    json.dumps(rep)  # JSON-ready
    assert rep["normalization"]["normalized"] == "这本书AB太棒了"
    assert [t["kind"] for t in rep["tokenizations"]] == ["char", "jieba"]
    pos = rep["positions"]
    assert pos["tokens"][0] == "[CLS]" and pos["tokens"][1:] == list("这本书AB太棒了")
    assert pos["ids"] == run.tokenizer.encode("这本书ＡＢ太棒了").ids
    assert pos["unk"] == [i == run.tokenizer.vocab.unk_id for i in pos["ids"]]
    assert [t for t, unk in zip(pos["tokens"], pos["unk"], strict=True) if unk] == ["棒"]  # not in its texts
    layers = rep["attention"]["layers"]
    assert len(layers) == 1 and len(layers[0]) == 2 and len(layers[0][0]) == len(pos["ids"])
    for row in layers[0][0]:
        assert sum(row) == pytest.approx(1, abs=1e-2)
    assert rep["pooled"]["pooling"] == "mean" and len(rep["pooled"]["vector"]) == 16
    pred = rep["prediction"]
    assert pred["kind"] == "label" and set(pred["probabilities"]) == set(run.labels)
    direct = run.handler().predict(run, ["这本书ＡＢ太棒了"], 1)[0]
    assert pred["label"] == direct["label"]
    assert math.isclose(sum(pred["probabilities"].values()), 1, abs_tol=1e-4)


def test_a_tagger_report_has_tags_and_no_attention(loaded):
    run = loaded["tagger"]
    rep = lab_report(run, "很好很好")
    assert rep["positions"]["tokens"] == list("很好很好")
    assert "no attention" in rep["attention"]["note"] and rep["pooled"] is None
    pred = rep["prediction"]
    assert pred["kind"] == "tags" and pred["tags"] == run.handler().predict(run, ["很好很好"], 1)[0]["tags"]
    assert len(pred["tag_probabilities"]) == 4 and len(pred["tag_probabilities"][0]) == len(run.labels)


def test_a_causal_lm_report_has_the_next_token_distribution(loaded):
    run = loaded["causal-lm"]
    rep = lab_report(run, "很好")
    pred = rep["prediction"]
    assert pred["kind"] == "next_token" and pred["after"] == "好"
    ps = [t["p"] for t in pred["top"]]
    assert len(ps) == 10 and ps == sorted(ps, reverse=True) and sum(ps) <= 1.0001
    assert len(rep["attention"]["layers"][0][0]) == 3
    # causal: the first query attends only to itself
    assert rep["attention"]["layers"][0][0][0][1:] == [0, 0]


def test_describe_run_names_the_input_layer(loaded):
    d = describe_run(loaded["rope"])
    assert (d["positional"], d["embedding_norm"], d["tokenizer"], d["num_heads"]) == (
        "rope",
        "layernorm",
        "char",
        2,
    )
    assert describe_run(loaded["tagger"])["num_heads"] is None


def test_the_lab_reads_encoder_models_only(loaded, tmp_path):
    assert all(lab_reads(run) is None for run in loaded.values())
    assert "encoder-decoder" in lab_reads(load_run(tiny_seq2seq(tmp_path)))
