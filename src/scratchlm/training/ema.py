"""Exponential moving average of the weights (Polyak averaging), used for evaluation and the saved model.

``shadow <- decay * shadow + (1 - decay) * weights`` after every optimizer step. On small, noisy data
the averaged weights score higher and more steadily on dev than the last step's weights, so the
best-on-dev choice is less a matter of luck. Buffers (e.g. positional tables) are not averaged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


class EMA:
    def __init__(self, model: nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.shadow = {name: p.detach().clone() for name, p in model.named_parameters() if p.requires_grad}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        names = list(self.shadow)
        params = dict(model.named_parameters())
        torch._foreach_lerp_(
            [self.shadow[n] for n in names], [params[n].detach() for n in names], 1.0 - self.decay
        )

    @contextmanager
    def applied(self, model: nn.Module) -> Iterator[None]:
        """Run a block with the averaged weights in the model, then put the training weights back."""
        params = dict(model.named_parameters())
        backup = {n: params[n].detach().clone() for n in self.shadow}
        with torch.no_grad():
            for n, value in self.shadow.items():
                params[n].copy_(value)
        try:
            yield
        finally:
            with torch.no_grad():
                for n, value in backup.items():
                    params[n].copy_(value)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return dict(self.shadow)

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        missing = set(self.shadow) - set(state)
        if missing:
            raise ValueError(f"EMA state lacks {sorted(missing)[:3]}")
        for n in self.shadow:
            self.shadow[n].copy_(state[n])
