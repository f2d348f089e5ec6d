"""Building blocks with no task knowledge: one concept per file."""

from scratchlm.modules.attention import MultiHeadSelfAttention, additive_attention_mask
from scratchlm.modules.attention_bias import ALiBiBias, T5RelativePositionBias, alibi_slopes
from scratchlm.modules.embeddings import (
    FactorizedTokenEmbedding,
    HashedBigramEmbedding,
    TokenEmbedding,
    TokenTypeEmbedding,
    init_embedding_,
)
from scratchlm.modules.feed_forward import FeedForward
from scratchlm.modules.heads import ClassificationHead, cls_pool, mean_pool
from scratchlm.modules.input_layer import AddPositions, ConcatProjectPositions, InputLayer
from scratchlm.modules.positional import (
    LearnedPositionalEmbedding,
    NoPositionalEncoding,
    ScaledSinusoidalPositionalEncoding,
    SinusoidalPositionalEncoding,
    sinusoidal_table,
)
from scratchlm.modules.rotary import RotaryEmbedding
from scratchlm.modules.transformer import TransformerEncoder, TransformerEncoderLayer, transformer_encoder

__all__ = [
    "ALiBiBias",
    "AddPositions",
    "ClassificationHead",
    "ConcatProjectPositions",
    "FactorizedTokenEmbedding",
    "FeedForward",
    "HashedBigramEmbedding",
    "InputLayer",
    "LearnedPositionalEmbedding",
    "MultiHeadSelfAttention",
    "NoPositionalEncoding",
    "RotaryEmbedding",
    "ScaledSinusoidalPositionalEncoding",
    "SinusoidalPositionalEncoding",
    "T5RelativePositionBias",
    "TokenEmbedding",
    "TokenTypeEmbedding",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "additive_attention_mask",
    "alibi_slopes",
    "cls_pool",
    "init_embedding_",
    "mean_pool",
    "sinusoidal_table",
    "transformer_encoder",
]
