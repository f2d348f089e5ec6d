"""Classification metrics against scikit-learn and hand-computed examples; span metrics (precision,
recall, F1 of labelled spans) by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from scratchlm.tasks.metrics import classification_metrics, format_metrics, format_span_metrics, span_metrics
from scratchlm.tasks.metrics import confusion_matrix as our_confusion_matrix


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("n", [7, 50, 400])
def test_matches_sklearn_on_random_labels(seed, n):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 3, n)
    # biased predictions: correct more often than chance, sometimes a class never predicted
    y_pred = np.where(rng.random(n) < 0.5, y_true, rng.integers(0, 3 if seed % 2 else 2, n))
    labels = ["a", "b", "c"]
    m = classification_metrics(y_true.tolist(), y_pred.tolist(), labels)
    assert m["num_examples"] == n
    assert m["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred), abs=1e-12)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=[0, 1, 2], zero_division=0)
    for i, label in enumerate(labels):
        assert m["per_class"][label]["precision"] == pytest.approx(p[i], abs=1e-12)
        assert m["per_class"][label]["recall"] == pytest.approx(r[i], abs=1e-12)
        assert m["per_class"][label]["f1"] == pytest.approx(f[i], abs=1e-12)
        assert m["per_class"][label]["support"] == s[i]
    mp, mr, mf, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=[0, 1, 2], average="macro", zero_division=0
    )
    assert m["macro_precision"] == pytest.approx(mp, abs=1e-12)
    assert m["macro_recall"] == pytest.approx(mr, abs=1e-12)
    assert m["macro_f1"] == pytest.approx(mf, abs=1e-12)
    assert m["confusion_matrix"] == confusion_matrix(y_true, y_pred, labels=[0, 1, 2]).tolist()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_sklearn_on_uniform_predictions(seed):
    rng = np.random.default_rng(seed)
    y, p = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    m = classification_metrics(y.tolist(), p.tolist(), ["a", "b", "c"])
    pr, rc, f1, sup = precision_recall_fscore_support(y, p, labels=[0, 1, 2], zero_division=0)
    assert m["accuracy"] == pytest.approx(accuracy_score(y, p))
    assert m["macro_f1"] == pytest.approx(f1_score(y, p, average="macro", zero_division=0))
    for i, label in enumerate("abc"):
        assert m["per_class"][label]["precision"] == pytest.approx(pr[i])
        assert m["per_class"][label]["recall"] == pytest.approx(rc[i])
        assert m["per_class"][label]["f1"] == pytest.approx(f1[i])
        assert m["per_class"][label]["support"] == sup[i]
    assert m["confusion_matrix"] == confusion_matrix(y, p, labels=[0, 1, 2]).tolist()


def test_class_missing_from_truth_and_predictions_matches_sklearn():
    y_true, y_pred = [0, 0, 1, 1], [0, 1, 1, 1]
    m = classification_metrics(y_true, y_pred, ["x", "y", "z"])
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, labels=[0, 1, 2], zero_division=0)
    assert [m["per_class"][k]["f1"] for k in "xyz"] == pytest.approx(list(f))
    assert m["per_class"]["z"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert m["macro_f1"] == pytest.approx(f.mean())


def test_hand_computed_two_class_example():
    # truth: 4 neg, 2 pos. predictions: neg->neg 3, neg->pos 1, pos->pos 1, pos->neg 1
    y_true = [0, 0, 0, 0, 1, 1]
    y_pred = [0, 0, 0, 1, 1, 0]
    m = classification_metrics(y_true, y_pred, ["neg", "pos"])
    assert m["confusion_matrix"] == [[3, 1], [1, 1]]
    assert m["accuracy"] == pytest.approx(4 / 6)
    neg, pos = m["per_class"]["neg"], m["per_class"]["pos"]
    assert neg["precision"] == pytest.approx(3 / 4) and neg["recall"] == pytest.approx(3 / 4)
    assert neg["f1"] == pytest.approx(3 / 4) and neg["support"] == 4
    assert pos["precision"] == pytest.approx(1 / 2) and pos["recall"] == pytest.approx(1 / 2)
    assert pos["f1"] == pytest.approx(1 / 2) and pos["support"] == 2
    assert m["macro_f1"] == pytest.approx(0.625)
    assert m["macro_precision"] == pytest.approx(0.625) and m["macro_recall"] == pytest.approx(0.625)
    assert m["labels"] == ["neg", "pos"]


def test_hand_computed_example_with_a_majority_class():
    # true: 0 0 1 1 1, pred: 0 1 1 1 0 -> class 1: P=2/3, R=2/3; class 0: P=1/2, R=1/2
    m = classification_metrics([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], ["neg", "pos"])
    assert m["accuracy"] == pytest.approx(0.6)
    assert m["per_class"]["pos"]["f1"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert m["confusion_matrix"] == [[1, 1], [1, 2]]


def test_confusion_matrix_rows_are_truth():
    cm = our_confusion_matrix([0, 1, 1, 2], [1, 1, 2, 2], 3)
    assert cm.tolist() == [[0, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_empty_input_and_json_types():
    m = classification_metrics([], [], ["a", "b"])
    assert m["accuracy"] == 0.0 and m["num_examples"] == 0 and m["macro_f1"] == 0.0
    import json

    json.dumps(classification_metrics([0, 1], [1, 1], ["a", "b"]))  # JSON-ready


def test_format_metrics_shows_the_numbers():
    text = format_metrics(classification_metrics([0, 0, 1, 1], [0, 1, 1, 1], ["neg", "pos"]), "dev")
    lines = text.splitlines()
    assert lines[0] == "dev"
    assert "accuracy 0.7500" in lines[1] and "examples 4" in lines[1]
    assert any(line.startswith("neg") and "0.5000" in line for line in lines)


# -- span metrics -----------------------------------------------------------------------------------


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


def test_empty_cases_are_zero_not_errors():
    m = span_metrics([set()], [set()], ["PER"])
    assert m["f1"] == 0.0 and m["per_type"]["PER"]["support"] == 0
    with pytest.raises(ValueError):
        span_metrics([set()], [], [])
