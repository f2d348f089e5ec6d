"""Find a vocabulary's tokens among a source's rows, by name, in tiers: the one matching used by
``model.init`` (:mod:`scratchlm.training.init`), ``scratchlm vectors coverage`` and ``scratchlm
transplant`` (where each tier is also a strategy, :mod:`scratchlm.transplant.strategies`). It lives
here, below both ``training`` and ``transplant`` in the import layers (pyproject.toml), so that both
can use it.

| tier         | the token's row is ...                                                                    |
|--------------|-------------------------------------------------------------------------------------------|
| `exact`      | the row of the same string                                                                |
| `normalized` | the row of its lowercase (or of a word whose lowercase it is: the first, most frequent), of its NFKC + full/half-width + lowercase form (``Ｗｉｆｉ`` ~ ``wifi``), or of it with a subword marker stripped (``##ing``, ``▁the``, ``Ġthe``), tried in that order |
| `chars`      | a Chinese word (2+ CJK characters) whose characters are all found: the mean of their rows |
| `compose`    | the mean of the pieces the source cuts it into: the source's own tokenizer when it has one, else (vectors) a greedy longest match into 2-3 words of the source |

``TIERS`` is their order: ``model.init`` and ``vectors coverage`` give each token the first tier that
finds it; ``transplant`` tries them in the order of ``--strategy``. Tokens no tier finds are ``oov``
(their rows come from elsewhere: ``model.embedding_init``, an OOV init, or a fill strategy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from scratchlm.errors import DataError
from scratchlm.tokenizers.normalize import normalize_text
from scratchlm.vectors.base import Vectors

TIERS = ("exact", "normalized", "chars", "compose")
SUBWORD_MARKERS = (
    "##",
    "\u2581",
    "\u0120",
)  # WordPiece continuation, SentencePiece space, byte-level BPE space
_MAX_PIECES_LEN = 40
_MAX_PIECES = 3


def is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2EBEF
        or 0xF900 <= cp <= 0xFAFF
        or 0x30000 <= cp <= 0x3134F
    )


def strip_marker(tok: str) -> str | None:
    """``tok`` without its subword marker, or ``None`` when it has none."""
    for marker in SUBWORD_MARKERS:
        if tok.startswith(marker) and len(tok) > len(marker):
            return tok[len(marker) :]
    return None


def _core(tok: str) -> str:
    """What ``chars`` and ``compose`` cut: the marker stripped, NFKC + full/half width."""
    return normalize_text(strip_marker(tok) or tok)


class Matcher:
    """A source's words -> rows, one method per tier (each returns the source rows or ``None``).

    ``tokenize``: the source's own tokenizer (text -> row ids, ``None`` when a piece is unknown), used by
    ``compose``; without one ``compose`` cuts by greedy longest match over the words. The lowercase and
    folded indexes are built only if a token needs them.
    """

    def __init__(self, vectors: Vectors, tokenize: Callable[[str], list[int] | None] | None = None):
        self.index = vectors.index
        self.words = vectors.words
        self.tokenize = tokenize
        self._lower: dict[str, int] | None = None
        self._folded: dict[str, int] | None = None

    @property
    def lower(self) -> dict[str, int]:
        """The lowercase form of every word -> its first row."""
        if self._lower is None:
            n = len(self.words)
            self._lower = dict(
                zip((w.lower() for w in reversed(self.words)), range(n - 1, -1, -1), strict=True)
            )
        return self._lower

    @property
    def folded(self) -> dict[str, int]:
        """NFKC + full/half width + lowercase form of every word -> its first row."""
        if self._folded is None:
            n = len(self.words)
            keys = (normalize_text(w, lowercase=True) for w in reversed(self.words))
            self._folded = dict(zip(keys, range(n - 1, -1, -1), strict=True))
        return self._folded

    def _folded_row(self, tok: str, *, exact: bool) -> int | None:
        """The row of ``tok`` itself (``exact``), of its lowercase, or of its folded form."""
        if exact and (i := self.index.get(tok)) is not None:
            return i
        low = tok.lower()
        if (i := self.index.get(low, self.lower.get(low))) is not None:
            return i
        folded = normalize_text(tok, lowercase=True)  # normalised on both sides: Ａ finds A, A finds Ａ
        return self.folded.get(folded) if folded else None

    def row(self, tok: str) -> int | None:
        """The row of ``tok`` by ``exact`` or the folds of ``normalized`` (the lookup of each piece)."""
        return self._folded_row(tok, exact=True)

    def exact(self, tok: str) -> list[int] | None:
        i = self.index.get(tok)
        return None if i is None else [i]

    def normalized(self, tok: str) -> list[int] | None:
        i = self._folded_row(tok, exact=False)
        if i is None and (core := strip_marker(tok)) is not None:
            i = self.row(core)
        return None if i is None else [i]

    def chars(self, tok: str) -> list[int] | None:
        core = _core(tok)
        if len(core) < 2 or not all(is_cjk(c) for c in core):
            return None
        rows = [self.row(c) for c in core]
        return rows if all(r is not None for r in rows) else None

    def compose(self, tok: str) -> list[int] | None:
        core = _core(tok)
        if not core:
            return None
        if self.tokenize is not None:
            return self.tokenize(core)
        return self.pieces(core)

    def pieces(self, tok: str) -> list[int] | None:
        """Greedy longest match of ``tok`` over the words: 2 to ``_MAX_PIECES`` pieces, each at least two
        characters long unless the source has it as a ``##piece`` (then preferred after the first), so
        that a string of letters is not spelled out of single-letter words."""
        if len(tok) > _MAX_PIECES_LEN:
            return None
        rows, start = [], 0
        while start < len(tok):
            for end in range(len(tok), start, -1):
                piece = tok[start:end]
                i = self.index.get("##" + piece) if start else None
                if i is None and end - start > 1:
                    i = self.row(piece)
                if i is not None:
                    rows.append(i)
                    start = end
                    break
            else:
                return None
        return rows if 1 < len(rows) <= _MAX_PIECES else None

    def match(self, tok: str, tiers: tuple[str, ...] = TIERS) -> tuple[str, list[int]] | None:
        """``(tier, source rows)`` by the first of ``tiers`` (in ``TIERS`` order) that finds ``tok``."""
        for tier in TIERS:
            if tier in tiers and (rows := getattr(self, tier)(tok)):
                return tier, rows
        return None


def check_tiers(tiers: tuple[str, ...]) -> None:
    unknown = set(tiers) - set(TIERS)
    if unknown:
        raise DataError(
            f"unknown matching tier(s) {', '.join(sorted(unknown))}; choose from {', '.join(TIERS)}"
        )


# ------------------------------------------------------------------------------------ a vocabulary
@dataclass
class Coverage:
    """How a vocabulary was found in the vectors (``tiers``: tokens per tier)."""

    vocab_size: int
    tiers: dict[str, int]
    oov: int
    specials: int
    misses: list[str] = field(default_factory=list)
    weighted: float | None = None
    corpus_tokens: int | None = None

    @property
    def found(self) -> int:
        return sum(self.tiers.values())

    @property
    def coverage(self) -> float:
        return self.found / max(1, self.vocab_size - self.specials)

    def to_dict(self) -> dict:
        return {
            "vocab_size": self.vocab_size,
            "found": self.found,
            "coverage": round(self.coverage, 6),
            "tiers": dict(self.tiers),
            "oov": self.oov,
            "specials": self.specials,
            "weighted_coverage": None if self.weighted is None else round(self.weighted, 6),
            "corpus_tokens": self.corpus_tokens,
            "misses": list(self.misses),
        }

    def table(self) -> str:
        n = max(1, self.vocab_size - self.specials)
        lines = [f"{'tier':<10}{'tokens':>9}{'share':>9}"]
        lines += [f"{tier:<10}{count:>9}{100 * count / n:>8.1f}%" for tier, count in self.tiers.items()]
        lines += [
            f"{'oov':<10}{self.oov:>9}{100 * self.oov / n:>8.1f}%",
            f"{'found':<10}{self.found:>9}{100 * self.coverage:>8.1f}%  of {n} tokens ({self.specials} specials apart)",
        ]
        if self.weighted is not None:
            lines.append(
                f"frequency-weighted coverage: {100 * self.weighted:.1f}% of {self.corpus_tokens} corpus tokens"
            )
        if self.misses:
            lines.append("examples of misses: " + " ".join(self.misses))
        return "\n".join(lines)


@dataclass
class FoundRows:
    ids: np.ndarray  # (n,) vocabulary ids that were found
    rows: np.ndarray  # (n, D) float32 vectors (means for the chars/compose tiers)
    tier: list[str]  # per vocabulary token: a tier, "oov" or "special"
    coverage: Coverage


def _mean_rows(vectors: Vectors, sources: list[list[int]]) -> np.ndarray:
    """``(len(sources), D)`` float32: each token's source row, or the mean of its rows."""
    rows = np.empty((len(sources), vectors.dim), np.float32)
    single = [k for k, s in enumerate(sources) if len(s) == 1]
    if single:
        rows[single] = np.asarray(vectors.matrix[[sources[k][0] for k in single]], dtype=np.float32)
    for k, s in enumerate(sources):
        if len(s) > 1:
            rows[k] = np.asarray(vectors.matrix[sorted(s)], dtype=np.float32).mean(axis=0)
    return rows


def find_rows(
    vocab_tokens: list[str],
    vectors: Vectors,
    *,
    tiers: tuple[str, ...] = TIERS,
    skip: set[int] | None = None,
    token_counts: dict[str, int] | None = None,
    max_misses: int = 20,
) -> FoundRows:
    """Find every token (``skip``: specials); ``token_counts`` (corpus frequencies) weights the coverage."""
    check_tiers(tiers)
    matcher, skip = Matcher(vectors), skip or set()
    ids, sources, tier_of = [], [], []
    for i, tok in enumerate(vocab_tokens):
        if i in skip:
            tier_of.append("special")
            continue
        hit = matcher.match(tok, tiers)
        tier_of.append("oov" if hit is None else hit[0])
        if hit is not None:
            ids.append(i)
            sources.append(hit[1])
    counts = {t: tier_of.count(t) for t in TIERS if t in tiers}
    misses = [tok for tok, t in zip(vocab_tokens, tier_of, strict=True) if t == "oov"]
    weighted = total = None
    if token_counts:
        found_tokens = {vocab_tokens[i] for i in ids}
        total = sum(token_counts.values())
        weighted = sum(c for t, c in token_counts.items() if t in found_tokens) / max(1, total)
        misses.sort(key=lambda t: -token_counts.get(t, 0))
    specials = len(skip & set(range(len(vocab_tokens))))
    coverage = Coverage(
        len(vocab_tokens), counts, tier_of.count("oov"), specials, misses[:max_misses], weighted, total
    )
    return FoundRows(np.array(ids, dtype=np.int64), _mean_rows(vectors, sources), tier_of, coverage)
