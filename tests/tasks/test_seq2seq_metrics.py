"""WER and PER against hand-counted examples, and the edit distance against a brute-force search."""

from __future__ import annotations

import itertools
import random

import pytest

from scratchlm.tasks.seq2seq_metrics import edit_distance, seq2seq_metrics


def brute_distance(a: tuple, b: tuple) -> int:
    """Smallest number of edits over all alignments, by recursion (tiny inputs only)."""
    if not a or not b:
        return len(a) + len(b)
    return min(
        brute_distance(a[1:], b) + 1,
        brute_distance(a, b[1:]) + 1,
        brute_distance(a[1:], b[1:]) + (a[0] != b[0]),
    )


def test_edit_distance_known_values_and_brute_force():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance([], ["AH"]) == 1
    assert edit_distance(["T", "AH"], ["T", "AH"]) == 0
    rng = random.Random(0)
    for _ in range(200):
        a = tuple(rng.choice("abc") for _ in range(rng.randint(0, 5)))
        b = tuple(rng.choice("abc") for _ in range(rng.randint(0, 5)))
        assert edit_distance(a, b) == brute_distance(a, b) == edit_distance(b, a)


def test_wer_and_per_by_hand():
    refs = [
        [("T", "AH", "M", "EY", "T", "OW"), ("T", "AH", "M", "AA", "T", "OW")],  # tomato, two references
        [("K", "AE", "T")],  # cat
        [("D", "AO", "G")],  # dog
    ]
    predictions = [
        ("T", "AH", "M", "AA", "T", "OW"),  # equals the second reference: correct, 0 errors
        ("K", "AH", "T"),  # one substitution in 3
        ("D", "AO", "G", "Z"),  # one insertion in 3
    ]
    m = seq2seq_metrics(predictions, refs)
    assert m["wer"] == pytest.approx(2 / 3)
    assert m["word_accuracy"] == pytest.approx(1 / 3)
    assert m["per"] == pytest.approx((0 + 1 + 1) / (6 + 3 + 3))  # micro: every phone weighs the same
    assert m["per_word_mean"] == pytest.approx((0 / 6 + 1 / 3 + 1 / 3) / 3)  # macro: every word the same
    assert (m["num_examples"], m["wrong_examples"], m["token_errors"], m["reference_tokens"]) == (3, 2, 2, 12)


def test_per_takes_the_closest_reference_and_its_length():
    # distance 1 to the long reference (4 tokens), 2 to the short one (2 tokens): the long one counts
    m = seq2seq_metrics([("A", "B", "C")], [[("X", "Y"), ("A", "B", "C", "D")]])
    assert (m["token_errors"], m["reference_tokens"], m["per"]) == (1, 4, 0.25)
    assert m["wer"] == 1.0


def test_every_permutation_of_references_gives_the_same_wer():
    refs = [("A",), ("B",), ("C",)]
    for order in itertools.permutations(refs):
        assert seq2seq_metrics([("B",)], [list(order)])["wer"] == 0.0
    with pytest.raises(ValueError):
        seq2seq_metrics([("A",)], [])
