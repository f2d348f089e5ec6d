"""Metrics against scikit-learn, schedules, parameter groups, EMA, checkpoints without pickle."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from scratchlm.config import ModelConfig, TrainConfig
from scratchlm.models import TextClassifier
from scratchlm.tasks.metrics import classification_metrics
from scratchlm.training import checkpoint as ckpt
from scratchlm.training.ema import EMA
from scratchlm.training.optim import build_optimizer, parameter_groups
from scratchlm.training.schedule import build_scheduler, lr_lambda


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    y, p = rng.integers(0, 3, 200), rng.integers(0, 3, 200)
    m = classification_metrics(y.tolist(), p.tolist(), ["a", "b", "c"])
    pr, rc, f1, sup = precision_recall_fscore_support(y, p, labels=[0, 1, 2], zero_division=0)
    assert m["accuracy"] == pytest.approx(accuracy_score(y, p))
    assert m["macro_f1"] == pytest.approx(f1_score(y, p, average="macro", zero_division=0))
    for i, label in enumerate("abc"):
        assert m["per_class"][label]["precision"] == pytest.approx(pr[i])
        assert m["per_class"][label]["recall"] == pytest.approx(rc[i])
        assert m["per_class"][label]["f1"] == pytest.approx(f1[i])
        assert m["per_class"][label]["support"] == sup[i]
    assert m["confusion_matrix"] == confusion_matrix(y, p, labels=[0, 1, 2]).tolist()


def test_metrics_by_hand():
    # true: 0 0 1 1 1, pred: 0 1 1 1 0 -> class 1: P=2/3, R=2/3; class 0: P=1/2, R=1/2
    m = classification_metrics([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], ["neg", "pos"])
    assert m["accuracy"] == pytest.approx(0.6)
    assert m["per_class"]["pos"]["f1"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((0.5 + 2 / 3) / 2)
    assert m["confusion_matrix"] == [[1, 1], [1, 2]]


def test_schedule_values():
    kw = {"total_steps": 110, "warmup_steps": 10}
    assert lr_lambda(0, kind="linear", **kw) == pytest.approx(0.1)
    assert lr_lambda(9, kind="linear", **kw) == pytest.approx(1.0)
    assert lr_lambda(60, kind="linear", **kw) == pytest.approx(0.5)
    assert lr_lambda(60, kind="cosine", **kw) == pytest.approx(0.5)
    assert lr_lambda(110, kind="cosine", **kw) == pytest.approx(0.0, abs=1e-12)
    assert lr_lambda(80, kind="constant", **kw) == 1.0


def _tiny():
    return TextClassifier(
        ModelConfig(embed_dim=8, encoder={"num_layers": 1, "num_heads": 2, "ffn_dim": 16}, bigram_buckets=50),
        vocab_size=30,
        num_classes=2,
        max_seq_len=8,
    )


def test_parameter_groups():
    model = _tiny()
    groups = {g["name"]: g for g in parameter_groups(model, TrainConfig(embedding_lr=1e-4))}
    emb = {id(p) for p in groups["embedding"]["params"]}
    assert (
        id(model.token_embedding.weight) in emb and id(model.input.bigram_embedding.embedding.weight) in emb
    )
    assert groups["embedding"]["weight_decay"] == 0 and groups["embedding"]["lr"] == 1e-4
    assert all(p.ndim == 2 for p in groups["decay"]["params"])
    assert all(p.ndim == 1 for p in groups["no_decay"]["params"])


def test_ema_update_and_swap():
    model = _tiny()
    ema = EMA(model, 0.9)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    ema.update(model)
    for n, p in model.named_parameters():
        torch.testing.assert_close(ema.shadow[n], 0.9 * before[n] + 0.1 * p.detach())
    current = {n: p.detach().clone() for n, p in model.named_parameters()}
    with ema.applied(model):
        torch.testing.assert_close(
            dict(model.named_parameters())["head.proj.weight"], ema.shadow["head.proj.weight"]
        )
    for n, p in model.named_parameters():
        assert torch.equal(p, current[n])


def test_checkpoint_round_trip_without_pickle(tmp_path):
    model, cfg = _tiny(), TrainConfig()
    opt = build_optimizer(model, cfg)
    sched = build_scheduler(opt, total_steps=10, warmup_ratio=0.1, kind="linear")
    for _ in range(2):
        model(torch.randint(1, 30, (2, 5))).sum().backward()
        opt.step()
        sched.step()
    ema = EMA(model, 0.5)
    for step in (3, 7, 12):
        path = ckpt.save_checkpoint(
            tmp_path, step, model, opt, sched, {"epoch": 1}, keep=2, extra={"ema": ema.state_dict()}
        )
    expected_next = torch.rand(3)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["step-000007", "step-000012"]
    assert {f.suffix for f in path.iterdir()} == {".safetensors", ".json"}
    model2 = _tiny()
    opt2 = build_optimizer(model2, cfg)
    sched2 = build_scheduler(opt2, total_steps=10, warmup_ratio=0.1, kind="linear")
    trainer = ckpt.load_checkpoint(path, model2, opt2, sched2)
    assert trainer["step"] == 12 and trainer["epoch"] == 1
    assert torch.equal(torch.rand(3), expected_next)  # RNG restored to the saved state
    for (a, pa), (b, pb) in zip(model.state_dict().items(), model2.state_dict().items(), strict=True):
        assert a == b and torch.equal(pa, pb)
    s1, s2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    for k in s1:
        assert torch.equal(s1[k]["exp_avg"], s2[k]["exp_avg"])
    assert sched2.state_dict()["last_epoch"] == sched.state_dict()["last_epoch"]
    assert ckpt.load_extra(path, "ema").keys() == ema.state_dict().keys()
