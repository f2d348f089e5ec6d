"""Weights between Hugging Face BERT-family modules and scratchlm's, through explicit name maps.

:func:`copy_bert_embeddings` fills an :class:`~scratchlm.modules.input_layer.InputLayer` built as BERT's
(learned positions, token types, LayerNorm) from a ``transformers`` ``BertEmbeddings``; every tensor in
the map must exist on both sides with the same shape, and nothing is skipped silently.
"""

from __future__ import annotations

import torch
from torch import nn

# scratchlm InputLayer parameter -> BertEmbeddings parameter
BERT_EMBEDDINGS_MAP: dict[str, str] = {
    "token_embedding.embedding.weight": "word_embeddings.weight",
    "positional.weight": "position_embeddings.weight",
    "token_type_embedding.embedding.weight": "token_type_embeddings.weight",
    "norm.weight": "LayerNorm.weight",
    "norm.bias": "LayerNorm.bias",
}


@torch.no_grad()
def copy_bert_embeddings(input_layer: nn.Module, bert_embeddings: nn.Module) -> None:
    """Copy ``bert_embeddings``' tables and LayerNorm into ``input_layer`` (BERT-shaped: ``positional:
    learned``, ``num_token_types`` > 0, ``embedding_norm: layernorm``). Raises ``ValueError`` naming every
    missing tensor or shape mismatch."""
    ours = dict(input_layer.named_parameters())
    theirs = dict(bert_embeddings.named_parameters())
    problems = []
    for mine, hf in BERT_EMBEDDINGS_MAP.items():
        if mine not in ours:
            problems.append(f"the input layer has no {mine} (needed for {hf})")
        elif hf not in theirs:
            problems.append(f"the BERT embeddings have no {hf}")
        elif ours[mine].shape != theirs[hf].shape:
            problems.append(f"{mine} {tuple(ours[mine].shape)} != {hf} {tuple(theirs[hf].shape)}")
    if problems:
        raise ValueError("cannot copy BERT embeddings: " + "; ".join(problems))
    for mine, hf in BERT_EMBEDDINGS_MAP.items():
        ours[mine].copy_(theirs[hf])
