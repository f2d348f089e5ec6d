"""Character-level tokenizer with NFKC + full-width/half-width normalisation.

One token per character of the normalised text; whitespace becomes the visible token ``▁`` so that
``decode(encode(text))`` gives the text back (normalisation and runs of spaces aside). Every original
character is normalised on its own, so each token knows the span of the original text it came from
(``offsets``), which taggers need.
"""

from __future__ import annotations

import json
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from scratchlm.errors import DataError
from scratchlm.tokenizers.normalize import full_to_half
from scratchlm.tokenizers.vocab import SPECIALS, Vocab

SPACE = "\u2581"  # ▁, as SentencePiece writes a space


@dataclass
class Encoding:
    """One encoded text. ``offsets[i]`` is the [start, end) span of token i in the original text
    (specials: ``(0, 0)``). ``truncated`` counts tokens dropped to fit ``max_len``."""

    ids: list[int]
    tokens: list[str]
    offsets: list[tuple[int, int]]
    truncated: int = 0


@lru_cache(maxsize=65536)
def _norm_char(ch: str, nfkc: bool, lowercase: bool) -> str:
    if ch.isspace():
        return SPACE
    if nfkc:
        ch = unicodedata.normalize("NFKC", full_to_half(ch))
        if ch.isspace() or ch == "":
            return SPACE if ch else ""
        ch = "".join(SPACE if c.isspace() else c for c in ch)
    if lowercase:
        ch = ch.lower()
    return ch


TRUNCATION = ("end", "start", "middle")


def truncate(items: list, budget: int, how: str) -> list:
    """Keep ``budget`` items: drop from the ``end``, the ``start``, or the ``middle``."""
    if len(items) <= budget:
        return items
    if how == "end":
        return items[:budget]
    if how == "start":
        return items[len(items) - budget :] if budget else []
    if how == "middle":
        head = budget // 4
        return items[:head] + items[len(items) - (budget - head) :] if budget - head else items[:head]
    raise ValueError(f"unknown truncation {how!r}; use one of {', '.join(TRUNCATION)}")


class CharTokenizer:
    """Text -> characters -> ids. ``add_cls`` prepends [CLS] (the classifier's pooling position)."""

    kind = "char"

    def __init__(self, vocab: Vocab, *, normalize: bool = True, lowercase: bool = False):
        self.vocab = vocab
        self.normalize = normalize
        self.lowercase = lowercase

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        *,
        normalize: bool = True,
        lowercase: bool = False,
        min_freq: int = 1,
        max_size: int | None = None,
    ) -> CharTokenizer:
        counts: Counter[str] = Counter()
        probe = cls(Vocab(SPECIALS), normalize=normalize, lowercase=lowercase)
        for text in texts:
            counts.update(tok for tok, _ in probe.split(text))
        return cls(
            Vocab.build(counts, min_freq=min_freq, max_size=max_size),
            normalize=normalize,
            lowercase=lowercase,
        )

    # -- encoding ------------------------------------------------------------------------------
    def split(self, text: str) -> list[tuple[str, tuple[int, int]]]:
        """Tokens with their original spans; consecutive whitespace gives one ``▁``, edges none."""
        out: list[tuple[str, tuple[int, int]]] = []
        nfkc, lower = self.normalize, self.lowercase
        for i, ch in enumerate(text):
            piece = _norm_char(ch, nfkc, lower)
            for sub in piece:
                if sub == SPACE and (not out or out[-1][0] == SPACE):
                    continue
                out.append((sub, (i, i + 1)))
        while out and out[-1][0] == SPACE:
            out.pop()
        return out

    def tokenize(self, text: str) -> list[str]:
        return [tok for tok, _ in self.split(text)]

    def encode(
        self, text: str, *, max_len: int | None = None, add_cls: bool = True, truncation: str = "end"
    ) -> Encoding:
        """``truncation`` says which tokens go when the text is too long: ``end`` (keep the beginning),
        ``start`` (keep the end) or ``middle`` (keep the first quarter and the last three quarters:
        reviews often conclude at the end; Sun et al. 2019, https://arxiv.org/abs/1905.05583)."""
        pieces = self.split(text)
        budget = None if max_len is None else max_len - (1 if add_cls else 0)
        truncated = 0
        if budget is not None and len(pieces) > budget:
            truncated = len(pieces) - budget
            pieces = truncate(pieces, budget, truncation)
        tokens = [tok for tok, _ in pieces]
        offsets = [span for _, span in pieces]
        ids = self.vocab.ids(tokens)
        if add_cls:
            tokens = [self.vocab.token(self.vocab.cls_id), *tokens]
            ids = [self.vocab.cls_id, *ids]
            offsets = [(0, 0), *offsets]
        return Encoding(ids=ids, tokens=tokens, offsets=offsets, truncated=truncated)

    def encode_batch(
        self,
        texts: Iterable[str],
        *,
        max_len: int | None = None,
        add_cls: bool = True,
        truncation: str = "end",
    ) -> list[Encoding]:
        return [self.encode(t, max_len=max_len, add_cls=add_cls, truncation=truncation) for t in texts]

    def decode(self, ids: Iterable[int], *, skip_specials: bool = True) -> str:
        specials = self.vocab.special_ids
        out = []
        for i in ids:
            if skip_specials and i in specials:
                continue
            tok = self.vocab.token(i)
            out.append(" " if tok == SPACE else tok)
        return "".join(out)

    # -- persistence ---------------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        from scratchlm.io import atomic_write_json

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.vocab.save(directory / "vocab.txt")
        atomic_write_json(
            directory / "tokenizer.json",
            {
                "kind": self.kind,
                "normalize": self.normalize,
                "lowercase": self.lowercase,
                "vocab_size": len(self.vocab),
            },
        )

    @classmethod
    def load(cls, directory: str | Path) -> CharTokenizer:
        directory = Path(directory)
        meta_path = directory / "tokenizer.json"
        if not meta_path.exists():
            raise DataError(f"{directory}: no tokenizer.json (not a scratchlm tokenizer directory)")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{meta_path}: unreadable tokenizer metadata ({exc})") from None
        if meta.get("kind") != cls.kind:
            raise DataError(f"{meta_path}: tokenizer kind {meta.get('kind')!r}, expected {cls.kind!r}")
        return cls(
            Vocab.load(directory / "vocab.txt"),
            normalize=bool(meta.get("normalize", True)),
            lowercase=bool(meta.get("lowercase", False)),
        )


def load_tokenizer(directory: str | Path) -> CharTokenizer:
    """Load any tokenizer scratchlm saved (a tokenizer directory or a run's ``tokenizer/``)."""
    directory = Path(directory)
    if (directory / "tokenizer" / "tokenizer.json").exists():
        directory = directory / "tokenizer"
    return CharTokenizer.load(directory)
