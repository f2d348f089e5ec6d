"""Tag schemes: canonical tags, well-formedness, spans (strict for entities, total for segmentation),
and the transition rules a CRF gets."""

from __future__ import annotations

import pytest

from scratchlm.data.schemes import detect_scheme, get_scheme, tags_from_spans

BIO, BMES = get_scheme("bio"), get_scheme("bmes")


def test_canonical_tags_and_errors():
    assert BIO.canonical("b-PER") == "B-PER" and BIO.canonical("o") == "O"
    assert BMES.canonical("s") == "S" and BMES.canonical("e-LOC") == "E-LOC"
    for bad in ("B", "X-PER", "B-", "S-PER", "M"):
        with pytest.raises(ValueError, match="not a BIO tag"):
            BIO.canonical(bad)
    with pytest.raises(ValueError, match="not a BMES tag"):
        BMES.canonical("I-PER")


def test_bio_spans_are_strict():
    tags = ["B-PER", "I-PER", "O", "I-LOC", "B-LOC", "B-LOC", "I-PER", "B-ORG"]
    # the stray I-LOC starts nothing; I-PER after B-LOC ends the LOC and starts nothing
    assert BIO.spans(tags) == [(0, 2, "PER"), (4, 5, "LOC"), (5, 6, "LOC"), (7, 8, "ORG")]
    assert BIO.check(tags) == "tag 'I-LOC' (token 4) cannot follow 'O' under BIO"
    assert BIO.check(["I-PER"]) == "tag 'I-PER' cannot begin a sentence under BIO"
    assert BIO.check(["B-PER", "I-PER", "O"]) is None


def test_bmes_segmentation_covers_every_character():
    assert BMES.spans(["B", "E", "S", "B", "M", "E"]) == [(0, 2, ""), (2, 3, ""), (3, 6, "")]
    # ill-formed (a softmax may say so): boundaries before B/S, after E/S, nothing lost
    assert BMES.spans(["B", "B", "E", "M", "S", "M"]) == [
        (0, 1, ""),
        (1, 3, ""),
        (3, 4, ""),
        (4, 5, ""),
        (5, 6, ""),
    ]
    assert BMES.check(["B", "S"]) == "tag 'S' (token 2) cannot follow 'B' under BMES"
    assert BMES.check(["S", "B"]).endswith("(the unit is unfinished)")
    assert BMES.check(["M"]) == "tag 'M' cannot begin a sentence under BMES"


def test_typed_bmes_is_strict():
    tags = ["B-PER", "E-PER", "O", "S-LOC", "B-ORG", "M-ORG", "O", "M-ORG", "E-ORG"]
    assert BMES.spans(tags) == [(0, 2, "PER"), (3, 4, "LOC")]


def test_tags_from_spans_round_trip():
    spans = [(0, 3, "PER"), (4, 5, "LOC")]
    assert tags_from_spans(6, spans, "bio") == ["B-PER", "I-PER", "I-PER", "O", "B-LOC", "O"]
    assert tags_from_spans(6, spans, "bmes") == ["B-PER", "M-PER", "E-PER", "O", "S-LOC", "O"]
    words = [(0, 2, ""), (2, 3, ""), (3, 6, "")]
    assert BMES.spans(tags_from_spans(6, words, "bmes")) == words
    assert BIO.spans(tags_from_spans(6, spans, "bio")) == spans


def test_labels_detection_and_transition_rules():
    assert BIO.labels({"PER", "LOC"}) == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    assert BMES.labels({""}) == ["B", "M", "E", "S"]
    assert detect_scheme({"B", "E", "S"}) == "bmes" and detect_scheme({"O", "B-X", "I-X"}) == "bio"
    start, trans, end = BMES.transition_rules(["B", "M", "E", "S"])
    assert start == [True, False, False, True] and end == [False, False, True, True]
    assert trans == [
        [False, True, True, False],  # B -> M, E
        [False, True, True, False],  # M -> M, E
        [True, False, False, True],  # E -> B, S
        [True, False, False, True],  # S -> B, S
    ]
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    start, trans, _ = BIO.transition_rules(labels)
    assert start == [True, True, False, True, False]
    assert trans[0][2] is False and trans[1][2] is True and trans[3][2] is False and trans[2][2] is True
