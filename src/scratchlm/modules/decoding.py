"""Greedy and beam search over any autoregressive decoder, a batch of sources at a time.

A model exposes two functions:

- ``step(state, prefix (n, t)) -> (log_probs (n, V), state)``: the distribution of the next token after
  ``prefix`` (which starts with the start token); a recurrent decoder reads only the last column and keeps
  its own state, a Transformer decoder may recompute from the whole prefix;
- ``reorder(state, index (n',)) -> state``: the state of rows ``index`` (beam search copies and reorders
  hypotheses with it; rows of the starting state are sources).

Outputs are token ids without the start and end tokens, at most ``max_len`` tokens including the end
token. Beam search keeps ``beam_size`` live hypotheses per source; a hypothesis ending with ``eos_id``
among the best ``beam_size`` candidates of a step is finished and scored ``sum log p / length **
length_penalty`` (length counts the end token). A source is done once it has ``beam_size`` finished
hypotheses and its best live one, scored as if it ended now, would not beat the worst of them (Hugging
Face's default stopping rule); at ``max_len`` the live hypotheses are finished as they are. The best
score wins. With ``beam_size=1`` and ``length_penalty=0`` this is greedy search, token for token
(tests/modules/test_decoding.py).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

StepFn = Callable[[object, torch.Tensor], tuple[torch.Tensor, object]]
ReorderFn = Callable[[object, torch.Tensor], object]


@torch.no_grad()
def greedy_search(
    step: StepFn, state, batch_size: int, *, bos_id: int, eos_id: int, max_len: int, device=None
) -> list[list[int]]:
    prefix = torch.full((batch_size, 1), bos_id, dtype=torch.long, device=device)
    out: list[list[int]] = [[] for _ in range(batch_size)]
    done = [False] * batch_size
    for _ in range(max_len):
        log_probs, state = step(state, prefix)
        token = log_probs.argmax(-1)  # (n,)
        for i, t in enumerate(token.tolist()):
            if not done[i]:
                if t == eos_id:
                    done[i] = True
                else:
                    out[i].append(t)
        if all(done):
            break
        prefix = torch.cat((prefix, token[:, None]), 1)
    return out


@torch.no_grad()
def beam_search(
    step: StepFn,
    reorder: ReorderFn,
    state,
    batch_size: int,
    *,
    beam_size: int,
    bos_id: int,
    eos_id: int,
    max_len: int,
    length_penalty: float = 1.0,
    device=None,
) -> list[list[int]]:
    b, k = batch_size, beam_size
    state = reorder(state, torch.arange(b, device=device).repeat_interleave(k))  # (b * k) rows
    prefix = torch.full((b * k, 1), bos_id, dtype=torch.long, device=device)
    scores = torch.full((b, k), float("-inf"), device=device)
    scores[:, 0] = 0.0  # one live hypothesis per source at the start, not k copies of it
    finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(b)]
    done = [False] * b

    def norm(score: float, length: int) -> float:
        return score / (length**length_penalty)

    for t in range(max_len):
        log_probs, state = step(state, prefix)  # (b * k, V)
        vocab = log_probs.shape[-1]
        candidates = (scores.view(-1, 1) + log_probs.float()).view(b, k * vocab)  # (b, k V)
        top_scores, top_index = candidates.topk(min(2 * k, k * vocab), dim=-1)  # (b, 2k)
        top_scores, top_index = top_scores.tolist(), top_index.tolist()
        new_scores = torch.full((b, k), float("-inf"))
        rows = torch.arange(b).repeat_interleave(k) * k  # filler: row 0 of each source's beams
        tokens = torch.full((b * k,), eos_id, dtype=torch.long)
        for i in range(b):
            if done[i]:
                continue
            slot = 0
            for rank, (score, index) in enumerate(zip(top_scores[i], top_index[i], strict=True)):
                if score == float("-inf"):
                    break
                beam, token = divmod(index, vocab)
                if token == eos_id:
                    if rank < k:  # only an end among the k best ends a hypothesis
                        finished[i].append((norm(score, t + 1), prefix[i * k + beam, 1:].tolist()))
                    continue
                new_scores[i, slot] = score
                rows[i * k + slot] = i * k + beam
                tokens[i * k + slot] = token
                slot += 1
                if slot == k:
                    break
            finished[i] = sorted(finished[i], key=lambda h: -h[0])[:k]  # the k best finished
            # done: k finished, and the best live hypothesis, were it to end now, would not beat them
            if len(finished[i]) >= k and (
                slot == 0 or norm(new_scores[i, 0].item(), t + 1) <= finished[i][-1][0]
            ):
                done[i] = True
        if all(done):
            break
        rows, tokens = rows.to(prefix.device), tokens.to(prefix.device)
        state = reorder(state, rows)
        prefix = torch.cat((prefix[rows], tokens[:, None]), 1)
        scores = new_scores.to(scores.device)
    else:  # max_len reached: the live hypotheses of unfinished sources end here
        for i in range(b):
            if not done[i]:
                for j in range(k):
                    score = float(scores[i, j])
                    if score > float("-inf"):
                        finished[i].append((norm(score, max_len), prefix[i * k + j, 1:].tolist()))
    return [max(hyps, key=lambda h: h[0])[1] if hyps else [] for hyps in finished]
