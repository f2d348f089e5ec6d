"""The ablation experiment without training: parsing the grid, planning the cells (skipped
combinations), the per-cell summary and the Markdown table."""

from __future__ import annotations

import pytest

from cli_helpers import TINY
from scratchlm.config import read_yaml
from scratchlm.errors import ConfigError
from scratchlm.experiments.ablate import Cell, markdown_table, parse_grid, plan_cells, summarise


def test_parse_grid_and_plan():
    assert parse_grid(["model.positional.kind=a,b", "train.lr=1e-3"]) == {
        "model.positional.kind": ["a", "b"],
        "train.lr": ["1e-3"],
    }
    raw = read_yaml(TINY)
    cells = plan_cells(
        raw, parse_grid(["model.positional.kind=rope,learned", "model.positional.combine=add,concat"]), []
    )
    assert [bool(c.skipped) for c in cells] == [False, True, False, False]
    assert cells[0].slug == "positional-rope_combine-add"


@pytest.mark.parametrize(
    ("specs", "message"),
    [
        (["model.positionl=rope"], "did you mean"),
        (["model.positional.kind="], "comma-separated values"),
        (["model.positional.kind=rope,,alibi"], "comma-separated values"),
        (["model.positional.kind=rope,rope"], "repeated"),
        (["model.positional.kind=rope", "model.positional.kind=alibi"], "given twice"),
        ([], "at least one --grid"),
    ],
)
def test_bad_grids_are_named(specs, message):
    with pytest.raises(ConfigError, match=message):
        parse_grid(specs)


def test_summary_and_table_from_records():
    cell = Cell({"model.positional.kind": "sinusoidal"})
    cell.runs = [
        {"dev_accuracy": 0.8, "test_accuracy": 0.7, "test_macro_f1": 0.6, "long_test_accuracy": 0.5,
         "long_test_accuracy_at_len": 0.55, "test_accuracy_at_len": 0.71, "train_seconds": 10, "parameters": 99},
        {"dev_accuracy": 0.9, "test_accuracy": 0.8, "test_macro_f1": 0.7, "long_test_accuracy": 0.6,
         "long_test_accuracy_at_len": 0.65, "test_accuracy_at_len": 0.81, "train_seconds": 20, "parameters": 99},
    ]  # fmt: skip
    row = summarise([cell])[0]
    assert row["test_accuracy_mean"] == pytest.approx(0.75)
    assert row["test_accuracy_std"] == pytest.approx(0.0707107, abs=1e-6)
    table = markdown_table([row], ["model.positional.kind"], 2.0)
    assert "| sinusoidal | 0.8500 ± 0.0707 | 0.7500 ± 0.0707 |" in table and "| 15.0 | 99 |" in table


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seeds": 0}, "--seeds 0: must be >= 1"),
        ({"seeds": 1, "length_factor": 1.0}, "--length-factor 1.0: must be > 1"),
        ({"seeds": 1, "sets": ["train.seed=3"]}, "ablate sets train.seed itself"),
    ],
)
def test_bad_requests_are_refused_before_anything_is_written(tmp_path, kwargs, message):
    from scratchlm.experiments.ablate import ablate

    with pytest.raises(ConfigError, match=message):
        ablate(TINY, ["model.positional.kind=rope"], out=tmp_path / "out", **kwargs)
    assert not (tmp_path / "out").exists()
