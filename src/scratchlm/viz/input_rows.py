"""The input layer of a run on one text, part by part: what each position's vector is made of.

For the positions the model reads (``run.handler().model_inputs``: [CLS] and the tokens for a
classifier or a language model, one unit per position for a tagger), the parts of
:class:`~scratchlm.modules.input_layer.InputLayer` are computed one at a time, as its forward pass does
(dropout off)::

    token rows     TokenEmbedding(ids)                (times sqrt(d) with model.embed_scale)
    pair rows      HashedBigramEmbedding(ids)         (model.bigram_buckets)
    lexicon rows   LexiconEmbedding(ids)              (model.lexicon)
    type rows      TokenTypeEmbedding(0)              (model.num_token_types)
    position rows  P[:s]                              (an absolute positional kind)
    combined       x + P, or act(W [x; P] + c)        (model.positional.combine)
    output         Norm(combined)                     (model.embedding_norm), what the encoder reads

Each part is an ``(s, d)`` matrix with its L2 norm per position. The last part equals
``model.input(ids)`` in eval mode (``tests/viz/test_input_rows.py``). Relative kinds (RoPE, ALiBi, T5
bias) add no vectors here: they act inside attention, and :func:`position_note` says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from scratchlm.training.run_dir import LoadedRun

RELATIVE_NOTES = {
    "rope": "RoPE rotates each head's queries and keys by their position inside attention: "
    "no position vectors are added to the token vectors",
    "alibi": "ALiBi adds a distance penalty to the attention scores: no position vectors are added",
    "t5_bias": "T5 bias adds a learned bucketed-distance bias to the attention scores: no position "
    "vectors are added",
    "none": "no positional encoding: the model sees the tokens as a set, or an RNN sees their order",
}


@dataclass
class Part:
    name: str  # what the rows are ("token rows", "position rows (sinusoidal)", ...)
    rows: torch.Tensor  # (s, d)

    def to_dict(self, digits: int = 4) -> dict[str, Any]:
        rows = self.rows.float()
        return {
            "name": self.name,
            "rows": [[round(v, digits) for v in row] for row in rows.tolist()],
            "norms": [round(v, digits) for v in rows.norm(dim=-1).tolist()],
        }


def position_note(run: LoadedRun) -> str | None:
    """Why the run adds no position vectors (a relative kind, or none), else ``None``."""
    pos = run.config.model.positional
    return RELATIVE_NOTES.get(pos.kind) if run.model.input.positional is None else None


def _combine_name(run: LoadedRun) -> str:
    pos = run.config.model.positional
    if pos.combine == "concat":
        act = f", {pos.combine_activation}" if pos.combine_activation != "none" else ""
        return f"concat + projection{act}: act(W [x; P] + c)"
    return "sum: x + P"


@torch.no_grad()
def input_parts(run: LoadedRun, ids: list[int]) -> list[Part]:
    """The parts listed in the module docstring that the run's input layer has, in that order."""
    layer = run.model.input
    t = torch.tensor([ids])  # (1, s)
    parts = [Part("token rows", layer.token_embedding(t)[0])]
    x = parts[0].rows
    if layer.bigram_embedding is not None:
        parts.append(
            Part(
                "character-pair rows (hashed; row i: the pair of tokens i and i+1)",
                layer.bigram_embedding(t)[0],
            )
        )
        x = x + parts[-1].rows
    lexicon = getattr(layer, "lexicon_embedding", None)
    if lexicon is not None:
        parts.append(Part("lexicon rows (the dictionary words covering each token)", lexicon(t)[0]))
        x = x + parts[-1].rows
    if layer.token_type_embedding is not None:
        parts.append(Part("token-type rows (type 0)", layer.token_type_embedding(torch.zeros_like(t))[0]))
        x = x + parts[-1].rows
    if len(parts) > 1:
        parts.append(Part("token vector x (the rows above added)", x))
    if layer.positional is not None:
        kind = run.config.model.positional.kind
        positions = layer.positional.encodings(len(ids)).to(x.dtype)  # (s, d)
        parts.append(Part(f"position rows P ({kind})", positions))
        x = layer.combine(x[None], positions)[0]
        parts.append(Part(_combine_name(run), x))
    if layer.norm is not None:
        x = layer.norm(x)
        parts.append(Part(f"after {type(layer.norm).__name__}: what the encoder reads", x))
    return parts
