"""Masking for MLM: the ratio, BERT's 80/10/10 split, whole words, determinism."""

from __future__ import annotations

import torch

from scratchlm.data.masking import mask_tokens, word_ids_from_offsets
from scratchlm.models.masked_lm import IGNORE


def _mask(ids, candidates, seed=0, **kw):
    kw = {"ratio": 0.15, "mask_id": 4, "random_low": 5, "vocab_size": 1000, **kw}
    return mask_tokens(ids, candidates, generator=torch.Generator().manual_seed(seed), **kw)


def test_ratio_and_80_10_10():
    ids = torch.randint(5, 1000, (200, 100))
    cand = torch.ones_like(ids, dtype=torch.bool)
    cand[:, 0] = False  # [CLS]
    inputs, targets = _mask(ids, cand)
    picked = targets != IGNORE
    assert not picked[:, 0].any()
    assert abs(picked.float().sum() / cand.sum() - 0.15) < 0.01
    assert torch.equal(targets[picked], ids[picked])
    assert torch.equal(inputs[~picked], ids[~picked])  # only picked positions change
    n = picked.sum().item()
    as_mask = (inputs[picked] == 4).sum().item() / n
    kept = (inputs[picked] == ids[picked]).sum().item() / n
    assert abs(as_mask - 0.8) < 0.02
    assert abs(kept - 0.1) < 0.02  # a random draw equal to the original counts here too (1/995)
    assert (inputs[picked] >= 4).all()  # random replacements never draw a special other than [MASK]


def test_same_generator_seed_same_masks_and_at_least_one():
    ids = torch.randint(5, 50, (2, 3))
    cand = torch.ones_like(ids, dtype=torch.bool)
    a, b = _mask(ids, cand, seed=7, ratio=0.01), _mask(ids, cand, seed=7, ratio=0.01)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert (a[1] != IGNORE).sum() >= 1  # a tiny ratio still predicts one token


def test_whole_words_are_masked_together():
    ids = torch.randint(5, 1000, (64, 12))
    cand = torch.ones_like(ids, dtype=torch.bool)
    word_ids = torch.arange(12).div(3, rounding_mode="floor").expand(64, 12)  # 4 words of 3 tokens
    _, targets = _mask(ids, cand, word_ids=word_ids, ratio=0.3)
    picked = (targets != IGNORE).view(64, 4, 3)
    assert picked.any()
    assert (picked.all(-1) == picked.any(-1)).all()  # a word is predicted whole or not at all


def test_word_ids_from_offsets():
    text = "我们喜欢北京"
    offsets = [(0, 0), (0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6)]
    assert word_ids_from_offsets(text, offsets, ["我们", "喜欢", "北京"]) == [-1, 0, 0, 1, 1, 2, 2]
