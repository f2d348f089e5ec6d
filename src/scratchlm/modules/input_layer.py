"""The input layer: token vectors combined with position information, an optional norm, then dropout.

``ids (b, s) [, token_type_ids (b, s)] -> (b, s, d)``::

    x = TokenEmbedding(ids) [+ HashedBigramEmbedding(ids)] [+ LexiconEmbedding(ids)] [+ TokenTypeEmbedding(types)]
    x = combine(x, P[:s])          # P: an absolute positional module's (s, d) encodings, if any
    x = Dropout(Norm(x))           # Norm: LayerNorm, RMSNorm or none
    x = Projection(x)              # optional Linear(e -> d): an input layer narrower than the encoder

Parts are passed in (token embedding, positional module, combiner, norm), so a variant is a different
part, not a flag. Two combiners:

- :class:`AddPositions` — ``x + P`` (Vaswani et al. 2017; BERT).
- :class:`ConcatProjectPositions` — ``act(W [x; P] + c)`` with ``W (d, 2d)``: token and position vectors
  side by side, projected back to ``d`` (``act``: identity, GELU, tanh or ReLU). Taught in some tutorials and
  offered by no mainstream library; with ``W = [I, I]`` it is ``add``, so it can learn anything ``add``
  does, at the cost of ``2d^2 + d`` parameters.

With a ``projection`` the token, position and type vectors and the norm have their own width ``e``
(ELECTRA's and ALBERT's ``embedding_size``), and a ``Linear(e, d)`` lifts the result to the encoder's
width (``embeddings_project`` in ELECTRA, ``embedding_hidden_mapping_in`` in ALBERT).

Relative kinds (RoPE, ALiBi, T5 bias) have no vectors to combine: they act inside attention, and the
input layer then has no positional module.

On CUDA the plain layer (token [+ type] + position vectors added, LayerNorm or no norm) runs as one
compiled region (:mod:`scratchlm.modules.fused_input`); ``fused`` chooses: ``"auto"`` (CUDA only),
``"off"`` (always the modules), ``"on"`` (wherever the parts allow it, CPU included).
"""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS = {"none": nn.Identity, "gelu": nn.GELU, "tanh": nn.Tanh, "relu": nn.ReLU}


class AddPositions(nn.Module):
    """``x (b, s, d), P (s, d) -> x + P``."""

    def forward(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        return x + positions.to(x.dtype)  # (b, s, d) + (s, d)


class ConcatProjectPositions(nn.Module):
    """``x (b, s, d), P (s, d) -> act(Linear(2d -> d)([x; P])) (b, s, d)``."""

    def __init__(self, embed_dim: int, activation: str = "none"):
        super().__init__()
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; valid: {', '.join(ACTIVATIONS)}")
        self.proj = nn.Linear(2 * embed_dim, embed_dim)
        self.activation = ACTIVATIONS[activation]()

    def forward(self, x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        b, s, _ = x.shape
        p = positions.to(x.dtype).expand(b, s, -1)  # (b, s, d)
        return self.activation(self.proj(torch.cat((x, p), dim=-1)))  # (b, s, 2d) -> (b, s, d)


class InputLayer(nn.Module):
    def __init__(
        self,
        token_embedding: nn.Module,
        positional: nn.Module | None = None,
        dropout: float = 0.0,
        bigram_embedding: nn.Module | None = None,
        *,
        combine: nn.Module | None = None,
        token_type_embedding: nn.Module | None = None,
        norm: nn.Module | None = None,
        projection: nn.Module | None = None,
        lexicon_embedding: nn.Module | None = None,
    ):
        """``positional``: a module with ``encodings(seq_len) -> (s, d)`` (:mod:`scratchlm.modules.positional`),
        or None; ``combine`` defaults to :class:`AddPositions`."""
        super().__init__()
        self.token_embedding = token_embedding
        self.bigram_embedding = bigram_embedding
        self.lexicon_embedding = lexicon_embedding
        self.token_type_embedding = token_type_embedding
        if positional is not None and not hasattr(positional, "encodings"):
            positional = None  # NoPositionalEncoding: nothing to combine
        self.positional = positional
        self.combine = (combine or AddPositions()) if positional is not None else None
        self.norm = norm
        self.dropout = nn.Dropout(dropout)
        self.projection = projection
        self.fused = "auto"

    def can_fuse(self) -> bool:
        """Whether the parts are the ones :func:`~scratchlm.modules.fused_input.embed_add_norm` covers."""
        from scratchlm.modules.embeddings import TokenEmbedding, TokenTypeEmbedding

        tok = self.token_embedding
        return (
            type(tok) is TokenEmbedding
            and tok.frozen_rows is None
            and self.bigram_embedding is None
            and self.lexicon_embedding is None
            and (self.token_type_embedding is None or type(self.token_type_embedding) is TokenTypeEmbedding)
            and (self.positional is None or type(self.combine) is AddPositions)
            and (self.norm is None or type(self.norm) is nn.LayerNorm)
        )

    def _use_fused(self, ids: torch.Tensor) -> bool:
        if self.fused == "off" or (self.fused == "auto" and not ids.is_cuda):
            return False
        if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export() or torch.compiler.is_compiling():
            return False  # exporting, or inside a compiled model already: plain modules
        return self.can_fuse()

    def _fused_forward(self, ids: torch.Tensor, token_type_ids: torch.Tensor | None) -> torch.Tensor:
        from scratchlm.modules.fused_input import fused_embed_add_norm

        tok = self.token_embedding
        types = self.token_type_embedding
        if types is not None and token_type_ids is None:
            token_type_ids = torch.zeros_like(ids)
        norm = self.norm
        return fused_embed_add_norm(
            ids,
            tok.embedding.weight,
            self.positional.encodings(ids.shape[1]) if self.positional is not None else None,
            token_type_ids if types is not None else None,
            types.embedding.weight if types is not None else None,
            norm.weight if norm is not None else None,
            norm.bias if norm is not None else None,
            padding_idx=tok.padding_idx,
            scale=float(tok.scale),
            eps=norm.eps if norm is not None else 0.0,
            normalize=norm is not None,
            dropout=self.dropout.p,
            training=self.training,
        )

    def _encodings(self, seq_len: int, positions: torch.Tensor | None) -> torch.Tensor:
        """The position vectors ``(s, d)``, or ``(b, s, d)`` for per-row positions."""
        if positions is None:
            return self.positional.encodings(seq_len)
        return self.positional.encodings(int(positions.max()) + 1)[positions]

    def forward(
        self,
        ids: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        positions: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``positions (s,)`` or ``(b, s)``: the position of each token (default ``0 .. s-1``): a decoding
        step's new token, or left-padded prompts whose first real token is position 0."""
        if positions is None and self._use_fused(ids):
            x = self._fused_forward(ids, token_type_ids)  # (b, s, e)
        else:
            x = self._plain_forward(ids, token_type_ids, positions)  # (b, s, e)
        return x if self.projection is None else self.projection(x)  # (b, s, d)

    def _plain_forward(
        self, ids: torch.Tensor, token_type_ids: torch.Tensor | None, positions: torch.Tensor | None = None
    ) -> torch.Tensor:
        x = self.token_embedding(ids)  # (b, s, d)
        if self.bigram_embedding is not None:
            x = x + self.bigram_embedding(ids)  # (b, s, d)
        if self.lexicon_embedding is not None:
            x = x + self.lexicon_embedding(ids)  # (b, s, d)
        if self.token_type_embedding is not None:
            if token_type_ids is None:
                token_type_ids = torch.zeros_like(ids)  # one segment: type 0 everywhere
            x = x + self.token_type_embedding(token_type_ids)  # (b, s, d)
        if self.positional is not None:
            x = self.combine(x, self._encodings(ids.shape[1], positions))  # (b, s, d)
        if self.norm is not None:
            x = self.norm(x)
        return self.dropout(x)
