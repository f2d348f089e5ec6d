"""Neighbours, similarity, analogies and the standard word benchmarks, with gensim's exact rules.

Analogy ``a : b :: c : ?`` ranks words by
- 3CosAdd: ``cos(x, b - a + c)`` on unit vectors (Mikolov et al. 2013; gensim ``most_similar``);
- 3CosMul: ``cos'(x, b) cos'(x, c) / (cos'(x, a) + 1e-6)`` with ``cos' = (1 + cos) / 2`` (Levy & Goldberg
  2014, eq. 4 and footnote 7; gensim ``most_similar_cosmul``),
never returning ``a``, ``b`` or ``c``. ``evaluate_analogies`` and ``evaluate_pairs`` follow gensim's
``evaluate_word_analogies`` / ``evaluate_word_pairs`` rule for rule (the first ``restrict_vocab`` words,
upper-cased lookups where the first spelling wins, the top-5 fallback, OOV counting, ``oov_ratio`` in
percent), so the numbers agree; the analogy questions are scored in batches of matrix products instead
of one at a time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scratchlm.errors import DataError
from scratchlm.vectors.base import Vectors

METHODS = ("3cosadd", "3cosmul")
BENCHMARKS = {
    "questions-words": "questions-words.txt",
    "wordsim353": "wordsim353.tsv",
    "simlex999": "simlex999.txt",
}
_SCORES_PER_BATCH = 1 << 24  # floats in one (questions x vocabulary) score block: 64 MB


def _restrict(vectors: Vectors, restrict_vocab: int | None) -> int:
    return len(vectors) if restrict_vocab is None else max(1, min(restrict_vocab, len(vectors)))


def _top(scores: np.ndarray, topn: int) -> np.ndarray:
    """Indices of the ``topn`` largest scores of each row, best first."""
    topn = min(topn, scores.shape[-1])
    part = np.argpartition(-scores, topn - 1, axis=-1)[..., :topn]
    order = np.argsort(-np.take_along_axis(scores, part, -1), axis=-1, kind="stable")
    return np.take_along_axis(part, order, -1)


def neighbors(
    vectors: Vectors, word: str | np.ndarray, *, topn: int = 10, restrict_vocab: int | None = None
) -> list[tuple[str, float]]:
    """The ``topn`` words closest to ``word`` (a word or a vector) by cosine, the word itself left out."""
    unit = vectors.unit[: _restrict(vectors, restrict_vocab)]
    if isinstance(word, str):
        q, skip = vectors.unit[vectors.row(word)], {vectors.row(word)}
    else:
        q, skip = np.asarray(word, np.float32), set()
        q = q / max(float(np.linalg.norm(q)), 1e-12)
    scores = unit @ q
    best = _top(scores, topn + len(skip))
    return [(vectors.words[i], float(scores[i])) for i in best if i not in skip][:topn]


def similarity(vectors: Vectors, a: str, b: str) -> float:
    return float(vectors.unit[vectors.row(a)] @ vectors.unit[vectors.row(b)])


def _analogy_scores(unit: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray, method: str) -> np.ndarray:
    """``(q, R)`` scores for questions with row ids ``a, b, c`` (each ``(q,)``); inputs set to -inf."""
    if method == "3cosadd":
        query = unit[b] + unit[c] - unit[a]  # (q, d)
        query /= np.maximum(np.linalg.norm(query, axis=1, keepdims=True), 1e-12)
        scores = query @ unit.T  # (q, R)
    elif method == "3cosmul":

        def shifted(ids):
            return (1 + unit[ids] @ unit.T) / 2

        scores = shifted(b) * shifted(c) / (shifted(a) + 1e-6)
    else:
        raise DataError(f"unknown analogy method {method!r}; choose from {', '.join(METHODS)}")
    rows = np.arange(len(a))
    for ids in (a, b, c):
        scores[rows, ids] = -np.inf
    return scores


def analogy(
    vectors: Vectors,
    a: str,
    b: str,
    c: str,
    *,
    topn: int = 10,
    method: str = "3cosadd",
    restrict_vocab: int | None = None,
) -> list[tuple[str, float]]:
    """``a : b :: c : ?`` (``man king woman`` -> ``queen``)."""
    unit = vectors.unit[: _restrict(vectors, restrict_vocab)]
    ids = [np.array([vectors.row(w)]) for w in (a, b, c)]
    if any(i[0] >= len(unit) for i in ids):
        raise DataError(f"{a}, {b} and {c} must be among the first {len(unit)} words (restrict_vocab)")
    scores = _analogy_scores(unit, *ids, method)[0]
    return [(vectors.words[i], float(scores[i])) for i in _top(scores, topn) if np.isfinite(scores[i])]


def benchmark_file(name: str | Path) -> Path:
    """A built-in benchmark (the copies gensim ships in ``gensim/test/test_data``) or a file path."""
    if str(name) in BENCHMARKS:
        from scratchlm.data.builtin import package_dir

        return package_dir("gensim", "vectors") / "test" / "test_data" / BENCHMARKS[str(name)]
    path = Path(name)
    if not path.is_file():
        raise DataError(f"{name}: no such benchmark file; built-in: {', '.join(BENCHMARKS)}")
    return path


def _lines(path: Path) -> list[str]:
    """The file's lines as gensim sees them (``\n``, ``\r\n`` or ``\r`` ends a line, nothing else)."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError(f"{path}:{line}: not UTF-8 ({exc.reason})") from None


def _ok_vocab(vectors: Vectors, limit: int, case_insensitive: bool) -> dict[str, int]:
    keys = vectors.words[:limit]
    if case_insensitive:
        keys = [k.upper() for k in keys]
    return dict(zip(reversed(keys), range(len(keys) - 1, -1, -1), strict=True))  # first spelling wins


def is_analogy_file(path: Path) -> bool:
    return any(line.startswith(": ") for line in _lines(path)[:50])


def evaluate_analogies(
    vectors: Vectors,
    path: str | Path,
    *,
    restrict_vocab: int = 300000,
    case_insensitive: bool = True,
    method: str = "3cosadd",
) -> dict:
    """Accuracy on ``: section`` + ``a b c expected`` lines (questions-words.txt), as gensim counts it."""
    path = Path(path)
    limit = _restrict(vectors, restrict_vocab)
    ok_vocab = _ok_vocab(vectors, limit, case_insensitive)
    sections: list[dict] = []
    questions: list[tuple[int, str, str, str, str]] = []
    oov = total = 0
    for lineno, line in enumerate(_lines(path), 1):
        if line.startswith(": "):
            sections.append({"section": line.lstrip(": ").strip(), "correct": 0, "total": 0})
            continue
        if not sections:
            raise DataError(f"{path}:{lineno}: a question before the first ': section' line")
        words = [w.upper() if case_insensitive else w for w in line.split()]
        if len(words) != 4:
            continue
        total += 1
        if any(w not in ok_vocab for w in words):
            oov += 1
            continue
        questions.append((len(sections) - 1, *words))
    unit = vectors.unit[:limit]
    batch = max(1, _SCORES_PER_BATCH // limit)
    for start in range(0, len(questions), batch):
        part = questions[start : start + batch]
        a, b, c = (np.array([ok_vocab[q[k]] for q in part]) for k in (1, 2, 3))
        top5 = _top(_analogy_scores(unit, a, b, c, method), 5)
        for q, candidates in zip(part, top5, strict=True):
            ignore, predicted = set(q[1:4]), None
            for i in candidates:
                predicted = vectors.words[i].upper() if case_insensitive else vectors.words[i]
                if predicted in ok_vocab and predicted not in ignore:
                    break
            sections[q[0]]["total"] += 1
            sections[q[0]]["correct"] += predicted == q[4]
    correct, scored = sum(s["correct"] for s in sections), sum(s["total"] for s in sections)
    for s in sections:
        s["accuracy"] = s["correct"] / s["total"] if s["total"] else 0.0
    return {
        "benchmark": str(path),
        "kind": "analogy",
        "method": method,
        "restrict_vocab": limit,
        "accuracy": correct / scored if scored else 0.0,
        "correct": correct,
        "questions": total,
        "oov": oov,
        "oov_ratio": 100.0 * oov / total if total else 0.0,
        "sections": sections,
    }


def evaluate_pairs(
    vectors: Vectors,
    path: str | Path,
    *,
    delimiter: str = "\t",
    restrict_vocab: int = 300000,
    case_insensitive: bool = True,
) -> dict:
    """Spearman and Pearson correlation with human similarity scores (``a<TAB>b<TAB>score`` lines)."""
    from scipy import stats

    path = Path(path)
    ok_vocab = _ok_vocab(vectors, _restrict(vectors, restrict_vocab), case_insensitive)
    gold, model = [], []
    oov = 0
    for line in _lines(path):
        if not line or line.startswith("#"):
            continue
        fields = [w.upper() if case_insensitive else w for w in line.split(delimiter)]
        try:
            a, b, sim = fields
            sim = float(sim)
        except ValueError:
            continue
        if a not in ok_vocab or b not in ok_vocab:
            oov += 1
            continue
        gold.append(sim)
        model.append(float(vectors.unit[ok_vocab[a]] @ vectors.unit[ok_vocab[b]]))
    if len(gold) < 2:
        raise DataError(
            f"{path}: fewer than 2 word pairs with both words in the vectors ({oov} out of vocabulary)"
        )
    return {
        "benchmark": str(path),
        "kind": "pairs",
        "restrict_vocab": _restrict(vectors, restrict_vocab),
        "spearman": float(stats.spearmanr(gold, model).statistic),
        "pearson": float(stats.pearsonr(gold, model).statistic),
        "pairs": len(gold),
        "oov": oov,
        "oov_ratio": 100.0 * oov / (len(gold) + oov),
    }


def evaluate(vectors: Vectors, benchmark: str | Path, **kw) -> dict:
    """Run a built-in benchmark by name (or a file): analogies or word pairs, whichever it holds."""
    path = benchmark_file(benchmark)
    if is_analogy_file(path):
        result = evaluate_analogies(vectors, path, **kw)
    else:
        kw.pop("method", None)
        result = evaluate_pairs(vectors, path, **kw)
    result["benchmark"] = str(benchmark)
    return result
