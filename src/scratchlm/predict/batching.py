"""Batched prediction and evaluation with a model and its tokenizer (pure functions, no I/O): class logits
and metrics for classifiers, decoded tag ids for taggers (:mod:`scratchlm.tasks.tagging_units` reads them)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from scratchlm.data.collate import batch_order, pad_batch
from scratchlm.tasks.metrics import classification_metrics


@torch.no_grad()
def predict_logits(
    model: torch.nn.Module, seqs: Sequence[list[int]], pad_id: int, batch_size: int = 128, device: str = "cpu"
) -> torch.Tensor:
    """Logits ``(n, C)`` in the input order; batches are formed by length to save padding."""
    was_training = model.training
    model.eval()
    out: list[torch.Tensor | None] = [None] * len(seqs)
    for index in batch_order([len(s) for s in seqs], batch_size, shuffle=False):
        ids, mask = pad_batch([seqs[i] for i in index], pad_id)
        logits = model(ids.to(device), mask.to(device)).float().cpu()
        for row, i in enumerate(index):
            out[i] = logits[row]
    model.train(was_training)
    return torch.stack(out) if out else torch.zeros(0, 0)


def evaluate_ids(
    model: torch.nn.Module,
    seqs: Sequence[list[int]],
    labels: Sequence[int],
    label_names: list[str],
    pad_id: int,
    batch_size: int = 128,
    device: str = "cpu",
) -> dict:
    logits = predict_logits(model, seqs, pad_id, batch_size, device)
    preds = logits.argmax(-1).tolist() if len(seqs) else []
    return classification_metrics(list(labels), preds, label_names)


@torch.no_grad()
def decode_tags(
    model: torch.nn.Module, seqs: Sequence[list[int]], pad_id: int, batch_size: int = 128, device: str = "cpu"
) -> list[list[int]]:
    """A tagger's predicted tag ids for each sequence (``model.decode``), in the input order; batches are
    formed by length. An empty sequence gets no tags."""
    was_training = model.training
    model.eval()
    out: list[list[int]] = [[] for _ in seqs]
    nonempty = [i for i, s in enumerate(seqs) if s]
    for index in batch_order([len(seqs[i]) for i in nonempty], batch_size, shuffle=False):
        rows = [nonempty[j] for j in index]
        ids, mask = pad_batch([seqs[i] for i in rows], pad_id)
        tags = model.decode(ids.to(device), mask.to(device)).cpu().tolist()
        for row, i in enumerate(rows):
            out[i] = tags[row][: len(seqs[i])]
    model.train(was_training)
    return out
