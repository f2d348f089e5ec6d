"""Linear-chain conditional random field over tag sequences (Lafferty et al. 2001; the output layer of
the BiLSTM-CRF tagger, Lample et al. 2016, https://arxiv.org/abs/1603.01360).

Shapes: ``emissions (b, s, T)`` per-token tag scores, ``tags (b, s)``, ``mask (b, s)`` True at real
tokens and right-padded (every row has at least one real token), ``T`` tags. A tag sequence y scores

    score(y) = start[y_0] + sum_t emissions[t, y_t] + sum_{t>0} trans[y_{t-1}, y_t] + end[y_last]

and the model's probability is ``exp(score(y)) / Z`` with ``Z`` summed over all ``T^s`` sequences by
the forward algorithm (a log-sum-exp recursion, O(s T^2)). :meth:`ConditionalRandomField.decode` finds
the best sequence with Viterbi (the same recursion with max). Both were checked against brute-force
enumeration of every sequence (``tests/modules/test_crf.py``).

:meth:`ConditionalRandomField.decode_scan` is the same Viterbi written as two ``torch`` scans (the
forward max-product recursion, then the backtrack), for export: ``torch.export`` turns each into one
ONNX ``Scan`` node, so the graph decodes any sequence length (a Python loop would be unrolled for the
example's length). It returns what :meth:`decode` returns, ties included.

Constraints are a part of the module, not of the task: three boolean masks say which tags may start a
sequence, follow one another and end it (a tag scheme such as BIO or BMES computes them). Forbidden
moves get a score of -10000 (not -inf, which would turn a gradient into NaN), so no sequence that uses
one is ever decoded while an allowed one exists, and training never spends probability on them.
"""

from __future__ import annotations

import torch
from torch import nn

FORBIDDEN = -10000.0


class ConditionalRandomField(nn.Module):
    def __init__(
        self,
        num_tags: int,
        *,
        allowed_start: torch.Tensor | None = None,
        allowed_transitions: torch.Tensor | None = None,
        allowed_end: torch.Tensor | None = None,
    ):
        """``allowed_start (T,)``, ``allowed_transitions (T, T)`` (row: previous tag, column: next tag),
        ``allowed_end (T,)``: boolean masks; None allows everything."""
        super().__init__()
        self.num_tags = num_tags
        self.start = nn.Parameter(torch.zeros(num_tags))
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))
        self.end = nn.Parameter(torch.zeros(num_tags))

        def penalty(allowed: torch.Tensor | None, shape: tuple[int, ...]) -> torch.Tensor:
            if allowed is None:
                return torch.zeros(shape)
            allowed = torch.as_tensor(allowed, dtype=torch.bool)
            if allowed.shape != shape:
                raise ValueError(f"constraint mask of shape {tuple(allowed.shape)}, expected {shape}")
            return torch.where(allowed, 0.0, FORBIDDEN)

        # derived from the tag names, so not saved with the weights
        self.register_buffer("start_penalty", penalty(allowed_start, (num_tags,)), persistent=False)
        self.register_buffer(
            "transition_penalty", penalty(allowed_transitions, (num_tags, num_tags)), persistent=False
        )
        self.register_buffer("end_penalty", penalty(allowed_end, (num_tags,)), persistent=False)

    def _scores(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return (
            self.start + self.start_penalty,
            self.transitions + self.transition_penalty,
            self.end + self.end_penalty,
        )

    def score(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``score(y)`` of the given tag sequences: ``(b,)``."""
        start, trans, end = self._scores()
        mask_f = mask.to(emissions.dtype)  # (b, s)
        emitted = emissions.gather(-1, tags.unsqueeze(-1)).squeeze(-1)  # (b, s)
        total = start[tags[:, 0]] + (emitted * mask_f).sum(1)  # (b,)
        total = total + (trans[tags[:, :-1], tags[:, 1:]] * mask_f[:, 1:]).sum(1)  # pairs (t-1, t), t real
        last = tags.gather(1, (mask.sum(1) - 1).clamp_min(0).unsqueeze(1)).squeeze(1)  # (b,)
        return total + end[last]

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``log Z``: log-sum-exp of ``score(y)`` over every tag sequence, ``(b,)``."""
        start, trans, end = self._scores()
        # unbind once: indexing emissions[:, t] in the loop would make autograd write a full-size zero
        # gradient for every step (quadratic in s; it was 90% of a BiLSTM-CRF's training time)
        steps = emissions.unbind(1)  # s x (b, T)
        real = mask.unbind(1)
        alpha = start + steps[0]  # (b, T): log-sum of the scores of all prefixes ending in each tag
        for t in range(1, len(steps)):
            # (b, T_prev, 1) + (T_prev, T_next) + (b, 1, T_next) -> log-sum-exp over T_prev
            step = torch.logsumexp(alpha.unsqueeze(2) + trans + steps[t].unsqueeze(1), dim=1)
            alpha = torch.where(real[t].unsqueeze(1), step, alpha)  # padding: carry the row over
        return torch.logsumexp(alpha + end, dim=1)

    def forward(self, emissions: torch.Tensor, tags: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Negative log-likelihood of each sequence, ``-log p(tags | x) = log Z - score(tags)``: ``(b,)``."""
        return self.log_partition(emissions, mask) - self.score(emissions, tags, mask)

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Viterbi: the highest-scoring tag sequence of each row, ``(b, s)`` (padding positions repeat the
        row's last tag; callers read the first ``length`` entries)."""
        start, trans, end = self._scores()
        b, s, num_tags = emissions.shape
        score = start + emissions[:, 0]  # (b, T)
        keep = torch.arange(num_tags, device=emissions.device).expand(b, num_tags)  # identity pointers
        pointers = []
        for t in range(1, s):
            best, arg = (score.unsqueeze(2) + trans).max(dim=1)  # (b, T_next): best previous tag
            real = mask[:, t].unsqueeze(1)
            score = torch.where(real, best + emissions[:, t], score)
            # past a row's end the pointer points at the same tag, so backtracking walks through
            # the padding unchanged down to the row's true last position
            pointers.append(torch.where(real, arg, keep))
        path = [(score + end).argmax(dim=1)]  # (b,) best last tag
        for arg in reversed(pointers):
            path.append(arg.gather(1, path[-1].unsqueeze(1)).squeeze(1))
        return torch.stack(path[::-1], dim=1)  # (b, s)

    @torch.no_grad()
    def decode_scan(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """:meth:`decode` through ``torch._higher_order_ops.scan`` (exportable with a dynamic length).

        The scan runs over all ``s`` positions (not ``s - 1``: onnxruntime's ``Scan`` fails on zero
        iterations), the first step starting the recursion. The parameters must not require gradients
        while it is traced (the scan's autograd rejects integer outputs)."""
        from torch._higher_order_ops.scan import scan

        start, trans, end = self._scores()
        b, s, num_tags = emissions.shape
        keep = torch.arange(num_tags, device=emissions.device).expand(b, num_tags)  # identity pointers
        first = torch.arange(s, device=emissions.device) == 0  # (s,)

        def forward_step(score: torch.Tensor, step: tuple) -> tuple[torch.Tensor, torch.Tensor]:
            emitted, real, is_first = step  # (b, T), (b,), ()
            best, arg = (score.unsqueeze(2) + trans).max(dim=1)  # (b, T_next): best previous tag
            real = real.unsqueeze(1)  # (b, 1)
            score = torch.where(real, best + emitted, score)  # padding: carry the row over
            score = torch.where(is_first, start + emitted, score)
            return score, torch.where(real & ~is_first, arg, keep)

        steps = (
            emissions.transpose(0, 1),
            mask.transpose(0, 1),
            first,
        )  # time first: (s, b, T), (s, b), (s,)
        score, pointers = scan(forward_step, emissions.new_zeros(b, num_tags), steps)  # (b, T), (s, b, T)

        def backtrack(tag: torch.Tensor, pointer: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            # carry: the tag at position t; emit it, and step to the tag at t - 1
            return pointer.gather(1, tag.unsqueeze(1)).squeeze(1), tag.clone()  # clone: no aliasing

        last = (score + end).argmax(dim=1)  # (b,) best last tag
        _, path = scan(backtrack, last, pointers, reverse=True)  # (s, b), in position order
        return path.transpose(0, 1)  # (b, s)
