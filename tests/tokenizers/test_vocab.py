"""Vocabulary: specials first, ordering by frequency then token, limits, save/load and load errors."""

from __future__ import annotations

from collections import Counter

import pytest

from scratchlm.errors import DataError
from scratchlm.tokenizers import SPECIALS, Vocab


def test_specials_have_fixed_ids_in_order():
    assert SPECIALS == ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
    v = Vocab.build(Counter("hello"))
    assert v.tokens[:5] == list(SPECIALS)
    assert [v.id(t) for t in SPECIALS] == [0, 1, 2, 3, 4]
    assert (v.pad_id, v.unk_id, v.cls_id, v.sep_id, v.mask_id) == (0, 1, 2, 3, 4)
    assert v.special_ids == {0, 1, 2, 3, 4}


def test_order_by_falling_count_then_by_token():
    counts = Counter({"b": 2, "a": 2, "z": 9, "c": 1, "y": 2, "好": 9})
    v = Vocab.build(counts)
    # ties broken by the token string: "z" < "好" in code point order
    assert v.tokens[5:] == ["z", "好", "a", "b", "y", "c"]
    assert v.id("z") == 5 and v.id("c") == 10
    assert len(v) == 11


def test_specials_in_the_counts_are_not_duplicated():
    v = Vocab.build(Counter({"[CLS]": 100, "x": 1}))
    assert v.tokens == [*SPECIALS, "x"]


def test_min_freq_drops_rare_tokens():
    counts = Counter({"a": 3, "b": 2, "c": 1})
    assert Vocab.build(counts, min_freq=2).tokens[5:] == ["a", "b"]
    assert Vocab.build(counts, min_freq=3).tokens[5:] == ["a"]
    assert Vocab.build(counts, min_freq=4).tokens == list(SPECIALS)
    # dropped tokens map to [UNK]
    assert Vocab.build(counts, min_freq=2).id("c") == 1


def test_max_size_counts_specials_and_keeps_most_frequent():
    counts = Counter({"a": 5, "b": 4, "c": 3, "d": 2})
    v = Vocab.build(counts, max_size=7)
    assert len(v) == 7 and v.tokens[5:] == ["a", "b"]
    assert len(Vocab.build(counts, max_size=100)) == 9


def test_lookup_helpers():
    v = Vocab.build(Counter("aab"))
    assert v.ids(["a", "b", "zz"]) == [5, 6, 1]
    assert v.token(5) == "a"
    assert "a" in v and "zz" not in v


def test_constructor_rejects_bad_token_lists():
    with pytest.raises(DataError, match="must start with the specials"):
        Vocab(["a", *SPECIALS])
    with pytest.raises(DataError, match="duplicate token 'a' at ids 5 and 6"):
        Vocab([*SPECIALS, "a", "a"])


def test_save_load_round_trip(tmp_path):
    v = Vocab.build(Counter("今天天气很好good▁"), max_size=12)
    path = tmp_path / "vocab.txt"
    v.save(path)
    text = path.read_text(encoding="utf-8")
    assert text.split("\n")[:5] == list(SPECIALS) and text.endswith("\n")
    again = Vocab.load(path)
    assert again.tokens == v.tokens and again.index == v.index


def test_save_rejects_tokens_that_cannot_be_one_per_line(tmp_path):
    with pytest.raises(DataError, match="cannot be stored"):
        Vocab([*SPECIALS, "a b ", "c"]).save(tmp_path / "v.txt")
    with pytest.raises(DataError, match="cannot be stored"):
        Vocab([*SPECIALS, "x\ny"]).save(tmp_path / "v.txt")


def test_load_missing_file_names_the_file(tmp_path):
    path = tmp_path / "nope.txt"
    with pytest.raises(DataError) as exc:
        Vocab.load(path)
    assert f"{path}: vocabulary file not found" in str(exc.value)


@pytest.mark.parametrize(("lines", "bad_line"), [([*SPECIALS, "a", "", "b"], 7), ([*SPECIALS, ""], 6)])
def test_load_empty_line_names_file_and_line(tmp_path, lines, bad_line):
    path = tmp_path / "vocab.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as exc:
        Vocab.load(path)
    assert f"{path}:{bad_line}: empty token line" in str(exc.value)


def test_load_not_utf8_and_missing_specials(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes(("\n".join(SPECIALS) + "\n").encode() + b"\xff\xfe\n")
    with pytest.raises(DataError, match=f"{path}: not UTF-8"):
        Vocab.load(path)
    path.write_text("a\nb\n", encoding="utf-8")
    with pytest.raises(DataError, match="must start with the specials"):
        Vocab.load(path)
