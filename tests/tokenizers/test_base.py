"""What every tokenizer kind shares (tokenizers/base.py): ``truncate``, the three truncation modes of
``encode`` with offsets kept, [CLS] and the budget, ``encode_batch`` (shown on the char tokenizer)."""

from __future__ import annotations

import pytest

from scratchlm.tokenizers import CharTokenizer
from scratchlm.tokenizers.base import truncate


def test_truncate_keeps_the_budget_from_the_end_start_or_middle():
    assert truncate(list(range(10)), 4, "end") == [0, 1, 2, 3]
    assert truncate(list(range(10)), 4, "start") == [6, 7, 8, 9]
    assert truncate(list(range(10)), 4, "middle") == [0, 7, 8, 9]
    assert truncate(list(range(10)), 8, "middle") == [0, 1, 4, 5, 6, 7, 8, 9]
    assert truncate(list(range(3)), 4, "middle") == [0, 1, 2]  # it fits: unchanged
    with pytest.raises(ValueError, match="unknown truncation 'both'; use one of end, start, middle"):
        truncate(list(range(10)), 4, "both")


@pytest.mark.parametrize(
    ("how", "kept"),
    [
        ("end", "0123"),
        ("start", "6789"),
        ("middle", "0789"),  # budget 4: first quarter (1 token) + last three quarters (3 tokens)
    ],
)
def test_truncation_modes_keep_the_right_tokens(how, kept):
    text = "0123456789"
    tok = CharTokenizer.train([text])
    enc = tok.encode(text, max_len=5, truncation=how)
    assert enc.tokens == ["[CLS]", *kept]
    assert enc.truncated == 6
    # offsets still point at the kept characters
    assert [text[a:b] for a, b in enc.offsets[1:]] == list(kept)


def test_truncation_middle_with_larger_budget_and_no_cls():
    text = "abcdefghijklmnopqrst"  # 20 chars
    tok = CharTokenizer.train([text])
    enc = tok.encode(text, max_len=9, truncation="middle", add_cls=False)
    # budget 9: head 2, tail 7
    assert "".join(enc.tokens) == "ab" + "nopqrst"
    assert enc.truncated == 11


def test_no_truncation_when_it_fits():
    tok = CharTokenizer.train(["abc"])
    assert tok.encode("abc", max_len=4).truncated == 0
    assert tok.encode("abc", max_len=4).tokens == ["[CLS]", "a", "b", "c"]
    assert tok.encode("abc", max_len=3).truncated == 1
    with pytest.raises(ValueError, match="unknown truncation"):
        tok.encode("abcdef", max_len=3, truncation="both")


def test_encode_batch_equals_encode():
    tok = CharTokenizer.train(["abc", "def"])
    batch = tok.encode_batch(["abc", "fed c"], max_len=4, truncation="start")
    assert batch == [
        tok.encode("abc", max_len=4, truncation="start"),
        tok.encode("fed c", max_len=4, truncation="start"),
    ]
