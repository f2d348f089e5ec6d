"""A model's positional part as a matrix to draw (``scratchlm plot pe`` and the TensorBoard logger's
figure): the position vectors, RoPE's rotation of a unit vector, or head 0's attention bias."""

from __future__ import annotations

from pathlib import Path

BIAS_KINDS = ("alibi", "t5_bias")


def positional_module(model, kind: str):
    """The module of ``model`` that holds its ``model.positional.kind`` (``None`` for ``none``)."""
    if kind == "rope":
        return model.encoder.layers[0].attention.pos_embeddings
    if kind in BIAS_KINDS:
        return model.encoder.attention_bias
    return getattr(model.input, "positional", None)


def positional_matrix(kind: str, module, length: int, dim: int):
    """``(matrix, what)``: the ``(N, D)`` or ``(N, N)`` matrix to plot, and a sentence saying what it is
    (learned positions past the trained length: ``ValueError``)."""
    import torch

    with torch.no_grad():
        if kind == "none" or module is None:
            return torch.zeros(length, dim), "no position information (all zero)"
        if kind == "rope":
            d = module.head_dim
            unit = torch.full((1, 1, length, d), d**-0.5)  # (b, h, s, hd): the same unit vector everywhere
            return module(unit)[
                0, 0
            ], f"RoPE applied to the unit vector (1, ..., 1)/sqrt({d}) at each position"
        if kind in BIAS_KINDS:
            return module(length)[0], "attention bias (query x key) of head 0"
        return module.encodings(length), "position vectors (position x dimension)"


def module_dim(kind: str, module) -> int:
    """The width of the matrix a run's module gives (as ``plot pe --run`` reads it)."""
    if kind == "learned":
        return module.weight.shape[1]
    return getattr(module, "embed_dim", None) or getattr(module, "head_dim", None) or 1


def draw_run_positional(model, cfg, out: Path, length: int = 64) -> bool:
    """Draw the positional encoding of a trained ``model`` (run config ``cfg``) into ``out``; ``False``
    when the model has none to draw (no ``input``/``encoder`` of the usual shape)."""
    from scratchlm.viz.plots import positional_encoding

    kind = cfg.model.positional.kind
    if not hasattr(model, "input") or (kind != "none" and not hasattr(model, "encoder")):
        return False
    module = positional_module(model, kind)
    length = min(length, cfg.data.max_seq_len)
    matrix, what = positional_matrix(kind, module, length, module_dim(kind, module) if module else 1)
    positional_encoding(
        matrix.detach().float().cpu().numpy(), out, kind=kind, what=what, bias=kind in BIAS_KINDS
    )
    return True
