"""A fused input-layer path: token + position [+ token type] vectors, LayerNorm and dropout in one
compiled region.

The eager input layer runs one kernel per step (a gather per table, an add per sum, LayerNorm,
dropout) and writes a ``(b, s, d)`` intermediate to memory at each; it is memory-bound, so its time is
the bytes it moves. :func:`embed_add_norm` is the same computation written as one function of tensors,
and :func:`fused_embed_add_norm` is that function under ``torch.compile``: Inductor generates one kernel
that gathers the rows, adds, normalises and drops out with the intermediates kept in registers, and a
backward that reads the output gradient once. HF ``BertEmbeddings`` is the eager pattern.

:class:`~scratchlm.modules.input_layer.InputLayer` takes this path by itself on CUDA (``fused="auto"``)
when its parts are the plain ones the function covers (see :meth:`InputLayer.can_fuse`); anything else
(character pairs, concat, frozen rows, RMSNorm, ONNX export) keeps the eager modules, which are the
reference: ``tests/modules/test_fused_input.py`` checks the two agree, forward and backward.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def embed_add_norm(
    ids: torch.Tensor,
    token_weight: torch.Tensor,
    positions: torch.Tensor | None,
    type_ids: torch.Tensor | None,
    type_weight: torch.Tensor | None,
    norm_weight: torch.Tensor | None,
    norm_bias: torch.Tensor | None,
    *,
    padding_idx: int | None,
    scale: float,
    eps: float,
    normalize: bool,
    dropout: float,
    training: bool,
) -> torch.Tensor:
    """``ids (b, s) -> (b, s, d)``: ``Dropout(LN(scale * E[ids] + P[:s] + T[types]))``, each part optional.

    ``positions``: the ``(s, d)`` encodings of the positional module (learned rows, a sinusoidal table);
    ``padding_idx``: the row that gets no gradient, as ``nn.Embedding(padding_idx=...)``."""
    x = F.embedding(ids, token_weight, padding_idx=padding_idx)  # (b, s, d)
    if scale != 1.0:
        x = x * scale
    if type_weight is not None:
        x = x + F.embedding(type_ids, type_weight)  # (b, s, d)
    if positions is not None:
        x = x + positions.to(x.dtype)  # (b, s, d) + (s, d)
    if normalize:
        x = F.layer_norm(x, (x.shape[-1],), norm_weight, norm_bias, eps)
    return F.dropout(x, dropout, training)


_COMPILED: dict[str, object] = {}


def fused_embed_add_norm(*args, backend: str = "inductor", **kwargs) -> torch.Tensor:
    """:func:`embed_add_norm` compiled (once per backend; shapes are dynamic, so new batch and sequence
    sizes do not recompile after the first change)."""
    fn = _COMPILED.get(backend)
    if fn is None:
        fn = _COMPILED[backend] = torch.compile(embed_add_norm, backend=backend, dynamic=None)
    return fn(*args, **kwargs)
