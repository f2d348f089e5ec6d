"""``--space`` specs: ranges and value lists parsed, checked against the config before any trial, and
one-line errors naming the spec."""

from __future__ import annotations

import pytest

from cli_helpers import TINY
from scratchlm.config import read_yaml
from scratchlm.errors import ConfigError
from scratchlm.experiments.tune_space import Dimension, check_space, parse_space


def test_kinds_and_suggestions():
    optuna = pytest.importorskip("optuna")
    dims = parse_space(["train.lr=loguniform:1e-4:3e-3", "model.embed_dim=64,128", "train.epochs=int:1:3",
                        "model.dropout=uniform:0:0.3"])  # fmt: skip
    assert dims[0] == Dimension("train.lr", "loguniform", 1e-4, 3e-3)
    assert dims[1] == Dimension("model.embed_dim", "choice", choices=("64", "128"))
    assert dims[2] == Dimension("train.epochs", "int", 1, 3)
    trial = optuna.trial.FixedTrial({"train.lr": 1e-3, "model.embed_dim": "128", "train.epochs": 2,
                                     "model.dropout": 0.1})  # fmt: skip
    assert [d.suggest(trial) for d in dims] == ["0.001", "128", "2", "0.1"]


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["train.lrr=loguniform:1e-4:1e-3"], "lrr"),
        (["train.lr=loguniform:1e-3"], "needs LOW:HIGH"),
        (["train.lr=loguniform:0:1e-3"], "needs LOW > 0"),
        (["train.lr=uniform:1e-3:1e-4"], "LOW must be below HIGH"),
        (["train.epochs=int:1:x"], "must be integers"),
        (["model.embed_dim=64,64"], "distinct"),
        (["train.lr=1e-3", "train.lr=2e-3"], "given twice"),
        ([], "at least one --space"),
    ],
)
def test_bad_specs(specs, message):
    with pytest.raises(ConfigError, match=message):
        parse_space(specs)


def test_values_the_config_rejects_fail_before_training():
    raw = read_yaml(TINY)
    check_space(raw, parse_space(["train.lr=loguniform:1e-4:3e-3"]), [])
    with pytest.raises(ConfigError, match=r"--space model.positional.kind=spiral: .*spiral"):
        check_space(raw, parse_space(["model.positional.kind=rope,spiral"]), [])
