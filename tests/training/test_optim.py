"""AdamW's parameter groups: weight decay on matrices only, the embedding tables in a group of their own
(own learning rate and decay), frozen parameters left out, layer-wise learning-rate decay; SGD on the same
groups, its steps against the update rule by hand."""

from __future__ import annotations

import torch
from torch import nn

from scratchlm.config import ModelConfig, TrainConfig
from scratchlm.models import TextClassifier
from scratchlm.training.optim import build_optimizer, parameter_groups


def _tiny_model(**kw):
    cfg = ModelConfig(embed_dim=8, encoder={"num_layers": 1, "num_heads": 2, "ffn_dim": 16}, **kw)
    return TextClassifier(cfg, vocab_size=30, num_classes=2, max_seq_len=16)


def _groups_by_name(groups):
    return {g["name"]: g for g in groups}


def test_parameter_groups_split_embeddings_no_decay_and_decay():
    model = _tiny_model(bigram_buckets=50)
    cfg = TrainConfig(weight_decay=0.05, lr=1e-3)
    groups = _groups_by_name(parameter_groups(model, cfg))
    names = {id(p): n for n, p in model.named_parameters()}
    got = {g: {names[id(p)] for p in groups[g]["params"]} for g in groups}

    embeddings = {n for n, m in model.named_modules() if isinstance(m, nn.Embedding)}
    assert got["embedding"] == {f"{n}.weight" for n in embeddings}
    assert "input.token_embedding.embedding.weight" in got["embedding"]
    assert "input.bigram_embedding.embedding.weight" in got["embedding"]
    assert id(model.token_embedding.weight) in {id(p) for p in groups["embedding"]["params"]}
    assert groups["embedding"]["weight_decay"] == 0.0 and groups["embedding"]["lr"] == 1e-3

    assert groups["no_decay"]["weight_decay"] == 0.0
    for n in got["no_decay"]:
        assert n.endswith(".bias") or "norm" in n, n
    assert "encoder.norm.weight" in got["no_decay"]
    assert "encoder.layers.0.attention.qkv.bias" in got["no_decay"]
    assert all(p.ndim == 1 for p in groups["no_decay"]["params"])

    assert groups["decay"]["weight_decay"] == 0.05
    for n in got["decay"]:
        assert n.endswith(".weight") and "norm" not in n, n
        assert dict(model.named_parameters())[n].ndim == 2
    assert {"encoder.layers.0.attention.qkv.weight", "head.proj.weight"} <= got["decay"]

    # every trainable parameter in exactly one group
    all_ids = [id(p) for g in groups.values() for p in g["params"]]
    assert len(all_ids) == len(set(all_ids)) == sum(1 for p in model.parameters() if p.requires_grad)


def test_embedding_lr_and_frozen_parameters():
    model = _tiny_model()
    model.input.token_embedding.embedding.weight.requires_grad_(False)
    groups = _groups_by_name(parameter_groups(model, TrainConfig(lr=1e-3)))
    assert "embedding" not in groups  # the only embedding is frozen, and empty groups are dropped
    model.input.token_embedding.embedding.weight.requires_grad_(True)
    groups = _groups_by_name(parameter_groups(model, TrainConfig(lr=1e-3, embedding_lr=5e-3)))
    assert groups["embedding"]["lr"] == 5e-3
    opt = build_optimizer(model, TrainConfig(lr=1e-3, embedding_lr=5e-3, betas=(0.8, 0.9)))
    lrs = {g["name"]: g["lr"] for g in opt.param_groups}
    assert lrs == {"decay": 1e-3, "no_decay": 1e-3, "embedding": 5e-3}
    assert tuple(opt.param_groups[0]["betas"]) == (0.8, 0.9)


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
    opt = build_optimizer(model, TrainConfig(embedding_weight_decay=0.5, lr=0.1))
    row = model.token_embedding.weight[7].detach().clone()
    model(torch.tensor([[1, 2, 3]]), torch.ones(1, 3, dtype=torch.bool)).sum().backward()
    opt.step()
    torch.testing.assert_close(model.token_embedding.weight[7].detach(), row * (1 - 0.1 * 0.5))


def test_layer_lr_decay_groups():
    model = TextClassifier(
        ModelConfig(embed_dim=16, encoder={"num_heads": 2, "ffn_dim": 32, "num_layers": 2}),
        vocab_size=30,
        num_classes=2,
        max_seq_len=8,
    )
    groups = parameter_groups(model, TrainConfig(lr=1.0, layer_lr_decay=0.5))
    lr_of = {id(p): g["lr"] for g in groups for p in g["params"]}
    named = dict(model.named_parameters())
    assert lr_of[id(named["head.proj.weight"])] == 1.0
    assert lr_of[id(named["encoder.layers.1.attention.qkv.weight"])] == 0.5
    assert lr_of[id(named["encoder.layers.0.attention.qkv.weight"])] == 0.25
    assert lr_of[id(named["input.token_embedding.embedding.weight"])] == 0.125
    assert len(lr_of) == len(named)


def test_sgd_steps_follow_the_update_rule():
    """``train.optimizer: sgd``: ``v <- momentum v + g + wd theta`` (decay on the decay group only),
    ``theta <- theta - lr v``; with momentum 0, plain ``theta - lr g``."""
    torch.manual_seed(0)
    model = _tiny_model()
    cfg = TrainConfig(optimizer="sgd", lr=0.1, momentum=0.5, weight_decay=0.01)
    opt = build_optimizer(model, cfg)
    assert isinstance(opt, torch.optim.SGD)
    assert [g["name"] for g in opt.param_groups] == [g["name"] for g in parameter_groups(model, cfg)]
    decayed = {id(p) for g in opt.param_groups if g["weight_decay"] for p in g["params"]}
    ids = torch.randint(5, 30, (4, 6))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    velocity = {}
    for step in range(2):
        opt.zero_grad()
        model(ids).logsumexp(-1).mean().backward()
        grads = {n: p.grad.clone() for n, p in model.named_parameters()}
        opt.step()
        for n, p in model.named_parameters():
            g = grads[n] + (0.01 * before[n] if id(p) in decayed else 0.0)
            velocity[n] = g if step == 0 else 0.5 * velocity[n] + g
            before[n] = before[n] - 0.1 * velocity[n]
            torch.testing.assert_close(p.detach(), before[n], atol=1e-6, rtol=1e-5)
