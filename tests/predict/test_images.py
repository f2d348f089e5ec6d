"""Batched image prediction: logits in input order whatever the batch size; labelled results."""

from __future__ import annotations

import torch

from scratchlm.predict.images import image_logits, labelled


def test_logits_in_order_for_any_batch_size():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
    x = [torch.randn(1, 2, 2) for _ in range(7)]
    a, b = image_logits(model, x, 2), image_logits(model, x, 7)
    assert a.shape == (7, 3) and torch.allclose(a, b, atol=1e-6) and model.training
    assert image_logits(model, []).shape == (0, 0)


def test_labelled():
    [r] = labelled(torch.tensor([[0.0, 2.0]]), ["a", "b"])
    assert (
        r["label"] == "b" and abs(sum(r["probabilities"].values()) - 1) < 1e-5 and r["logits"] == [0.0, 2.0]
    )
