"""Put pretrained vectors into a vocabulary's embedding matrix, finding each token in tiers.

A token takes the first tier that finds it:

| tier      | the token is found when ...                                                    |
|-----------|--------------------------------------------------------------------------------|
| `exact`   | it is a word of the vectors                                                    |
| `lower`   | its lowercase is (or a word whose lowercase it is: the first, most frequent)  |
| `nfkc`    | its NFKC + full/half-width + lowercase form is that of a word (``Ｗｉｆｉ`` ~ ``wifi``)|
| `subword` | it is found once a marker is stripped: ``##ing``, ``▁the``, ``Ġthe``           |
| `chars`   | it is Chinese (2+ CJK characters) and every character is found: their mean     |
| `pieces`  | it splits (greedy longest match) into 2-3 words of the vectors: their mean     |

Tokens still missing get the OOV init (``normal``, ``uniform``, ``zeros``, or ``sampled`` from the
mean and covariance of the found rows). ``[PAD]`` is zero; ``[UNK]`` is the mean of the found rows;
the other specials get the OOV init. A source of another dimension is used only with an explicit
``project=`` (see ``project.py``).

The rows found are rescaled (``scale_std``) so their standard deviation equals the model's
``init_std``: the encoder was designed for inputs of that scale, and raw word2vec vectors are about
ten times larger.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from scratchlm.errors import DataError
from scratchlm.tokenizers.normalize import normalize_text
from scratchlm.vectors.base import Vectors

if TYPE_CHECKING:
    import torch

TIERS = ("exact", "lower", "nfkc", "subword", "chars", "pieces")
SUBWORD_MARKERS = (
    "##",
    "\u2581",
    "\u0120",
)  # WordPiece continuation, SentencePiece space, byte-level BPE space
OOV_INITS = ("normal", "uniform", "zeros", "sampled")
_MAX_PIECES_LEN = 40
_MAX_PIECES = 3


# ------------------------------------------------------------------------------- exact-match API
@dataclass
class AlignResult:
    ids: torch.Tensor  # (n,) rows of the vocabulary that were found
    rows: torch.Tensor  # (n, d) their vectors, rescaled
    found: int
    vocab_size: int

    @property
    def coverage(self) -> float:
        return self.found / max(1, self.vocab_size)


def align(
    vocab_tokens: list[str],
    tokens: list[str],
    vectors: np.ndarray,
    *,
    target_std: float | None,
    skip: set[int] | None = None,
) -> AlignResult:
    """Exact matches only (the tiered version is :func:`find_rows` / :func:`build_matrix`)."""
    import torch

    index = {t: i for i, t in enumerate(tokens)}
    ids, src = [], []
    for i, tok in enumerate(vocab_tokens):
        if skip and i in skip:
            continue
        j = index.get(tok)
        if j is not None:
            ids.append(i)
            src.append(j)
    rows = (
        torch.from_numpy(np.asarray(vectors[src], dtype=np.float32))
        if src
        else torch.zeros(0, vectors.shape[1])
    )
    if target_std is not None and len(src) > 1:
        rows = rows / rows.std().clamp_min(1e-12) * target_std
    return AlignResult(torch.tensor(ids, dtype=torch.long), rows, len(ids), len(vocab_tokens))


def read_vectors_file(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Read a cache (``vectors.safetensors`` with ``tokens.txt`` beside it): ``(tokens, (n, d) array)``."""
    from scratchlm.vectors.cache import read_cache

    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: vectors file not found")
    vectors = read_cache(path)
    return vectors.words, vectors.matrix


def write_vectors_file(directory: str | Path, tokens: list[str], vectors: np.ndarray) -> Path:
    from scratchlm.vectors.cache import write_cache

    return write_cache(directory, Vectors(list(tokens), np.asarray(vectors, dtype=np.float32), "word2vec"))


# ------------------------------------------------------------------------------------------- tiers
def is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2EBEF
        or 0xF900 <= cp <= 0xFAFF
        or 0x30000 <= cp <= 0x3134F
    )


class TokenLookup:
    """Word -> row by the direct tiers; the lowercase index is built only if a token needs it."""

    def __init__(self, vectors: Vectors):
        self.index = vectors.index
        self.words = vectors.words
        self._lower: dict[str, int] | None = None
        self._folded: dict[str, int] | None = None

    @property
    def lower(self) -> dict[str, int]:
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

    def direct(self, tok: str, tiers: tuple[str, ...] = TIERS) -> tuple[str, int] | None:
        """``(tier, row)`` by exact, lower or nfkc."""
        if "exact" in tiers and (i := self.index.get(tok)) is not None:
            return "exact", i
        low = tok.lower()
        if "lower" in tiers and (i := self.index.get(low, self.lower.get(low))) is not None:
            return "lower", i
        if "nfkc" in tiers and (folded := normalize_text(tok, lowercase=True)):
            if (i := self.folded.get(folded)) is not None:  # normalised on both sides: Ａ finds A, A finds Ａ
                return "nfkc", i
        return None

    def row(self, tok: str) -> int | None:
        found = self.direct(tok)
        return None if found is None else found[1]

    def pieces(self, tok: str) -> list[int] | None:
        """Greedy longest match of ``tok`` over the words: 2 to ``_MAX_PIECES`` pieces, each at least two
        characters long unless the vectors have it as a ``##piece`` (then preferred after the first), so
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


def strip_marker(tok: str) -> str | None:
    for marker in SUBWORD_MARKERS:
        if tok.startswith(marker) and len(tok) > len(marker):
            return tok[len(marker) :]
    return None


def match_token(
    tok: str, lookup: TokenLookup, tiers: tuple[str, ...] = TIERS
) -> tuple[str, list[int]] | None:
    """``(tier, source rows)`` for one token, or ``None``."""
    direct = lookup.direct(tok, tiers)
    if direct is not None:
        return direct[0], [direct[1]]
    core = strip_marker(tok)
    if "subword" in tiers and core is not None and (i := lookup.row(core)) is not None:
        return "subword", [i]
    core = normalize_text(core or tok)
    if "chars" in tiers and len(core) > 1 and all(is_cjk(c) for c in core):
        rows = [lookup.row(c) for c in core]
        if all(r is not None for r in rows):
            return "chars", rows
    if "pieces" in tiers and len(core) > 1 and (rows := lookup.pieces(core)) is not None:
        return "pieces", rows
    return None


# ------------------------------------------------------------------------------------ coverage
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
    rows: np.ndarray  # (n, D) float32 vectors (means for the chars/pieces tiers)
    tier: list[str]  # per vocabulary token: a tier, "oov" or "special"
    coverage: Coverage


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
    unknown = set(tiers) - set(TIERS)
    if unknown:
        raise DataError(
            f"unknown alignment tier(s) {', '.join(sorted(unknown))}; choose from {', '.join(TIERS)}"
        )
    lookup, skip = TokenLookup(vectors), skip or set()
    ids, sources, tier_of = [], [], []
    for i, tok in enumerate(vocab_tokens):
        if i in skip:
            tier_of.append("special")
            continue
        hit = match_token(tok, lookup, tiers)
        tier_of.append("oov" if hit is None else hit[0])
        if hit is not None:
            ids.append(i)
            sources.append(hit[1])
    dim = vectors.dim
    rows = np.empty((len(ids), dim), np.float32)
    single = [k for k, s in enumerate(sources) if len(s) == 1]
    if single:
        rows[single] = np.asarray(vectors.matrix[[sources[k][0] for k in single]], dtype=np.float32)
    for k, s in enumerate(sources):
        if len(s) > 1:
            rows[k] = np.asarray(vectors.matrix[sorted(s)], dtype=np.float32).mean(axis=0)
    counts = {t: tier_of.count(t) for t in TIERS if t in tiers}
    misses = [tok for tok, t in zip(vocab_tokens, tier_of, strict=True) if t == "oov"]
    weighted = total = None
    if token_counts:
        found_tokens = {vocab_tokens[i] for i in ids}
        total = sum(token_counts.values())
        weighted = sum(c for t, c in token_counts.items() if t in found_tokens) / max(1, total)
        misses.sort(key=lambda t: -token_counts.get(t, 0))
    coverage = Coverage(
        len(vocab_tokens),
        counts,
        tier_of.count("oov"),
        len(skip & set(range(len(vocab_tokens)))),
        misses[:max_misses],
        weighted,
        total,
    )
    return FoundRows(np.array(ids, dtype=np.int64), rows, tier_of, coverage)


# -------------------------------------------------------------------------------------- matrix
def oov_rows(
    n: int, dim: int, method: str, *, std: float, found: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    if method == "normal":
        return rng.normal(0.0, std, (n, dim)).astype(np.float32)
    if method == "uniform":  # same standard deviation as normal(0, std)
        return rng.uniform(-std * 3**0.5, std * 3**0.5, (n, dim)).astype(np.float32)
    if method == "zeros":
        return np.zeros((n, dim), np.float32)
    if method == "sampled":
        if len(found) < 2:
            return rng.normal(0.0, std, (n, dim)).astype(np.float32)
        return rng.multivariate_normal(found.mean(0), np.cov(found.T), n, method="eigh").astype(np.float32)
    raise DataError(f"unknown OOV init {method!r}; choose from {', '.join(OOV_INITS)}")


def build_matrix(
    vocab_tokens: list[str],
    vectors: Vectors,
    *,
    dim: int | None = None,
    project: str | None = None,
    oov_init: str = "normal",
    std: float | None = None,
    scale_std: float | None = None,
    pad_id: int | None = 0,
    special_ids: set[int] | None = None,
    unk_id: int | None = None,
    seed: int = 0,
    tiers: tuple[str, ...] = TIERS,
    token_counts: dict[str, int] | None = None,
) -> tuple[np.ndarray, FoundRows]:
    """The ``(V, dim)`` float32 embedding matrix for ``vocab_tokens`` and how each row was made.

    ``std``: of the OOV init (default: that of the found rows, else 0.02); ``scale_std``: rescale the
    found rows to this standard deviation first. ``special_ids`` get the rules above (``pad_id`` zero,
    ``unk_id`` the mean of the found rows).
    """
    dim = dim or vectors.dim
    if dim != vectors.dim:
        if project is None:
            raise DataError(
                f"the vectors have dimension {vectors.dim} and the embedding {dim}; choose how to "
                "map them: project='pca', 'random' or 'pad-truncate'"
            )
        from scratchlm.vectors.project import project_vectors

        vectors = project_vectors(vectors, dim, project, seed=seed)
    specials = set(special_ids or ()) | {i for i in (pad_id, unk_id) if i is not None}
    found = find_rows(vocab_tokens, vectors, tiers=tiers, skip=specials, token_counts=token_counts)
    rows = found.rows
    if scale_std is not None and len(rows) > 1:
        rows = rows / max(float(rows.std()), 1e-12) * scale_std
    std = std if std is not None else (float(rows.std()) if len(rows) > 1 else 0.02)
    rng = np.random.default_rng(seed)
    matrix = np.empty((len(vocab_tokens), dim), np.float32)
    rest = [i for i, t in enumerate(found.tier) if t in ("oov", "special")]
    matrix[rest] = oov_rows(len(rest), dim, oov_init, std=std, found=rows, rng=rng)
    matrix[found.ids] = rows
    if unk_id is not None and len(rows):
        matrix[unk_id] = rows.mean(axis=0)
    if pad_id is not None:
        matrix[pad_id] = 0.0
    return matrix, found
