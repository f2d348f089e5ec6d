"""AdamW with parameter groups: no weight decay on biases, norms and the padding-free embedding rows'
decay handled per group; a separate learning rate for the token embedding when asked."""

from __future__ import annotations

import torch
from torch import nn

from scratchlm.config import TrainConfig


def parameter_groups(model: nn.Module, cfg: TrainConfig) -> list[dict]:
    embed_params = set()
    token_embedding = getattr(model, "token_embedding", None)
    if token_embedding is not None:
        embed_params = {id(p) for p in token_embedding.parameters()}
    decay, no_decay, embed = [], [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if id(p) in embed_params:
            embed.append(p)
        elif p.ndim < 2 or "norm" in name:
            no_decay.append(p)
        else:
            decay.append(p)
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay, "name": "decay"},
        {"params": no_decay, "weight_decay": 0.0, "name": "no_decay"},
    ]
    if embed:
        groups.append({"params": embed, "weight_decay": 0.0, "name": "embedding",
                       "lr": cfg.embedding_lr if cfg.embedding_lr is not None else cfg.lr})
    return [g for g in groups if g["params"]]


def build_optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(parameter_groups(model, cfg), lr=cfg.lr, betas=tuple(cfg.betas))
