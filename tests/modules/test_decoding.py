"""Greedy and beam search on a hand-made next-token distribution, where greedy misses the best output."""

from __future__ import annotations

import math

import torch

from scratchlm.modules.decoding import beam_search, greedy_search

BOS, EOS, A, B, C = 0, 1, 2, 3, 4


def table_step(table: dict[tuple[int, ...], dict[int, float]]):
    """``step`` for sources that all share one distribution ``table[prefix] = {token: prob}``."""

    def step(state, prefix):
        rows = []
        for row in prefix.tolist():
            probs = torch.full((5,), 1e-9)
            for token, p in table.get(tuple(row[1:]), {EOS: 1.0}).items():
                probs[token] = p
            rows.append(probs.log())
        return torch.stack(rows), state

    return step


TABLE = {
    (): {A: 0.6, B: 0.4},
    (A,): {C: 0.5, EOS: 0.5},  # A then anything: at most 0.6 * 0.5 = 0.30
    (B,): {EOS: 0.9, C: 0.1},  # B EOS: 0.4 * 0.9 = 0.36, the most likely output
    (A, C): {EOS: 1.0},
}


def reorder(state, index):
    return state


def test_greedy_takes_the_locally_best_token_and_beam_finds_the_best_sequence():
    step = table_step(TABLE)
    assert greedy_search(step, None, 2, bos_id=BOS, eos_id=EOS, max_len=5) == [[A], [A]]
    common = dict(bos_id=BOS, eos_id=EOS, max_len=5, length_penalty=0.0)
    assert beam_search(step, reorder, None, 2, beam_size=1, **common) == [[A], [A]]
    assert beam_search(step, reorder, None, 2, beam_size=2, **common) == [[B], [B]]


def test_length_penalty_prefers_longer_outputs():
    table = {(): {A: 0.5, EOS: 0.5}, (A,): {B: 0.9, EOS: 0.1}, (A, B): {EOS: 1.0}}
    step = table_step(table)
    # the plain sum: log 0.5 (EOS at once) beats log 0.45 (A B EOS); divided by length 1 vs 3 it does not
    common = dict(bos_id=BOS, eos_id=EOS, max_len=5)
    assert beam_search(step, reorder, None, 1, beam_size=3, length_penalty=0.0, **common) == [[]]
    assert beam_search(step, reorder, None, 1, beam_size=3, length_penalty=1.0, **common) == [[A, B]]
    assert math.log(0.45) / 3 > math.log(0.5)


def test_max_len_cuts_outputs_that_never_end():
    step = table_step({(): {A: 1.0}, (A,): {A: 1.0}, (A, A): {A: 1.0}, (A, A, A): {A: 1.0}})
    assert greedy_search(step, None, 1, bos_id=BOS, eos_id=EOS, max_len=3) == [[A, A, A]]
    out = beam_search(step, reorder, None, 1, beam_size=2, bos_id=BOS, eos_id=EOS, max_len=3)
    assert out == [[A, A, A]]
