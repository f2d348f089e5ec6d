"""Word arithmetic: ``"king - man + woman"`` -> the words nearest to the result.

An expression is words joined by ``+`` and ``-`` with spaces around each operator (so a hyphenated word
such as ``well-known`` stays one word); a leading ``-`` is allowed. :func:`nearest` ranks words by gensim's
``most_similar(positive=..., negative=...)`` rule: each word's unit vector, ``+1`` or ``-1``, averaged, the
result scaled to unit length, every word scored by its cosine with it, the input words never returned (so
``king - man + woman`` is the 3CosAdd analogy ``man : king :: woman : ?``; tests/vectors/test_arithmetic.py
checks the words and scores against gensim). :func:`combine` is the plain sum of the raw vectors, the
article's ``e(x1) + e(x2)``.
"""

from __future__ import annotations

import numpy as np

from scratchlm.errors import DataError
from scratchlm.vectors.base import Vectors


def parse_expression(text: str) -> list[tuple[int, str]]:
    """``"king - man + woman"`` -> ``[(1, "king"), (-1, "man"), (1, "woman")]``."""
    terms: list[tuple[int, str]] = []
    sign, operator = 1, None  # the next word's sign; the operator just read (None: none pending)
    for token in text.split():
        if token in ("+", "-"):
            if operator is not None:
                raise DataError(f"{text!r}: two operators in a row ({operator} {token})")
            if terms or token == "-":
                sign, operator = (1 if token == "+" else -1), token
            continue
        if terms and operator is None:
            raise DataError(
                f"{text!r}: {terms[-1][1]!r} and {token!r} need an operator between them "
                "(+ or -, with spaces around it)"
            )
        terms.append((sign, token))
        operator = None
    if not terms:
        raise DataError(f'{text!r}: no words; write e.g. "king - man + woman"')
    if operator is not None:
        raise DataError(f"{text!r}: ends with an operator")
    return terms


def combine(vectors: Vectors, terms: list[tuple[int, str]]) -> np.ndarray:
    """The signed sum of the words' raw vectors ``(d,)``."""
    out = np.zeros(vectors.dim, dtype=np.float64)
    for sign, word in terms:
        out += sign * vectors.vector(word)
    return out.astype(np.float32)


def nearest(
    vectors: Vectors, terms: list[tuple[int, str]], *, topn: int = 10, restrict_vocab: int | None = None
) -> list[tuple[str, float]]:
    """The ``topn`` words closest to the expression by gensim's ``most_similar`` rule (module docstring),
    searched among the first ``restrict_vocab`` words, the input words left out."""
    rows = [vectors.row(word) for _, word in terms]
    unit = vectors.unit
    query = np.mean([sign * unit[r] for (sign, _), r in zip(terms, rows, strict=True)], axis=0)
    query = query / max(float(np.linalg.norm(query)), 1e-12)
    limit = len(vectors) if restrict_vocab is None else max(1, min(restrict_vocab, len(vectors)))
    scores = unit[:limit] @ query  # (R,)
    skip = set(rows)
    order = np.argsort(-scores, kind="stable")
    return [(vectors.words[i], float(scores[i])) for i in order if i not in skip][:topn]
