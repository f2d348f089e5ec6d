"""Span metrics equal hand-computed examples."""

from __future__ import annotations

import pytest

from scratchlm.tasks.metrics import format_span_metrics, span_metrics
from scratchlm.tasks.tagging_units import evaluate_tags


def test_entity_metrics_by_hand():
    gold = [{(0, 2, "PER"), (5, 7, "LOC")}, {(1, 3, "ORG")}]
    pred = [{(0, 2, "PER"), (5, 6, "LOC"), (8, 9, "LOC")}, {(1, 3, "ORG")}]
    m = span_metrics(gold, pred, ["LOC", "ORG", "PER"])
    # 3 gold, 4 predicted, 2 correct (PER exact, ORG exact; the LOC boundary is off by one)
    assert (m["gold_spans"], m["predicted_spans"], m["correct_spans"]) == (3, 4, 2)
    assert m["precision"] == pytest.approx(0.5) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert m["per_type"]["LOC"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 1,
        "predicted": 2,
        "correct": 0,
    }
    assert m["per_type"]["PER"]["f1"] == 1.0 and m["per_type"]["ORG"]["f1"] == 1.0
    assert m["macro_f1"] == pytest.approx(2 / 3)
    assert "LOC" in format_span_metrics(m, "test")


def test_word_metrics_by_hand_from_tags():
    # gold: 迈向 / 充满 / 希望 ; predicted: 迈 / 向 / 充满 / 希望
    gold = [["B", "E", "B", "E", "B", "E"]]
    pred = [["S", "S", "B", "E", "B", "E"]]
    m = evaluate_tags(pred, gold, "bmes", [""])
    assert (m["gold_spans"], m["predicted_spans"], m["correct_spans"]) == (3, 4, 2)
    assert m["precision"] == pytest.approx(0.5) and m["recall"] == pytest.approx(2 / 3)
    assert list(m["per_type"]) == ["word"]
    assert m["token_accuracy"] == pytest.approx(4 / 6) and m["num_tokens"] == 6


def test_bio_entities_from_tags_are_strict():
    gold = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["O", "I-PER", "O", "B-LOC"]]  # a stray I-PER is no entity
    m = evaluate_tags(pred, gold, "bio", ["LOC", "PER"])
    assert m["precision"] == 1.0 and m["recall"] == 0.5
    assert m["per_type"]["PER"]["predicted"] == 0


def test_empty_cases_are_zero_not_errors():
    m = span_metrics([set()], [set()], ["PER"])
    assert m["f1"] == 0.0 and m["per_type"]["PER"]["support"] == 0
    with pytest.raises(ValueError):
        span_metrics([set()], [], [])
