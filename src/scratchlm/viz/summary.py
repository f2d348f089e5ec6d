"""Keras-style model summary: layer, output shape, parameters, totals (from a real forward pass).

Every row counts the parameters of the module and everything inside it; rows are indented by depth
(container lists such as ``encoder.layers`` are skipped, their items shown). ``Total params`` is the
model's own count, so the table never double-counts. A module with a ``summary_note()`` method adds a
line under the totals (a factorized embedding shows the parameters it saves).
"""

from __future__ import annotations

import torch
from torch import nn


def _depth(name: str) -> int:
    # "encoder.layers.0" is depth 2: list indices do not add a level
    return sum(1 for part in name.split(".") if not part.isdigit())


def summarize(model: nn.Module, example_ids: torch.Tensor, *, max_depth: int = 2) -> str:
    shapes: dict[str, str] = {}
    names = {m: n for n, m in model.named_modules()}

    def hook(module, _inputs, output):
        if torch.is_tensor(output):
            shapes[names[module]] = str(tuple(output.shape))

    hooks = [m.register_forward_hook(hook) for m in model.modules() if m is not model]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(example_ids)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    rows = []
    for name, module in model.named_modules():
        if not name or isinstance(module, (nn.ModuleList, nn.ModuleDict)) or _depth(name) > max_depth:
            continue
        params = sum(p.numel() for p in module.parameters())
        label = "  " * (_depth(name) - 1) + f"{name} ({type(module).__name__})"
        rows.append((label, shapes.get(name, "-"), params))
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    w1 = max(len(r[0]) for r in rows) + 2
    w2 = max(14, max(len(r[1]) for r in rows) + 2)
    rule = "-" * (w1 + w2 + 14)
    lines = [rule, f"{'Layer (type)':<{w1}}{'Output shape':<{w2}}{'Param #':>14}", "=" * len(rule)]
    lines += [f"{label:<{w1}}{shape:<{w2}}{params:>14,}" for label, shape, params in rows]
    lines += [
        "=" * len(rule),
        f"Total params: {total:,}",
        f"Trainable params: {trainable:,}",
        f"Non-trainable params: {total - trainable:,}",
        f"Output: {tuple(out.shape)} for input {tuple(example_ids.shape)}",
    ]
    # modules with something to say about their own size (e.g. a factorized embedding's saving)
    lines += [
        f"{name}: {module.summary_note()}"
        for name, module in model.named_modules()
        if callable(getattr(module, "summary_note", None))
    ]
    return "\n".join([*lines, rule])
