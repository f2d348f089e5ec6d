"""Sequence packing: every token exactly once, in order, blocks full but the last, segments per text."""

from __future__ import annotations

import random

import pytest

from scratchlm.data.packing import pack_sequences


@pytest.mark.parametrize("block", [2, 3, 7, 16, 100])
def test_every_token_once_in_order(block):
    rng = random.Random(block)
    docs = [[rng.randrange(5, 50) for _ in range(rng.randrange(1, 20))] for _ in range(30)]
    packed = pack_sequences(docs, block)
    assert [t for b in packed.seqs for t in b] == [t for d in docs for t in d]
    assert all(len(b) == block for b in packed.seqs[:-1]) and 0 < len(packed.seqs[-1]) <= block
    # segments number the texts of each block from 0, and change exactly where a text ends
    ends, pos = set(), 0
    for d in docs:
        pos += len(d)
        ends.add(pos)
    flat_pos = 0
    for ids, seg in zip(packed.seqs, packed.segments, strict=True):
        assert len(seg) == len(ids) and seg[0] == 0
        for i in range(1, len(seg)):
            assert seg[i] - seg[i - 1] == (1 if flat_pos + i in ends else 0)
        flat_pos += len(ids)


def test_word_ids_stay_distinct_between_texts_of_a_block():
    docs = [[2, 5, 6, 3], [2, 7, 3], [2, 8, 9, 10, 11, 3]]
    words = [[-1, 0, 1, -1], [-1, 0, -1], [-1, 0, 0, 1, 2, -1]]
    packed = pack_sequences(docs, 5, extra=words)
    assert packed.seqs == [[2, 5, 6, 3, 2], [7, 3, 2, 8, 9], [10, 11, 3]]
    assert packed.segments == [[0, 0, 0, 0, 1], [0, 0, 1, 1, 1], [0, 0, 0]]
    assert packed.extra == [[-1, 0, 1, -1, -1], [0, -1, -1, 1, 1], [0, 1, -1]]


def test_block_size_below_two_is_refused():
    with pytest.raises(ValueError):
        pack_sequences([[1, 2]], 1)
