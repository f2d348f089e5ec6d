"""Checkpoints without pickle: optimizer state, RNG states, naming, rotation, extra tensors."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from torch import nn

from scratchlm.config import ModelConfig, TrainConfig
from scratchlm.models import TextClassifier
from scratchlm.training.checkpoint import (
    list_checkpoints,
    load_checkpoint,
    load_extra,
    save_checkpoint,
    step_dir_name,
)
from scratchlm.training.ema import EMA
from scratchlm.training.optim import build_optimizer
from scratchlm.training.schedule import build_scheduler


def _setup(seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 2))
    opt = torch.optim.AdamW(model.parameters(), lr=0.01, betas=(0.8, 0.95), weight_decay=0.1)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (s + 1))
    return model, opt, sched


def _step(model, opt, sched, seed):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, 10, (5, 3), generator=g)
    y = torch.randint(0, 2, (5,), generator=g)
    opt.zero_grad()
    nn.functional.cross_entropy(model(ids), y).backward()
    opt.step()
    sched.step()


@pytest.fixture
def trained():
    model, opt, sched = _setup()
    _step(model, opt, sched, 1)
    _step(model, opt, sched, 2)
    return model, opt, sched


def test_step_dir_names_have_six_digits():
    assert step_dir_name(7) == "step-000007"
    assert step_dir_name(123456) == "step-123456"
    assert step_dir_name(1234567) == "step-1234567"


def test_round_trip_of_model_optimizer_scheduler_and_trainer_state(tmp_path, trained):
    model, opt, sched = trained
    path = save_checkpoint(tmp_path, 7, model, opt, sched, {"epoch": 1, "best": 0.5}, keep=2)
    assert path == tmp_path / "checkpoints" / "step-000007"
    files = sorted(p.name for p in path.iterdir())
    assert all(f.endswith((".safetensors", ".json")) for f in files), files
    assert {
        "model.safetensors",
        "optimizer.safetensors",
        "optimizer.json",
        "trainer.json",
        "rng.safetensors",
    } <= set(files)

    model2, opt2, sched2 = _setup(seed=99)
    trainer = load_checkpoint(path, model2, opt2, sched2)
    assert trainer["step"] == 7 and trainer["epoch"] == 1 and trainer["best"] == 0.5
    for (n, a), (_, b) in zip(model.state_dict().items(), model2.state_dict().items(), strict=True):
        assert torch.equal(a, b), n
    s1, s2 = opt.state_dict(), opt2.state_dict()
    assert s1["state"].keys() == s2["state"].keys() and len(s1["state"]) == 3
    for pid in s1["state"]:
        assert s1["state"][pid].keys() == s2["state"][pid].keys()
        for key, value in s1["state"][pid].items():
            assert torch.is_tensor(value)
            assert torch.equal(value, s2["state"][pid][key]), (pid, key)
    for g1, g2 in zip(s1["param_groups"], s2["param_groups"], strict=True):
        assert g1["lr"] == g2["lr"] and tuple(g1["betas"]) == tuple(g2["betas"]) == (0.8, 0.95)
        assert g1["weight_decay"] == g2["weight_decay"] and g1["params"] == g2["params"]
    assert sched2.state_dict()["last_epoch"] == sched.state_dict()["last_epoch"] == 2

    # the resumed copy takes the next step exactly as the original does
    _step(model, opt, sched, 3)
    _step(model2, opt2, sched2, 3)
    for a, b in zip(model.parameters(), model2.parameters(), strict=True):
        assert torch.equal(a, b)


def test_no_pickle_anywhere(tmp_path, trained):
    model, opt, sched = trained
    path = save_checkpoint(tmp_path, 1, model, opt, sched, {}, keep=1, extra={"ema": model.state_dict()})
    for f in path.iterdir():
        head = f.read_bytes()[:2]
        assert head != b"\x80\x02" and not f.name.endswith((".pt", ".pth", ".bin", ".pkl"))
    json.loads((path / "optimizer.json").read_text())
    json.loads((path / "trainer.json").read_text())


def test_rng_states_are_restored(tmp_path, trained):
    model, opt, sched = trained
    random.seed(5)
    np.random.seed(5)
    torch.manual_seed(5)
    path = save_checkpoint(tmp_path, 3, model, opt, sched, {}, keep=2)
    after_save = (torch.rand(4), random.random(), np.random.rand(3))
    # disturb every generator
    torch.rand(100)
    random.random()
    np.random.rand(10)
    torch.manual_seed(1234)
    random.seed(1234)
    np.random.seed(1234)
    load_checkpoint(path, *_setup(seed=1))
    after_load = (torch.rand(4), random.random(), np.random.rand(3))
    assert torch.equal(after_save[0], after_load[0])
    assert after_save[1] == after_load[1]
    assert np.array_equal(after_save[2], after_load[2])


def test_keep_removes_the_oldest(tmp_path, trained):
    model, opt, sched = trained
    for step in (1, 5, 10, 20):
        save_checkpoint(tmp_path, step, model, opt, sched, {}, keep=2)
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["step-000010", "step-000020"]
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-000010", "step-000020"]
    save_checkpoint(tmp_path, 30, model, opt, sched, {}, keep=1)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-000030"]


def test_list_checkpoints_sorts_numerically_and_skips_incomplete(tmp_path, trained):
    model, opt, sched = trained
    for step in (999999, 1000000, 2):
        save_checkpoint(tmp_path, step, model, opt, sched, {}, keep=10)
    (tmp_path / "checkpoints" / "step-000500").mkdir()  # no trainer.json: incomplete
    (tmp_path / "checkpoints" / "other").mkdir()
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-000002", "step-999999", "step-1000000"]
    assert list_checkpoints(tmp_path / "nothing") == []


def test_extra_tensors_round_trip(tmp_path, trained):
    model, opt, sched = trained
    ema = {n: p.detach().clone() * 0.5 for n, p in model.named_parameters()}
    path = save_checkpoint(tmp_path, 2, model, opt, sched, {}, keep=2, extra={"ema": ema})
    assert (path / "ema.safetensors").exists()
    loaded = load_extra(path, "ema")
    assert loaded.keys() == ema.keys()
    for n in ema:
        assert torch.equal(loaded[n], ema[n])
    assert load_extra(path, "missing") is None


def test_saving_the_same_step_again_replaces_it(tmp_path, trained):
    model, opt, sched = trained
    save_checkpoint(tmp_path, 4, model, opt, sched, {"tag": "first"}, keep=2)
    save_checkpoint(tmp_path, 4, model, opt, sched, {"tag": "second"}, keep=2)
    assert [p.name for p in (tmp_path / "checkpoints").iterdir()] == ["step-000004"]
    trainer = json.loads((tmp_path / "checkpoints" / "step-000004" / "trainer.json").read_text())
    assert trainer["tag"] == "second"


def _tiny():
    return TextClassifier(
        ModelConfig(embed_dim=8, encoder={"num_layers": 1, "num_heads": 2, "ffn_dim": 16}, bigram_buckets=50),
        vocab_size=30,
        num_classes=2,
        max_seq_len=8,
    )


def test_round_trip_with_the_training_optimizer_scheduler_and_ema(tmp_path):
    """The same round trip with what training saves: a text classifier, its AdamW groups, the warmup
    schedule and the EMA as an extra."""
    model, cfg = _tiny(), TrainConfig()
    opt = build_optimizer(model, cfg)
    sched = build_scheduler(opt, total_steps=10, warmup_ratio=0.1, kind="linear")
    for _ in range(2):
        model(torch.randint(1, 30, (2, 5))).sum().backward()
        opt.step()
        sched.step()
    ema = EMA(model, 0.5)
    for step in (3, 7, 12):
        path = save_checkpoint(
            tmp_path, step, model, opt, sched, {"epoch": 1}, keep=2, extra={"ema": ema.state_dict()}
        )
    expected_next = torch.rand(3)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["step-000007", "step-000012"]
    assert {f.suffix for f in path.iterdir()} == {".safetensors", ".json"}
    model2 = _tiny()
    opt2 = build_optimizer(model2, cfg)
    sched2 = build_scheduler(opt2, total_steps=10, warmup_ratio=0.1, kind="linear")
    trainer = load_checkpoint(path, model2, opt2, sched2)
    assert trainer["step"] == 12 and trainer["epoch"] == 1
    assert torch.equal(torch.rand(3), expected_next)  # RNG restored to the saved state
    for (a, pa), (b, pb) in zip(model.state_dict().items(), model2.state_dict().items(), strict=True):
        assert a == b and torch.equal(pa, pb)
    s1, s2 = opt.state_dict()["state"], opt2.state_dict()["state"]
    for k in s1:
        assert torch.equal(s1[k]["exp_avg"], s2[k]["exp_avg"])
    assert sched2.state_dict()["last_epoch"] == sched.state_dict()["last_epoch"]
    assert load_extra(path, "ema").keys() == ema.state_dict().keys()


def test_a_checkpoint_from_before_a_config_key_existed_stands_for_its_default(tmp_path):
    """A checkpoint written before ``train.optimizer`` existed ran AdamW: it resumes under a config.yaml
    that says ``adamw`` (the default), and not under one that says ``sgd``."""
    from scratchlm.config import RunConfig, config_from_dict
    from scratchlm.errors import RunDirError
    from scratchlm.training.checkpoint import check_config, with_defaults

    cfg = RunConfig()
    saved = json.loads(json.dumps(cfg.to_dict()))
    del saved["train"]["optimizer"], saved["train"]["momentum"]
    (tmp_path / "trainer.json").write_text(json.dumps({"step": 3, "config": saved}))
    check_config(tmp_path, cfg)
    with pytest.raises(RunDirError, match="train.optimizer: 'adamw' in the checkpoint, 'sgd' in config.yaml"):
        check_config(tmp_path, config_from_dict({"train": {"optimizer": "sgd"}}))
    assert with_defaults({"a": {"b": 1}}, {"a": {"b": 2, "c": 3}, "d": 4}) == {"a": {"b": 1, "c": 3}, "d": 4}
