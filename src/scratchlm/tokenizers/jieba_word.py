"""Word-level tokenizer: the character tokenizer's normalisation, then jieba's precise mode.

jieba (https://github.com/fxsjy/jieba) segments in precise mode (``cut_all=False``): a prefix
dictionary and dynamic programming over the word graph for the most probable path. We leave its HMM
(which joins runs of characters the dictionary does not know into new words) off: the new words it
invents are often seen once, so in a vocabulary learnt from the training texts they turn into [UNK].
Measured on zh-reviews (train -> test): HMM on, 38,400 words and 3.3% of test tokens [UNK];
HMM off, 30,605 words and 2.2% [UNK]. ``unk_fallback: char`` brings either to 0.15%.

A user dictionary (jieba's format: ``word [frequency] [tag]`` per line) forces domain words to stay
whole. Its words are normalised like the text (NFKC, full-width to half-width, lowercase), otherwise a
full-width entry would never match the normalised text; the file is copied into the saved tokenizer as
``user_dict.txt`` so that a run directory is self-contained.

Whitespace becomes the token ``▁`` as in :mod:`scratchlm.tokenizers.char`; offsets point into the
original text.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from scratchlm.errors import DataError, require
from scratchlm.io import split_lines
from scratchlm.tokenizers.base import SPACE, Tokenizer, read_metadata
from scratchlm.tokenizers.normalize import normalize_aligned, normalize_text
from scratchlm.tokenizers.vocab import SPECIALS, Vocab

UNK_FALLBACKS = ("none", "char")
USER_DICT_FILE = "user_dict.txt"
_USER_LINE = re.compile(r"^(.+?)( [0-9]+)?( [a-z]+)?$")  # jieba's own user-dictionary line format
HMM = False  # see the module docstring
_SEGMENTERS: dict[tuple, object] = {}  # one initialised jieba.Tokenizer per user dictionary


def read_user_dict(path: str | Path, *, nfkc: bool = True, lowercase: bool = False) -> list[tuple]:
    """``(word, freq | None, tag | None)`` per non-empty line, the word normalised like the text."""
    path = Path(path)
    try:
        lines = split_lines(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise DataError(f"{path}: user dictionary not found (data.user_dict)") from None
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    entries = []
    for line in lines:
        line = line.strip()
        if line:
            word, freq, tag = _USER_LINE.match(line).groups()
            word = normalize_text(word, nfkc=nfkc, lowercase=lowercase)
            entries.append((word, int(freq) if freq else None, tag.strip() if tag else None))
    return entries


def segmenter(entries: tuple = ()):
    """A jieba.Tokenizer with the user entries added (its own instance: the global one stays clean)."""
    if entries not in _SEGMENTERS:
        jieba = require("jieba", "data", "the jieba tokenizer")
        jieba.setLogLevel(logging.WARNING)
        seg = jieba.Tokenizer()
        seg.initialize()
        for word, freq, tag in entries:
            seg.add_word(word, freq, tag)
        _SEGMENTERS[entries] = seg
    return _SEGMENTERS[entries]


class JiebaTokenizer(Tokenizer):
    """Text -> jieba words -> ids; words outside the vocabulary become [UNK] (or their characters)."""

    kind = "jieba"

    def __init__(
        self,
        vocab: Vocab,
        *,
        normalize: bool = True,
        lowercase: bool = False,
        user_dict: str | Path | None = None,
        unk_fallback: str = "none",
    ):
        if unk_fallback not in UNK_FALLBACKS:
            raise DataError(f"unk_fallback {unk_fallback!r} is not one of {', '.join(UNK_FALLBACKS)}")
        self.vocab = vocab
        self.normalize = normalize
        self.lowercase = lowercase
        self.user_dict = Path(user_dict) if user_dict else None
        self.unk_fallback = unk_fallback
        entries = read_user_dict(user_dict, nfkc=normalize, lowercase=lowercase) if user_dict else []
        self._entries = tuple(entries)

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
        user_dict: str | Path | None = None,
        unk_fallback: str = "none",
    ) -> JiebaTokenizer:
        """Count words; with ``unk_fallback='char'`` the characters of longer words count too, so the
        vocabulary holds the characters that an unknown word falls back to."""
        probe = cls(
            Vocab(SPECIALS),
            normalize=normalize,
            lowercase=lowercase,
            user_dict=user_dict,
            unk_fallback=unk_fallback,
        )
        counts: Counter[str] = Counter()
        for text in texts:
            words = [word for word, _ in probe.segment(text)]
            counts.update(words)
            if unk_fallback == "char":
                counts.update(ch for word in words if len(word) > 1 for ch in word)
        probe.vocab = Vocab.build(counts, min_freq=min_freq, max_size=max_size)
        return probe

    # -- encoding ------------------------------------------------------------------------------
    def _words(self, text: str) -> tuple[list[tuple[str, int, int]], list[tuple[int, int]]]:
        """jieba words as ``(word, start, end)`` in the normalised text, and that text's spans."""
        norm, spans = normalize_aligned(text, nfkc=self.normalize, lowercase=self.lowercase)
        return list(segmenter(self._entries).tokenize(norm, HMM=HMM)), spans

    def segment(self, text: str) -> list[tuple[str, tuple[int, int]]]:
        """jieba words (spaces as ``▁``) with their spans in ``text``, before any fallback."""
        words, spans = self._words(text)
        return [(SPACE if w == " " else w, (spans[s][0], spans[e - 1][1])) for w, s, e in words]

    def split(self, text: str) -> list[tuple[str, tuple[int, int]]]:
        words, spans = self._words(text)
        out = []
        for word, start, end in words:
            if self.unk_fallback == "char" and word not in self.vocab and len(word) > 1:
                out.extend((word[i - start], spans[i]) for i in range(start, end))
            else:
                out.append((SPACE if word == " " else word, (spans[start][0], spans[end - 1][1])))
        return out

    # -- persistence ---------------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        from scratchlm.io import atomic_write_bytes, atomic_write_json

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.vocab.save(directory / "vocab.txt")
        if self.user_dict is not None and self.user_dict.resolve() != (directory / USER_DICT_FILE).resolve():
            atomic_write_bytes(directory / USER_DICT_FILE, self.user_dict.read_bytes())
        atomic_write_json(
            directory / "tokenizer.json",
            {
                "kind": self.kind,
                "normalize": self.normalize,
                "lowercase": self.lowercase,
                "vocab_size": len(self.vocab),
                "user_dict": USER_DICT_FILE if self.user_dict is not None else None,
                "unk_fallback": self.unk_fallback,
            },
        )

    @classmethod
    def load(cls, directory: str | Path) -> JiebaTokenizer:
        directory = Path(directory)
        meta = read_metadata(directory, "tokenizer.json", cls.kind)
        user_dict = meta.get("user_dict")
        return cls(
            Vocab.load(directory / "vocab.txt"),
            normalize=bool(meta.get("normalize", True)),
            lowercase=bool(meta.get("lowercase", False)),
            user_dict=directory / user_dict if user_dict else None,
            unk_fallback=meta.get("unk_fallback", "none"),
        )
