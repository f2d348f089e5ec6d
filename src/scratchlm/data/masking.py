"""Masked-LM inputs (BERT, Devlin et al. 2019 §3.1): pick ``ratio`` of the real tokens to predict; of
those, 80% become ``[MASK]``, 10% a random ordinary token, 10% stay as they are. With word ids, whole
words are picked (whole-word masking, Cui et al. 2019, https://arxiv.org/abs/1906.08101: for Chinese
the words come from jieba, every character of a picked word is predicted).

Shapes: ``b`` batch, ``s`` sequence. Every draw comes from the ``generator`` passed in, so the same
batch and seed give the same masks (a resumed run replays them exactly).
"""

from __future__ import annotations

import torch

from scratchlm.modules.mlm_head import IGNORE


def mask_tokens(
    ids: torch.Tensor,
    candidates: torch.Tensor,
    *,
    ratio: float,
    mask_id: int,
    random_low: int,
    vocab_size: int,
    generator: torch.Generator,
    word_ids: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``ids (b, s)``, ``candidates (b, s)`` bool (real, non-special tokens) -> ``(inputs, targets)``,
    both ``(b, s)``; ``targets`` holds the original id where a token is predicted, ``IGNORE`` elsewhere.

    ``random_low``: the first id a random replacement may take (after the specials). ``word_ids (b, s)``:
    for whole-word masking, the word each token belongs to (numbered within its row, ``-1`` for none).
    At least one position of the batch is always picked when there is a candidate, so a batch of short
    texts still has a loss.
    """
    b, s = ids.shape
    if word_ids is None:
        picked = (torch.rand(b, s, generator=generator) < ratio) & candidates  # (b, s)
    else:
        # one draw per word: a token is picked when its word is
        words = int(word_ids.max()) + 1 if word_ids.numel() else 0
        draw = torch.rand(b, max(words, 1), generator=generator) < ratio  # (b, w)
        picked = draw.gather(1, word_ids.clamp_min(0)) & (word_ids >= 0) & candidates
    if not picked.any() and candidates.any():
        flat = candidates.flatten().nonzero().squeeze(1)
        choice = flat[torch.randint(len(flat), (1,), generator=generator)]
        picked = picked.flatten().index_fill(0, choice, True).view(b, s)
    targets = torch.where(picked, ids, torch.full_like(ids, IGNORE))
    roll = torch.rand(b, s, generator=generator)
    replace_mask = picked & (roll < 0.8)
    replace_random = picked & (roll >= 0.8) & (roll < 0.9)
    random_ids = torch.randint(random_low, vocab_size, (b, s), generator=generator)
    inputs = torch.where(replace_mask, torch.full_like(ids, mask_id), ids)
    inputs = torch.where(replace_random, random_ids, inputs)
    return inputs, targets


def word_ids_from_offsets(text: str, offsets: list[tuple[int, int]], words: list[str]) -> list[int]:
    """The word (index into ``words``, which tile ``text`` in order, as ``jieba.lcut`` returns them) each
    token starts in, from the token ``offsets`` into ``text``; ``-1`` for specials (empty spans)."""
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w)
    out, word = [], 0
    for start, end in offsets:
        if end <= start:
            out.append(-1)
            continue
        while word + 1 < len(starts) and starts[word + 1] <= start:
            word += 1
        out.append(word)
    return out
