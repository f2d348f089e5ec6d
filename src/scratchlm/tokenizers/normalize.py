"""Text normalisation before tokenization: Unicode NFKC, full-width to half-width, optional lowercase.

NFKC already folds most full-width forms (``ＡＢＣ１２３`` -> ``ABC123``); the explicit full-width map
also covers the ideographic space U+3000, which NFKC maps to a plain space only in some contexts, and
keeps the rule readable: code points U+FF01..U+FF5E are shifted by 0xFEE0 to U+0021..U+007E.
CJK punctuation such as ``，`` (U+FF0C) therefore becomes ``,``, which merges the two comma styles
that Chinese web text mixes freely.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_FULL_TO_HALF = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULL_TO_HALF[0x3000] = 0x20  # ideographic space


def full_to_half(text: str) -> str:
    """Map full-width ASCII variants and the ideographic space to their half-width forms."""
    return text.translate(_FULL_TO_HALF)


def normalize_text(text: str, *, nfkc: bool = True, lowercase: bool = False) -> str:
    """NFKC + full-width to half-width (+ lowercase). Whitespace runs collapse to one space."""
    if nfkc:
        text = unicodedata.normalize("NFKC", full_to_half(text))
    if lowercase:
        text = text.lower()
    return " ".join(text.split())


@lru_cache(maxsize=65536)
def normalize_char(ch: str, nfkc: bool = True, lowercase: bool = False) -> str:
    """One original character normalised on its own (NFKC may give several); whitespace becomes ``' '``."""
    if ch.isspace():
        return " "
    if nfkc:
        ch = unicodedata.normalize("NFKC", full_to_half(ch))
        ch = "".join(" " if c.isspace() else c for c in ch)
    if lowercase:
        ch = ch.lower()
    return ch


def normalize_aligned(
    text: str, *, nfkc: bool = True, lowercase: bool = False
) -> tuple[str, list[tuple[int, int]]]:
    """The normalised text and, for each of its characters, the [start, end) span of ``text`` it came from.

    Every character is normalised on its own (:func:`normalize_char`), so spans stay exact; whitespace
    runs become one space and the edges lose theirs, as in :func:`normalize_text`. Word and subword
    tokenizers segment the normalised text and map their offsets back through the spans.
    """
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    for i, ch in enumerate(text):
        for sub in normalize_char(ch, nfkc, lowercase):
            if sub == " " and (not chars or chars[-1] == " "):
                continue
            chars.append(sub)
            spans.append((i, i + 1))
    while chars and chars[-1] == " ":
        chars.pop()
        spans.pop()
    return "".join(chars), spans
