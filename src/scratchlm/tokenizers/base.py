"""What every tokenizer shares: the :class:`Encoding`, truncation, and encode/decode built on ``split``.

A tokenizer kind implements ``split(text) -> [(token, (start, end)), ...]`` (tokens of the normalised
text with the span of the *original* text each came from), ``train``, ``save`` and ``load``; the base
class turns that into ids, [CLS], truncation and batches, the same way for every kind.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from scratchlm.errors import DataError
from scratchlm.tokenizers.vocab import Vocab

SPACE = "\u2581"  # ▁, as SentencePiece writes a space

SUBWORD_KINDS: tuple[str, ...] = ("bpe", "bytebpe", "wordpiece", "unigram")
KINDS: tuple[str, ...] = ("char", "jieba", *SUBWORD_KINDS)
"""Every tokenizer kind, as ``data.tokenizer`` and ``scratchlm tokenizer train --kind`` name them."""


@dataclass
class Encoding:
    """One encoded text. ``offsets[i]`` is the [start, end) span of token i in the original text
    (specials: ``(0, 0)``). ``truncated`` counts tokens dropped to fit ``max_len``."""

    ids: list[int]
    tokens: list[str]
    offsets: list[tuple[int, int]]
    truncated: int = 0


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


class Tokenizer:
    """The interface of every kind. ``add_cls`` prepends [CLS] (the classifier's pooling position)."""

    kind: str
    vocab: Vocab
    normalize: bool = True
    lowercase: bool = False

    def split(self, text: str) -> list[tuple[str, tuple[int, int]]]:
        """Tokens of the normalised text with their spans in ``text``."""
        raise NotImplementedError

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
        """The normalised text back (an unknown token gives nothing); ``▁`` tokens become spaces."""
        specials = self.vocab.special_ids
        return "".join(
            self._surface(self.vocab.token(i)) for i in ids if not (skip_specials and i in specials)
        )

    def _surface(self, token: str) -> str:
        return " " if token == SPACE else token

    def save(self, directory: str | Path) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kind={self.kind!r}, vocab_size={len(self.vocab)})"


def read_metadata(directory: Path, filename: str, kind: str | None = None) -> dict:
    """Our JSON metadata of a tokenizer directory, checked to name ``kind`` when given."""
    path = directory / filename
    if not path.is_file():
        raise DataError(f"{directory}: no {filename} (not a scratchlm tokenizer directory)")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: unreadable tokenizer metadata ({exc})") from None
    if not isinstance(meta, dict):
        raise DataError(f"{path}: tokenizer metadata must be a JSON object")
    if kind is not None and meta.get("kind") != kind:
        raise DataError(f"{path}: tokenizer kind {meta.get('kind')!r}, expected {kind!r}")
    return meta
