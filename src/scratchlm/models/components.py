"""Builders that turn a :class:`~scratchlm.config.ModelConfig` into parts: the wiring, kept apart from
the blocks (as torchtune's ``_component_builders.py``). Each ``model.*`` choice picks a module here;
no module downstream reads the config.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import nn

from scratchlm.config import ModelConfig
from scratchlm.modules.attention_bias import ALiBiBias, T5RelativePositionBias
from scratchlm.modules.embeddings import (
    FactorizedTokenEmbedding,
    HashedBigramEmbedding,
    TokenEmbedding,
    TokenTypeEmbedding,
)
from scratchlm.modules.input_layer import ConcatProjectPositions, InputLayer
from scratchlm.modules.lexicon import LexiconEmbedding
from scratchlm.modules.positional import ABSOLUTE_KINDS, build_positional
from scratchlm.modules.rnn import GRUEncoder, LSTMEncoder, RNNEncoder
from scratchlm.modules.rotary import RotaryEmbedding
from scratchlm.modules.transformer import transformer_encoder


@dataclass
class PositionParts:
    """Where ``model.positional.kind`` puts position information: at most one of the three is set."""

    absolute: nn.Module | None = None  # (s, d) vectors for the input layer
    rope: nn.Module | None = None  # rotates q, k in every attention module
    attention_bias: nn.Module | None = None  # (h, s, s) bias added to the scores


def position_parts(cfg: ModelConfig, max_seq_len: int) -> PositionParts:
    pos, num_heads = cfg.positional, cfg.encoder.num_heads
    kind = pos.kind
    if kind in ABSOLUTE_KINDS:
        return PositionParts(absolute=build_positional(kind, cfg.input_width, max_seq_len, cfg.init_std))
    if kind == "rope":
        head_dim = cfg.embed_dim // num_heads
        rotary_dim = round(pos.rotary_fraction * head_dim)
        return PositionParts(
            rope=RotaryEmbedding(head_dim, max_seq_len, base=pos.rope_base, rotary_dim=rotary_dim)
        )
    if kind == "alibi":
        return PositionParts(attention_bias=ALiBiBias(num_heads))
    if kind == "t5_bias":
        return PositionParts(
            attention_bias=T5RelativePositionBias(
                num_heads,
                num_buckets=pos.num_buckets,
                max_distance=pos.max_distance,
                init_std=cfg.init_std,
            )
        )
    return PositionParts()  # none


def token_embedding(cfg: ModelConfig, vocab_size: int, pad_id: int) -> nn.Module:
    common = dict(
        padding_idx=pad_id,
        init=cfg.embedding_init,
        init_std=cfg.init_std,
        init_a=cfg.embedding_init_a,
        scale=math.sqrt(cfg.input_width) if cfg.embed_scale else 1.0,
    )
    if cfg.embedding_rank is not None:
        return FactorizedTokenEmbedding(vocab_size, cfg.embed_dim, cfg.embedding_rank, **common)
    return TokenEmbedding(
        vocab_size, cfg.input_width, row_freezing=cfg.freeze_embedding_rows == "pretrained", **common
    )


def embedding_norm(cfg: ModelConfig) -> nn.Module | None:
    if cfg.embedding_norm == "layernorm":
        return nn.LayerNorm(cfg.input_width, eps=cfg.norm_eps)
    if cfg.embedding_norm == "rmsnorm":
        return nn.RMSNorm(cfg.input_width, eps=cfg.norm_eps)
    return None


def input_layer(
    cfg: ModelConfig, parts: PositionParts, *, vocab_size: int, pad_id: int, lookahead: bool = True
) -> InputLayer:
    """``lookahead=False``: without the parts whose vector at position i reads the tokens after i (the
    character-pair table, the lexicon): a decoder's input, where the next token is the one to predict."""
    combine = None
    if parts.absolute is not None and cfg.positional.combine == "concat":
        combine = ConcatProjectPositions(cfg.input_width, cfg.positional.combine_activation)
        nn.init.normal_(combine.proj.weight, std=cfg.init_std)
        nn.init.zeros_(combine.proj.bias)
    return InputLayer(
        token_embedding(cfg, vocab_size, pad_id),
        parts.absolute,
        dropout=cfg.embedding_dropout,
        bigram_embedding=HashedBigramEmbedding(
            cfg.bigram_buckets, cfg.input_width, vocab_size=vocab_size, pad_id=pad_id
        )
        if cfg.bigram_buckets and lookahead
        else None,
        combine=combine,
        token_type_embedding=TokenTypeEmbedding(cfg.num_token_types, cfg.input_width, cfg.init_std)
        if cfg.num_token_types
        else None,
        norm=embedding_norm(cfg),
        projection=input_projection(cfg),
        lexicon_embedding=LexiconEmbedding(
            cfg.input_width, max_len=cfg.lexicon.max_len, group_names=cfg.lexicon.groups, pad_id=pad_id
        )
        if cfg.lexicon.enabled and lookahead
        else None,
    )


def input_projection(cfg: ModelConfig) -> nn.Module | None:
    """``model.input_dim``: ``Linear(input_dim -> embed_dim)``, normal(0, ``init_std``) weights, zero bias."""
    if cfg.input_dim is None:
        return None
    projection = nn.Linear(cfg.input_dim, cfg.embed_dim)
    nn.init.normal_(projection.weight, std=cfg.init_std)
    nn.init.zeros_(projection.bias)
    return projection


def rnn_hidden_dim(cfg: ModelConfig) -> int:
    if cfg.encoder.rnn_hidden_dim is not None:
        return cfg.encoder.rnn_hidden_dim
    return cfg.embed_dim // 2 if cfg.encoder.bidirectional else cfg.embed_dim


def encoder_output_dim(cfg: ModelConfig) -> int:
    """Width of the vectors the encoder hands to the head."""
    if cfg.encoder.kind in RECURRENT:
        return rnn_hidden_dim(cfg) * (2 if cfg.encoder.bidirectional else 1)
    return cfg.embed_dim


RECURRENT = {"rnn": RNNEncoder, "lstm": LSTMEncoder, "gru": GRUEncoder}


def encoder(cfg: ModelConfig, parts: PositionParts, *, causal: bool = False) -> nn.Module:
    """``model.encoder``: ``(b, s, d), padding_mask (b, s) -> (b, s, encoder_output_dim(cfg))``;
    ``causal``: each position attends to itself and the positions before it (a Transformer only)."""
    enc = cfg.encoder
    if enc.kind in RECURRENT:
        if causal:
            raise ValueError("a causal encoder is a Transformer (model.encoder.kind: transformer)")
        return RECURRENT[enc.kind](
            cfg.embed_dim,
            rnn_hidden_dim(cfg),
            enc.num_layers,
            bidirectional=enc.bidirectional,
            dropout=cfg.dropout,
        )
    return transformer_encoder(
        cfg.embed_dim,
        enc.num_layers,
        enc.num_heads,
        enc.ffn_dim,
        dropout=cfg.dropout,
        attention_dropout=enc.attention_dropout,
        norm_eps=cfg.norm_eps,
        rope=parts.rope,
        attention_bias=parts.attention_bias,
        norm_position=enc.norm_position,
        causal=causal,
        activation=enc.activation,
        unique_layers=enc.unique_layers,
    )
