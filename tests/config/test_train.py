"""config/train.py: TrainConfig's defaults and the errors its checks give."""

from __future__ import annotations

import pytest

from scratchlm.config import TrainConfig, config_from_dict
from scratchlm.errors import ConfigError


def test_defaults_and_valid_values():
    t = TrainConfig()
    assert (t.epochs, t.batch_size, t.lr, t.betas, t.schedule) == (4, 32, 1e-3, (0.9, 0.98), "linear")
    TrainConfig(batch_size=32, grad_accum_steps=4, precision="bf16", distributed="fsdp")
    assert (t.optimizer, t.momentum) == ("adamw", 0.0)
    assert TrainConfig(optimizer="sgd", momentum=0.9).momentum == 0.9


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"epochs": -1}, "train.epochs=-1 must be >= 1"),
        ({"epochs": 0}, "train.epochs=0 must be >= 1"),
        ({"batch_size": 0}, "train.batch_size=0"),
        (
            {"batch_size": 30, "grad_accum_steps": 4},
            "train.batch_size=30 is not divisible by train.grad_accum_steps=4",
        ),
        ({"lr": 0}, "train.lr=0.0 must be a finite number > 0"),
        ({"warmup_ratio": 1.0}, "train.warmup_ratio=1.0 must be in [0, 1)"),
        ({"ema_decay": 1.0}, "train.ema_decay=1.0 must be in (0, 1)"),
        ({"layer_lr_decay": 0}, "train.layer_lr_decay=0.0 must be in (0, 1]"),
        ({"label_smoothing": 1}, "train.label_smoothing=1.0 must be in [0, 1)"),
        ({"schedule": "step"}, "train.schedule='step' is not one of linear, cosine, constant"),
        ({"precision": "fp8"}, "train.precision='fp8' is not one of fp32, bf16, fp16"),
        ({"distributed": "fsdp", "ema_decay": 0.99}, "train.ema_decay with train.distributed=fsdp"),
        ({"peak_tflops": 0}, "train.peak_tflops=0.0 must be > 0"),
        ({"weight_decay": -1}, "train.weight_decay=-1.0 must be a finite number >= 0"),
        ({"embedding_weight_decay": -1}, "train.embedding_weight_decay=-1"),
        ({"grad_accum_steps": 5}, "train.batch_size=32 is not divisible by train.grad_accum_steps=5"),
        ({"betas": [0.9]}, "train.betas must have two values"),
        ({"optimizer": "adam"}, "train.optimizer='adam' is not one of adamw, sgd"),
        ({"optimizer": "sgd", "momentum": 1.0}, "train.momentum=1.0 must be in [0, 1)"),
        ({"momentum": 0.9}, "train.momentum=0.9 applies to train.optimizer=sgd"),
        ({"lrr": 1}, "unknown config key 'train.lrr'; did you mean 'lr'"),
        ({"learning_rate": 1}, "did you mean 'lr'"),
    ],
)
def test_bad_values_are_clear_errors(values, message):
    with pytest.raises(ConfigError) as exc:
        config_from_dict({"train": values})
    assert message in str(exc.value)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.lr=nan", "train.lr: expected a finite number, got 'nan'"),
        ("train.lr=inf", "train.lr: expected a finite number"),
        ("train.betas=0.9,1.5", "train.betas[1]=1.5 must be a finite number in [0, 1)"),
        ("train.betas=0.9,1", "train.betas[1]=1.0 must be a finite number in [0, 1)"),
        ("train.betas=-0.1,0.9", "train.betas[0]=-0.1"),
        # a negative clip norm silently reverses every gradient
        ("train.grad_clip=-1", "train.grad_clip=-1.0 must be a finite number > 0"),
        ("train.grad_clip=0", "train.grad_clip=0.0 must be a finite number > 0"),
        ("train.embedding_lr=-1e-3", "train.embedding_lr=-0.001 must be a finite number > 0"),
        ("train.weight_decay=-inf", "train.weight_decay: expected a finite number"),
        ("model.dropout=nan", "model.dropout: expected a finite number"),
    ],
)
def test_out_of_range_and_non_finite_values_are_config_errors(override, message):
    from scratchlm.config import apply_overrides

    with pytest.raises(ConfigError) as exc:
        config_from_dict(apply_overrides({}, [override]))
    assert message in str(exc.value)


def test_non_finite_values_from_yaml_and_direct_construction():
    with pytest.raises(ConfigError, match="expected a finite number"):
        config_from_dict({"train": {"lr": float("nan")}})
    with pytest.raises(ConfigError, match=r"train.lr=nan must be a finite number > 0"):
        TrainConfig(lr=float("nan"))
    with pytest.raises(ConfigError, match=r"train.betas\[0\]=nan"):
        TrainConfig(betas=(float("nan"), 0.9))
