"""Text normalisation before tokenization: Unicode NFKC, full-width to half-width, optional lowercase.

NFKC already folds most full-width forms (``ＡＢＣ１２３`` -> ``ABC123``); the explicit full-width map
also covers the ideographic space U+3000, which NFKC maps to a plain space only in some contexts, and
keeps the rule readable: code points U+FF01..U+FF5E are shifted by 0xFEE0 to U+0021..U+007E.
CJK punctuation such as ``，`` (U+FF0C) therefore becomes ``,``, which merges the two comma styles
that Chinese web text mixes freely.
"""

from __future__ import annotations

import unicodedata

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
