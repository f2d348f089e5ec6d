"""Nearest neighbours of one token of a text, by cosine similarity, two ways:

- its **static row**: the token's row of the embedding matrix against every other row (special tokens
  left out): what the model knows about the token before it sees any context;
- its **contextual vector**: the encoder's output at that position against the output at every
  position of a bank of texts (the text itself and the others given), special tokens left out: the
  same character in two sentences lands near or far depending on what surrounds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from scratchlm.training.run_dir import LoadedRun


@torch.no_grad()
def static_neighbours(run: LoadedRun, token_id: int, k: int = 8) -> list[dict[str, Any]]:
    """The ``k`` rows closest to row ``token_id``: ``{"token", "id", "cosine"}``, closest first."""
    matrix = run.model.input.token_embedding.matrix().float()  # (V, d)
    sims = F.cosine_similarity(matrix, matrix[token_id][None], dim=-1)  # (V,)
    sims[list(run.tokenizer.vocab.special_ids | {token_id})] = float("-inf")
    top = sims.topk(min(k, max(0, len(sims) - len(run.tokenizer.vocab.special_ids) - 1)))
    vocab = run.tokenizer.vocab
    return [
        {"token": vocab.token(i), "id": i, "cosine": round(s, 4)}
        for s, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
    ]


@torch.no_grad()
def contextual_vectors(run: LoadedRun, text: str) -> tuple[list[int], list[str], torch.Tensor]:
    """``(ids, tokens, h (s, o))``: the encoder's output for ``text``, read as the run's task reads it."""
    ids, tokens, _ = run.handler().model_inputs(run, text)
    model = run.model
    t = torch.tensor([ids])  # (1, s)
    h = model.encoder(model.input(t), torch.ones_like(t, dtype=torch.bool))  # (1, s, o)
    return ids, tokens, h[0].float()


def _snippet(tokens: list[str], ids: list[int], specials: set[int], position: int, width: int = 4) -> str:
    """``left[token]right``: up to ``width`` tokens each side, special tokens left out."""

    def join(span: range) -> str:
        return "".join(tokens[i] for i in span if ids[i] not in specials)

    left = join(range(max(0, position - width), position))
    right = join(range(position + 1, min(len(tokens), position + 1 + width)))
    return f"{left}[{tokens[position]}]{right}"


@torch.no_grad()
def contextual_neighbours(
    run: LoadedRun, text: str, position: int, others: Sequence[str] = (), k: int = 8
) -> list[dict[str, Any]]:
    """The ``k`` positions of ``[text, *others]`` whose contextual vectors are closest to the one at
    ``position`` of ``text`` (itself excluded): ``{"text", "position", "token", "context", "cosine"}``,
    ``text`` being the index in ``[text, *others]``."""
    specials = run.tokenizer.vocab.special_ids
    ids, tokens, h = contextual_vectors(run, text)
    query = h[position]
    found = []
    for t, bank_text in enumerate([text, *others]):
        b_ids, b_tokens, b_h = (ids, tokens, h) if t == 0 else contextual_vectors(run, bank_text)
        sims = F.cosine_similarity(b_h, query[None], dim=-1).tolist()  # (s,)
        for p, sim in enumerate(sims):
            if b_ids[p] in specials or (t == 0 and p == position):
                continue
            found.append((sim, t, p, b_tokens, b_ids))
    found.sort(key=lambda f: -f[0])
    return [
        {
            "text": t,
            "position": p,
            "token": toks[p],
            "context": _snippet(toks, t_ids, specials, p),
            "cosine": round(sim, 4),
        }
        for sim, t, p, toks, t_ids in found[:k]
    ]
