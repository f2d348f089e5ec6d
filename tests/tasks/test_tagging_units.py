"""Tags to spans and their metrics (evaluate_tags) equal hand-computed examples: words from BMES, strict
BIO entities."""

from __future__ import annotations

import pytest

from scratchlm.tasks.tagging_units import evaluate_tags


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
