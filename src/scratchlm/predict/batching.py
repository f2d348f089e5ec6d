"""The one batched prediction path: length grouping, padding, eval mode, no autograd, autocast.

Every batched forward pass over token id sequences goes through :func:`map_batches`: the sequences
are sorted by length and cut into groups (:func:`forward_groups`), each group is right-padded into
``ids`` and ``mask`` (``(b, s)``, the mask True at real tokens) and handed to a ``step``, and the
step's rows come back in the input order. :func:`run_model` runs it for a PyTorch model inside
:func:`inference` (eval mode, restored afterwards; no autograd; autocast when the caller asks), with
each batch moved to ``device``. The export checks hand :func:`map_batches` an onnxruntime session's
step, so the graph sees exactly the batches PyTorch sees.

Built on it here: class logits (:func:`predict_logits`) and the metrics of a classifier
a tagger's decoded tag ids (:func:`decode_tags`); texts of a run are
classified and embedded in :mod:`scratchlm.predict.classify` and :mod:`scratchlm.predict.embed`.
Pure functions, no I/O.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

from scratchlm.data.collate import pad_batch
from scratchlm.errors import ConfigError

PRECISIONS: dict[str, torch.dtype | None] = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
"""Autocast dtypes by the names ``train.precision`` uses; ``fp32``: no autocast."""

Step = Callable[[torch.Tensor, torch.Tensor], Sequence[Any]]
"""``step(ids, mask) -> one result per row``, for ``ids``/``mask`` of shape ``(b, s)``."""


def forward_groups(
    lengths: Sequence[int], batch_size: int, max_padding: float | None = None
) -> list[list[int]]:
    """Indices of the sequences that go through the model together, sorted by length.

    Without ``max_padding``: consecutive runs of ``batch_size``. With it, a group also closes when
    adding the next (longer) sequence would make the padded tokens exceed ``(1 + max_padding)``
    times the real ones. On a CPU a batch saves little per token, and padding costs in full: one
    padded pass over 32 reviews of mixed length took 2.4x as long as passes over groups of similar
    length (docs/serving.md, "Load test").
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    if max_padding is None:
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    groups: list[list[int]] = []
    group: list[int] = []
    real = 0
    for i in order:
        n = lengths[i]
        if group and (len(group) == batch_size or n * (len(group) + 1) > (1 + max_padding) * (real + n)):
            groups.append(group)
            group, real = [], 0
        group.append(i)
        real += n
    if group:
        groups.append(group)
    return groups


def map_batches(
    seqs: Sequence[list[int]],
    pad_id: int,
    step: Step,
    *,
    batch_size: int = 128,
    max_padding: float | None = None,
    skip_empty: bool = False,
) -> list:
    """``step(ids, mask)`` on the padded batch of each group :func:`forward_groups` forms; one result
    per sequence, in the input order. ``skip_empty``: empty sequences are not run, their result is
    ``None``."""
    rows = [i for i, s in enumerate(seqs) if s] if skip_empty else list(range(len(seqs)))
    out: list = [None] * len(seqs)
    for group in forward_groups([len(seqs[i]) for i in rows], batch_size, max_padding):
        index = [rows[j] for j in group]
        ids, mask = pad_batch([seqs[i] for i in index], pad_id)
        for i, value in zip(index, step(ids, mask), strict=True):
            out[i] = value
    return out


def autocast_dtype(precision: str, device: str) -> torch.dtype | None:
    """The autocast dtype for ``precision`` on ``device``; a clear error for a name or pair that does not
    exist (fp16 needs CUDA, as in training)."""
    if precision not in PRECISIONS:
        raise ConfigError(f"precision {precision!r}: use one of {', '.join(PRECISIONS)}")
    if precision == "fp16" and not device.startswith("cuda"):
        raise ConfigError(f"precision fp16 needs a CUDA device (got {device!r}); use bf16 on CPU")
    return PRECISIONS[precision]


@contextlib.contextmanager
def inference(model: torch.nn.Module, device: str = "cpu", precision: str = "fp32") -> Iterator[None]:
    """``model`` in eval mode without autograd, under autocast for ``bf16``/``fp16``; the caller's
    train/eval mode is restored afterwards, also after an error."""
    dtype = autocast_dtype(precision, device)
    # fp32 enters no autocast context at all: a disabled one would switch off the caller's autocast
    cast = (
        torch.autocast(device.split(":")[0], dtype=dtype) if dtype is not None else contextlib.nullcontext()
    )
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), cast:
            yield
    finally:
        model.train(was_training)


def run_model(
    model: torch.nn.Module,
    seqs: Sequence[list[int]],
    pad_id: int,
    step: Step,
    *,
    batch_size: int = 128,
    max_padding: float | None = None,
    device: str = "cpu",
    precision: str = "fp32",
    skip_empty: bool = False,
) -> list:
    """:func:`map_batches` with ``model`` under :func:`inference` and each batch on ``device``."""
    with inference(model, device, precision):
        return map_batches(
            seqs,
            pad_id,
            lambda ids, mask: step(ids.to(device), mask.to(device)),
            batch_size=batch_size,
            max_padding=max_padding,
            skip_empty=skip_empty,
        )


def predict_logits(
    model: torch.nn.Module,
    seqs: Sequence[list[int]],
    pad_id: int,
    batch_size: int = 128,
    device: str = "cpu",
    *,
    max_padding: float | None = None,
    precision: str = "fp32",
) -> torch.Tensor:
    """A classifier's logits ``(n, C)`` (float32, on the CPU) in the input order; ``(0, 0)`` for no
    sequences."""
    rows = run_model(
        model,
        seqs,
        pad_id,
        lambda ids, mask: model(ids, mask).float().cpu(),  # (b, C)
        batch_size=batch_size,
        max_padding=max_padding,
        device=device,
        precision=precision,
    )
    return torch.stack(rows) if rows else torch.zeros(0, 0)


def decode_tags(
    model: torch.nn.Module,
    seqs: Sequence[list[int]],
    pad_id: int,
    batch_size: int = 128,
    device: str = "cpu",
    *,
    max_padding: float | None = None,
    precision: str = "fp32",
) -> list[list[int]]:
    """A tagger's predicted tag ids for each sequence (``model.decode``), in the input order. An empty
    sequence gets no tags."""

    def step(ids: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        tags = model.decode(ids, mask).cpu().tolist()  # (b, s)
        return [row[:n] for row, n in zip(tags, mask.sum(-1).tolist(), strict=True)]

    out = run_model(
        model,
        seqs,
        pad_id,
        step,
        batch_size=batch_size,
        max_padding=max_padding,
        device=device,
        precision=precision,
        skip_empty=True,
    )
    return [[] if tags is None else tags for tags in out]
