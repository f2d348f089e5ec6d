"""Building blocks with no task knowledge: one concept per file."""

from scratchlm.modules.attention import MultiHeadSelfAttention
from scratchlm.modules.embeddings import HashedBigramEmbedding, TokenEmbedding
from scratchlm.modules.feed_forward import FeedForward
from scratchlm.modules.heads import ClassificationHead, cls_pool, mean_pool
from scratchlm.modules.input_layer import InputLayer
from scratchlm.modules.positional import (
    LearnedPositionalEmbedding,
    NoPositionalEncoding,
    SinusoidalPositionalEncoding,
    sinusoidal_table,
)
from scratchlm.modules.transformer import TransformerEncoder, TransformerEncoderLayer, transformer_encoder

__all__ = [
    "ClassificationHead",
    "FeedForward",
    "HashedBigramEmbedding",
    "InputLayer",
    "LearnedPositionalEmbedding",
    "MultiHeadSelfAttention",
    "NoPositionalEncoding",
    "SinusoidalPositionalEncoding",
    "TokenEmbedding",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "cls_pool",
    "mean_pool",
    "sinusoidal_table",
    "transformer_encoder",
]
