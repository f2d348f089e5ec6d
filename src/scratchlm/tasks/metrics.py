"""Classification metrics (accuracy, per-class and macro precision/recall/F1, confusion matrix) and
strict span metrics for taggers (words, entities).

Classification metrics come from the confusion matrix ``C[true, pred]``; a class with no predictions (or no examples)
gets precision (recall) 0, as scikit-learn's ``zero_division=0``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], num_classes: int) -> np.ndarray:
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return cm


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a, dtype=np.float64), where=b > 0)


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int], labels: Sequence[str]) -> dict:
    """JSON-ready metrics. ``per_class[label]`` has precision, recall, f1, support."""
    k = len(labels)
    cm = confusion_matrix(y_true, y_pred, k)
    tp = np.diag(cm).astype(np.float64)
    predicted = cm.sum(0).astype(np.float64)
    support = cm.sum(1).astype(np.float64)
    precision = _div(tp, predicted)
    recall = _div(tp, support)
    f1 = _div(2 * precision * recall, precision + recall)
    n = int(cm.sum())
    return {
        "num_examples": n,
        "accuracy": float(tp.sum() / n) if n else 0.0,
        "macro_precision": float(precision.mean()),
        "macro_recall": float(recall.mean()),
        "macro_f1": float(f1.mean()),
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "labels": list(labels),
        "confusion_matrix": cm.tolist(),
    }


def format_metrics(m: dict, title: str = "") -> str:
    """A short human-readable table."""
    lines = [title] if title else []
    loss = f"   loss {m['loss']:.4f}" if "loss" in m else ""
    lines.append(
        f"accuracy {m['accuracy']:.4f}   macro-F1 {m['macro_f1']:.4f}{loss}   examples {m['num_examples']}"
    )
    width = max(len(label) for label in m["per_class"]) + 2
    lines.append(f"{'label':<{width}}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}")
    for label, r in m["per_class"].items():
        lines.append(
            f"{label:<{width}}{r['precision']:>10.4f}{r['recall']:>10.4f}{r['f1']:>10.4f}{r['support']:>10}"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- spans
def span_metrics(
    gold: Sequence[Iterable[tuple[int, int, str]]],
    predicted: Sequence[Iterable[tuple[int, int, str]]],
    types: Sequence[str] = (),
) -> dict:
    """Strict span-level precision, recall and F1 (CoNLL / seqeval): a predicted span counts only when
    a gold span of the same sentence has exactly its start, end and type. ``gold[i]`` and
    ``predicted[i]`` are the ``(start, end, type)`` spans of sentence i: entities for NER, words (type
    ``""``, reported as ``word``) for word segmentation.

    ``precision``, ``recall``, ``f1``: micro (pooled over every span); ``per_type[t]``: the same for one
    type, with ``support`` (gold spans), ``predicted`` and ``correct``; ``macro_f1``: mean over types. A
    zero denominator gives 0, as ``zero_division=0``."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold sentences but {len(predicted)} predicted")
    counts: dict[str, list[int]] = {t or "word": [0, 0, 0] for t in types}  # gold, predicted, correct
    for g, p in zip(gold, predicted, strict=True):
        g, p = set(g), set(p)
        for spans, slot in ((g, 0), (p, 1), (g & p, 2)):
            for _, _, kind in spans:
                counts.setdefault(kind or "word", [0, 0, 0])[slot] += 1

    def prf(n_gold: int, n_pred: int, n_correct: int) -> dict:
        precision = n_correct / n_pred if n_pred else 0.0
        recall = n_correct / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1}

    total = [sum(c[i] for c in counts.values()) for i in range(3)]
    per_type = {
        kind: {**prf(*c), "support": c[0], "predicted": c[1], "correct": c[2]}
        for kind, c in sorted(counts.items())
    }
    return {
        **prf(*total),
        "macro_f1": float(np.mean([r["f1"] for r in per_type.values()])) if per_type else 0.0,
        "num_sentences": len(gold),
        "gold_spans": total[0],
        "predicted_spans": total[1],
        "correct_spans": total[2],
        "per_type": per_type,
    }


def format_span_metrics(m: dict, title: str = "") -> str:
    """A short table: micro P/R/F1, then one row per type."""
    lines = [title] if title else []
    lines.append(
        f"precision {m['precision']:.4f}   recall {m['recall']:.4f}   F1 {m['f1']:.4f}   "
        f"sentences {m['num_sentences']}"
        + (f"   token accuracy {m['token_accuracy']:.4f}" if "token_accuracy" in m else "")
    )
    width = max([len(k) for k in m["per_type"]] + [4]) + 2
    lines.append(
        f"{'type':<{width}}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}{'predicted':>11}"
    )
    for kind, r in m["per_type"].items():
        lines.append(
            f"{kind:<{width}}{r['precision']:>10.4f}{r['recall']:>10.4f}{r['f1']:>10.4f}{r['support']:>10}"
            f"{r['predicted']:>11}"
        )
    return "\n".join(lines)
