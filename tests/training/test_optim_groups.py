"""Parameter groups: weight decay on matrices, the embedding tables in a group of their own."""

from __future__ import annotations

import pytest
import torch

from scratchlm.config import ModelConfig, RunConfig, TrainConfig, config_from_dict
from scratchlm.errors import ConfigError
from scratchlm.models.classifier import TextClassifier
from scratchlm.training.optim import parameter_groups


def _groups(**train):
    model = TextClassifier(
        ModelConfig(
            embed_dim=16, encoder={"num_heads": 2, "ffn_dim": 32, "num_layers": 1}, bigram_buckets=50
        ),
        vocab_size=30,
        num_classes=2,
        max_seq_len=8,
    )
    return model, {g["name"]: g for g in parameter_groups(model, TrainConfig(**train))}


def test_embedding_tables_have_their_own_decay_and_lr():
    model, groups = _groups(weight_decay=0.1, embedding_weight_decay=0.003, embedding_lr=0.5)
    tables = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.Embedding)}
    assert {id(p) for p in groups["embedding"]["params"]} == tables and len(tables) == 2  # tokens, pairs
    assert groups["embedding"]["weight_decay"] == 0.003 and groups["embedding"]["lr"] == 0.5
    assert groups["decay"]["weight_decay"] == 0.1 and all(p.ndim == 2 for p in groups["decay"]["params"])
    assert groups["no_decay"]["weight_decay"] == 0.0


def test_embedding_decay_defaults_to_zero():
    _, groups = _groups()
    assert groups["embedding"]["weight_decay"] == 0.0


def test_decay_shrinks_unused_rows_only_when_asked():
    model, _ = _groups(embedding_weight_decay=0.5, lr=0.1)
    from scratchlm.training.optim import build_optimizer

    opt = build_optimizer(model, TrainConfig(embedding_weight_decay=0.5, lr=0.1))
    row = model.token_embedding.weight[7].detach().clone()
    model(torch.tensor([[1, 2, 3]]), torch.ones(1, 3, dtype=torch.bool)).sum().backward()
    opt.step()
    torch.testing.assert_close(model.token_embedding.weight[7].detach(), row * (1 - 0.1 * 0.5))


def test_bad_values_are_config_errors():
    with pytest.raises(ConfigError, match="train.embedding_weight_decay=-1"):
        TrainConfig(embedding_weight_decay=-1)
    with pytest.raises(ConfigError, match="would shrink the rows"):
        config_from_dict(
            {
                "model": {"init": "glove-6b-50d", "freeze_embedding_rows": "pretrained"},
                "train": {"embedding_weight_decay": 0.01},
            }
        )
    assert isinstance(config_from_dict({"train": {"embedding_weight_decay": 0.01}}), RunConfig)
