"""Dictionaries for model.lexicon: jieba's file and users' own, with errors naming file and line, and
the words as token ids under a run's tokenizer."""

from __future__ import annotations

import pytest

from scratchlm.data.lexicon import LexiconEntry, lexicon_words, read_lexicon
from scratchlm.errors import DataError
from scratchlm.tokenizers import CharTokenizer, Vocab

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def test_reads_word_frequency_tag_lines_with_bom_comments_and_blank_lines(tmp_path):
    f = tmp_path / "dict.txt"
    f.write_text("\ufeff北京 100 ns\n# a comment\n\n江泽民\tnr\n中国\r\nabc 3\n", encoding="utf-8")
    assert read_lexicon(str(f)) == [
        LexiconEntry("北京", 100, "ns"),
        LexiconEntry("江泽民", None, "nr"),
        LexiconEntry("中国", None, ""),
        LexiconEntry("abc", 3, ""),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("北京 1 ns\n中 国 1 x\n", r"dict.txt:2: 4 fields"),
        ("北京 1 ns\n上海 many ns\n", r"dict.txt:2: frequency 'many'"),
        ("# only a comment\n\n", r"dict.txt: no words"),
    ],
)
def test_bad_files_name_the_line(tmp_path, text, message):
    f = tmp_path / "dict.txt"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_lexicon(str(f))


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_lexicon(str(tmp_path / "nope.txt"))
    f = tmp_path / "dict.bin"
    f.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DataError, match="not UTF-8"):
        read_lexicon(str(f))


def test_jieba_dictionary_is_found():
    entries = read_lexicon("jieba")
    assert len(entries) > 300_000
    assert LexiconEntry("北京", entries[[e.word for e in entries].index("北京")].freq, "ns") in entries


def test_words_become_ids_with_group_bits_and_unknown_words_drop():
    tok = CharTokenizer(Vocab(SPECIALS + list("北京江泽民中国")), normalize=True)
    entries = [
        LexiconEntry("北京", 100, "ns"),
        LexiconEntry("江泽民", 5, "nr"),
        LexiconEntry("上海", 100, "ns"),  # 上, 海 are not in the vocabulary
        LexiconEntry("中", 100, ""),  # one token: no boundary to tell
        LexiconEntry("中国", 1, "ns"),
    ]
    words = lexicon_words(entries, tok, groups=["nr", "ns"], min_freq=2)
    v = tok.vocab
    assert words == [([v.ids(["北"])[0], v.ids(["京"])[0]], 0b101), (v.ids(list("江泽民")), 0b011)]


def test_words_are_normalised_like_the_text():
    tok = CharTokenizer(Vocab(SPECIALS + list("ab")), normalize=True)
    # full-width letters in the dictionary map to the half-width tokens the text has
    assert lexicon_words([LexiconEntry("ａｂ", None, "")], tok, groups=[]) == [(tok.vocab.ids(["a", "b"]), 1)]
