"""Vocabulary: token <-> id, the special tokens, building from counts, saving as ``vocab.txt``.

The five specials always come first, in this order, so their ids are the same in every vocabulary
scratchlm builds: ``[PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from scratchlm.errors import DataError

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
SPECIALS: tuple[str, ...] = (PAD, UNK, CLS, SEP, MASK)


class Vocab:
    """An ordered list of unique tokens; the specials occupy the first ids."""

    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if tuple(tokens[: len(SPECIALS)]) != SPECIALS:
            raise DataError(f"a vocabulary must start with the specials {' '.join(SPECIALS)}")
        index: dict[str, int] = {}
        for i, tok in enumerate(tokens):
            if tok in index:
                raise DataError(f"duplicate token {tok!r} at ids {index[tok]} and {i}")
            index[tok] = i
        self.tokens = tokens
        self.index = index
        self.pad_id = index[PAD]
        self.unk_id = index[UNK]
        self.cls_id = index[CLS]
        self.sep_id = index[SEP]
        self.mask_id = index[MASK]

    @classmethod
    def build(cls, counts: Counter[str], *, min_freq: int = 1, max_size: int | None = None) -> Vocab:
        """Specials, then tokens with ``count >= min_freq`` by falling count (ties: by token)."""
        kept = [(tok, n) for tok, n in counts.items() if n >= min_freq and tok not in SPECIALS]
        kept.sort(key=lambda item: (-item[1], item[0]))
        tokens = list(SPECIALS) + [tok for tok, _ in kept]
        if max_size is not None:
            tokens = tokens[:max_size]
        return cls(tokens)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    def id(self, token: str) -> int:
        return self.index.get(token, self.unk_id)

    def ids(self, tokens: Iterable[str]) -> list[int]:
        get, unk = self.index.get, self.unk_id
        return [get(t, unk) for t in tokens]

    def token(self, i: int) -> str:
        return self.tokens[i]

    @property
    def special_ids(self) -> set[int]:
        return {self.index[t] for t in SPECIALS}

    def save(self, path: str | Path) -> None:
        from scratchlm.io import atomic_write_text

        for tok in self.tokens:
            if "\n" in tok or "\r" in tok or tok != tok.strip() or not tok:
                raise DataError(f"token {tok!r} cannot be stored one-per-line in vocab.txt")
        atomic_write_text(path, "\n".join(self.tokens) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        path = Path(path)
        try:
            lines = path.read_text(encoding="utf-8").split("\n")
        except FileNotFoundError:
            raise DataError(f"{path}: vocabulary file not found") from None
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
        if lines and lines[-1] == "":
            lines.pop()
        for lineno, tok in enumerate(lines, 1):
            if not tok:
                raise DataError(f"{path}:{lineno}: empty token line")
        return cls(lines)
