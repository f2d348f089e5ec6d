"""The sha1 split rule, checked against an independent recomputation and pinned values."""

from __future__ import annotations

import hashlib

import pytest

from scratchlm.data import split_of
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
