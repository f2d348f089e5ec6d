"""Decoding strategies: each filter keeps what it should, greedy is the argmax, a seed fixes a row's
sample whatever the other rows are, and bad options are named."""

from __future__ import annotations

import pytest
import torch

from scratchlm.errors import ConfigError
from scratchlm.predict.sampling import (
    GenerationOptions,
    apply_repetition_penalty,
    next_tokens,
    row_generators,
    top_k_filter,
    top_p_filter,
)

LOGITS = torch.tensor([[2.0, 1.0, 0.5, -1.0, -3.0]])
NONE_SEEN = torch.zeros(1, 5, dtype=torch.bool)


def test_top_k_keeps_the_k_best():
    kept = top_k_filter(LOGITS, 2)
    assert torch.isfinite(kept).tolist() == [[True, True, False, False, False]]
    assert torch.isfinite(top_k_filter(LOGITS, 99)).all()


def test_top_p_keeps_the_smallest_set_reaching_p():
    probs = LOGITS.softmax(-1)[0]  # about 0.61, 0.22, 0.14, 0.03, 0.004
    kept = torch.isfinite(top_p_filter(LOGITS, 0.7))[0].tolist()
    assert kept == [True, True, False, False, False]  # 0.61 < 0.7 <= 0.61 + 0.22
    assert torch.isfinite(top_p_filter(LOGITS, float(probs[0]) - 1e-3))[0].tolist() == [True] + [False] * 4
    assert torch.isfinite(top_p_filter(LOGITS, 1e-9))[0].sum() == 1  # the best token always stays
    shuffled = LOGITS[:, [3, 0, 4, 2, 1]]  # the filter follows the scores, not the ids
    assert torch.isfinite(top_p_filter(shuffled, 0.7))[0].tolist() == [False, True, False, False, True]


def test_repetition_penalty_divides_positive_and_multiplies_negative_scores():
    seen = torch.tensor([[True, False, False, True, False]])
    out = apply_repetition_penalty(LOGITS, seen, 2.0)
    assert out.tolist() == [[1.0, 1.0, 0.5, -2.0, -3.0]]
    assert apply_repetition_penalty(LOGITS, seen, 1.0) is LOGITS
    # the penalty can change greedy's choice
    assert next_tokens(LOGITS, seen, GenerationOptions(repetition_penalty=4.0)).item() == 1


def test_greedy_is_the_argmax_and_seeded_samples_depend_on_their_row_only():
    logits = torch.randn(4, 50, generator=torch.Generator().manual_seed(0))
    seen = torch.zeros(4, 50, dtype=torch.bool)
    assert next_tokens(logits, seen, GenerationOptions()).tolist() == logits.argmax(-1).tolist()
    opts = GenerationOptions(temperature=1.5, top_k=20, top_p=0.95, seed=7)
    together = next_tokens(logits, seen, opts, row_generators(4, 7))
    alone = [next_tokens(logits[i : i + 1], seen[:1], opts, row_generators(1, 7)).item() for i in range(4)]
    assert together.tolist() == alone
    draws = {tuple(next_tokens(logits, seen, opts, row_generators(4, s)).tolist()) for s in range(6)}
    assert len(draws) > 1  # different seeds, different samples


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_new_tokens": 0}, "max_new_tokens=0"),
        ({"temperature": -1.0}, "temperature=-1.0"),
        ({"top_k": 0}, "top_k=0"),
        ({"top_p": 1.5}, "top_p=1.5"),
        ({"repetition_penalty": 0.0}, "repetition_penalty=0.0"),
        ({"stop": ("",)}, "stop strings"),
        ({"beam_size": 4, "temperature": 0.7}, "beam_size > 1"),
    ],
)
def test_bad_options_are_named(changes, message):
    with pytest.raises(ConfigError, match=message):
        GenerationOptions(**changes).check()
