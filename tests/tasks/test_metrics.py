"""Classification metrics against scikit-learn, and a hand-computed example."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from scratchlm.tasks.metrics import classification_metrics, format_metrics
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
