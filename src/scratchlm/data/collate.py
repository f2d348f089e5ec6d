"""Encoded examples -> padded batches, with length bucketing.

Batch order for epoch ``e`` depends only on ``(seed, e)``, so a resumed run replays exactly the same
batches from the saved position.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch


@dataclass
class Batch:
    ids: torch.Tensor  # (b, s) int64, padded with pad_id
    padding_mask: torch.Tensor  # (b, s) bool, True at real tokens
    labels: torch.Tensor  # (b,) int64 classes, or (b, s) tag ids for a tagger (0 at padding)
    index: list[int]  # positions of the examples in the dataset
    segments: torch.Tensor | None = None  # (b, s) packed texts' numbers, for a document mask


def pad_batch(seqs: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    longest = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), longest), pad_id, dtype=torch.long)
    for row, seq in enumerate(seqs):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
    lengths = torch.tensor([len(s) for s in seqs])
    mask = torch.arange(longest)[None, :] < lengths[:, None]
    return ids, mask


def batch_order(
    lengths: list[int],
    batch_size: int,
    *,
    shuffle: bool,
    seed: int = 0,
    epoch: int = 0,
    bucketing: bool = True,
    pool_batches: int = 50,
) -> list[list[int]]:
    """Lists of example indices. With bucketing, shuffled pools of ``pool_batches`` batches are sorted
    by length before cutting, so batches hold similar lengths while the order stays random."""
    idx = list(range(len(lengths)))
    if not shuffle:
        if bucketing:
            idx.sort(key=lambda i: lengths[i])
        return [idx[i : i + batch_size] for i in range(0, len(idx), batch_size)]
    rng = random.Random(seed * 1_000_003 + epoch)
    rng.shuffle(idx)
    if bucketing:
        pool = batch_size * pool_batches
        idx = [
            i
            for start in range(0, len(idx), pool)
            for i in sorted(idx[start : start + pool], key=lambda i: lengths[i])
        ]
    batches = [idx[i : i + batch_size] for i in range(0, len(idx), batch_size)]
    if bucketing:
        rng.shuffle(batches)
    return batches


def make_batch(seqs: list[list[int]], labels: list[int], index: list[int], pad_id: int) -> Batch:
    ids, mask = pad_batch([seqs[i] for i in index], pad_id)
    return Batch(
        ids=ids,
        padding_mask=mask,
        labels=torch.tensor([labels[i] for i in index], dtype=torch.long),
        index=index,
    )


def make_tag_batch(seqs: list[list[int]], tags: list[list[int]], index: list[int], pad_id: int) -> Batch:
    """A tagger's batch: ``labels`` holds one tag id per token, padded like ``ids``."""
    ids, mask = pad_batch([seqs[i] for i in index], pad_id)
    labels, _ = pad_batch([tags[i] for i in index], 0)
    return Batch(ids=ids, padding_mask=mask, labels=labels, index=index)
