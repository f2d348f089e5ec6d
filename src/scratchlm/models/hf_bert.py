"""Weights between Hugging Face BERT-family checkpoints and scratchlm's, through explicit name maps.

A BERT layer is scratchlm's post-LN Transformer layer (``model.encoder.norm_position: post``) with learned
positions, token types, an embedding LayerNorm, GELU and biases everywhere. The map, per layer ``i``:

| scratchlm                                   | Hugging Face ``BertModel``                                   |
|---------------------------------------------|--------------------------------------------------------------|
| ``input.token_embedding.embedding.weight``  | ``embeddings.word_embeddings.weight``                        |
| ``input.positional.weight``                 | ``embeddings.position_embeddings.weight``                    |
| ``input.token_type_embedding.embedding.weight`` | ``embeddings.token_type_embeddings.weight``              |
| ``input.norm.{weight,bias}``                | ``embeddings.LayerNorm.{weight,bias}``                       |
| ``encoder.layers.i.attention.qkv.*``        | ``encoder.layer.i.attention.self.{query,key,value}.*`` (rows stacked q, k, v) |
| ``encoder.layers.i.attention.out.*``        | ``encoder.layer.i.attention.output.dense.*``                 |
| ``encoder.layers.i.attn_norm.*``            | ``encoder.layer.i.attention.output.LayerNorm.*``             |
| ``encoder.layers.i.feed_forward.up.*``      | ``encoder.layer.i.intermediate.dense.*``                     |
| ``encoder.layers.i.feed_forward.down.*``    | ``encoder.layer.i.output.dense.*``                           |
| ``encoder.layers.i.ffn_norm.*``             | ``encoder.layer.i.output.LayerNorm.*``                       |

Reading is strict (litgpt's ``convert_hf_checkpoint`` and nanoGPT's ``from_pretrained`` are the
models): every mapped key must be there with the expected shape, every checkpoint key must be mapped
or belong to a head scratchlm does not use (``pooler.``, ``cls.``, ``classifier.``, ``qa_outputs.``:
listed in the result, never silently); a ``bert.`` prefix (``BertFor*`` checkpoints) is removed.

The map is BERT's entry in :mod:`scratchlm.models.hf_families` (with RoBERTa, ALBERT, DistilBERT and
ELECTRA), converted by :mod:`scratchlm.models.hf_convert`; folders are read by
:mod:`scratchlm.models.hf_layouts`. The functions here are the BERT-only shorthand.
"""

from __future__ import annotations

import torch
from torch import nn

from scratchlm.errors import DataError
from scratchlm.models.hf_convert import hf_config, map_keys, unmap_keys
from scratchlm.models.hf_families import BERT_EMBEDDINGS_MAP, BERT_LAYER_MAP, FAMILIES, QKV, model_fields
from scratchlm.models.hf_layouts import read_config

__all__ = [
    "BERT_EMBEDDINGS_MAP",
    "BERT_LAYER_MAP",
    "QKV",
    "bert_config",
    "bert_model_fields",
    "bert_to_scratchlm",
    "bert_weight_map",
    "copy_bert_embeddings",
    "read_bert_config",
    "scratchlm_to_bert",
]
BERT = FAMILIES["bert"]
UNUSED_HEADS = BERT.heads
"""Checkpoint parts outside the encoder: read, reported as unused, not copied."""


def _fields(num_layers: int) -> dict:
    return {"encoder": {"num_layers": num_layers}, "num_token_types": 2}


def bert_weight_map(num_layers: int) -> dict[str, str | tuple[str, ...]]:
    """scratchlm key -> Hugging Face key (a tuple: the q, k, v tensors stacked along dim 0)."""
    return BERT.weight_map(_fields(num_layers))


def bert_to_scratchlm(
    state: dict[str, torch.Tensor], num_layers: int, *, where: str = "the checkpoint"
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """A ``BertModel`` state dict -> scratchlm's ``input.*``/``encoder.*`` tensors, and the keys left
    unused (heads). Raises :class:`DataError` listing every missing and unexpected key."""
    return map_keys(state, BERT, _fields(num_layers), where=where)


def scratchlm_to_bert(state: dict[str, torch.Tensor], num_layers: int) -> dict[str, torch.Tensor]:
    """scratchlm ``input.*``/``encoder.*`` tensors (other keys ignored) -> ``BertModel`` names."""
    return unmap_keys(state, BERT, _fields(num_layers))


def bert_model_fields(hf: dict, *, where: str = "config.json") -> dict:
    """``ModelConfig`` fields of the architecture a BERT ``config.json`` describes; anything scratchlm
    cannot reproduce exactly is an error listing it (other families: :mod:`scratchlm.models.hf_families`)."""
    if hf.get("model_type", "bert") != "bert":
        raise DataError(f"{where}: model_type {hf.get('model_type')!r}, not bert (BERT only here)")
    return model_fields(BERT, hf, where=where)


def bert_config(cfg, *, vocab_size: int, max_positions: int, pad_id: int = 0) -> dict:
    """The ``config.json`` of a ``BertModel`` equal to a scratchlm ``ModelConfig`` (``cfg``)."""
    return hf_config(BERT, cfg, vocab_size=vocab_size, max_positions=max_positions, pad_id=pad_id)


read_bert_config = read_config


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
