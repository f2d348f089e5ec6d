"""Text normalisation: full-width -> half-width, NFKC, whitespace collapsing, lowercase."""

from __future__ import annotations

import unicodedata

import pytest

from scratchlm.tokenizers import full_to_half, normalize_text


def test_full_width_ascii_block_maps_to_half_width():
    assert full_to_half("ＡＢＣ１２３，！") == "ABC123,!"
    assert full_to_half("ａｂｃ！？（）［］～") == "abc!?()[]~"
    # every code point U+FF01..U+FF5E is shifted by 0xFEE0
    full = "".join(chr(cp) for cp in range(0xFF01, 0xFF5F))
    half = "".join(chr(cp) for cp in range(0x21, 0x7F))
    assert full_to_half(full) == half


def test_ideographic_space_becomes_ascii_space():
    assert full_to_half("\u3000") == " "
    assert full_to_half("中\u3000文") == "中 文"


def test_full_to_half_leaves_other_text_alone():
    text = "中文。、「」abc 123 \uff61"  # CJK punctuation and half-width katakana stop are not in the block
    assert full_to_half(text) == text
    assert full_to_half("") == ""


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＡＢＣ１２３，", "ABC123,"),
        ("ｈｅｌｌｏ\u3000ｗｏｒｌｄ", "hello world"),
        ("㈱", "(株)"),  # NFKC compatibility decomposition
        ("ﬁne", "fine"),  # ligature
        ("①", "1"),
        ("e\u0301", "\u00e9"),  # composition
        ("  a \t\n b  ", "a b"),  # whitespace runs collapse, ends stripped
        ("\u3000\u3000好\u3000\u3000书\u3000", "好 书"),
        ("ＡＢＣ１２３，  好\u3000 ㈱", "ABC123, 好 (株)"),  # all of it in one text
        ("", ""),
    ],
)
def test_normalize_text_nfkc_and_whitespace(raw, expected):
    assert normalize_text(raw) == expected


def test_normalize_text_matches_nfkc_on_cjk_and_ascii():
    text = "今天天气很好, Good Day! ＯＫ"
    assert normalize_text(text) == " ".join(unicodedata.normalize("NFKC", text).split())


def test_nfkc_off_keeps_full_width_but_still_collapses_whitespace():
    assert normalize_text("ＡＢ  Ｃ", nfkc=False) == "ＡＢ Ｃ"
    assert normalize_text("㈱", nfkc=False) == "㈱"


def test_lowercase_after_normalising():
    assert normalize_text("ＡＢＣ Def", lowercase=True) == "abc def"
    assert normalize_text("ＡＢＣ Def") == "ABC Def"
    assert normalize_text("Hello", lowercase=True) == "hello"
