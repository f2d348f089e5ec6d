"""``scratchlm ablate``: the grid, the skipped combinations, the tables, reuse of finished runs, errors."""

from __future__ import annotations

import csv
import json
import statistics

import pytest

from cli_helpers import TINY, run_cli
from scratchlm.config import read_yaml
from scratchlm.errors import ConfigError
from scratchlm.experiments.ablate import Cell, markdown_table, parse_grid, plan_cells, summarise

SMALL = [
    "--set", "train.max_steps=4", "--set", "train.epochs=1", "--set", "data.max_train_examples=160",
    "--set", "data.max_eval_examples=60", "--set", "train.num_threads=1", "--set", "data.max_seq_len=32",
]  # fmt: skip


@pytest.fixture(scope="module")
def ablation(tmp_path_factory):
    out = tmp_path_factory.mktemp("ablate") / "abl"
    args = [
        "ablate", str(TINY), "--grid", "model.positional.kind=sinusoidal,learned,rope",
        "--grid", "model.positional.combine=add,concat", "--seeds", "2", *SMALL, "--out", str(out),
    ]  # fmt: skip
    proc = run_cli(*args, "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out, json.loads(proc.stdout), args


def test_grid_runs_every_valid_cell_for_every_seed(ablation):
    out, result, _ = ablation
    cells = {(c["model.positional.kind"], c["model.positional.combine"]): c for c in result["cells"]}
    assert len(cells) == 6
    assert "acts inside attention" in cells[("rope", "concat")]["skipped"]
    trained = [c for c in cells.values() if not c.get("skipped")]
    assert len(trained) == 5 and all(c["seeds"] == 2 for c in trained)
    runs = list(csv.DictReader((out / "runs.csv").open(encoding="utf-8")))
    assert len(runs) == 10 and {r["seed"] for r in runs} == {"13", "14"}  # tiny_test's seed is 13
    assert len(list((out / "runs").iterdir())) == 10
    # a cell's figures are the mean and sample std of its runs
    for (kind, combine), cell in cells.items():
        mine = [
            float(r["test_accuracy"])
            for r in runs
            if (r["model.positional.kind"], r["model.positional.combine"]) == (kind, combine)
        ]
        if mine:
            assert cell["test_accuracy_mean"] == pytest.approx(statistics.fmean(mine))
            assert cell["test_accuracy_std"] == pytest.approx(statistics.stdev(mine))
    # learned positions cannot go past their table; the others are measured at 2x the length
    assert cells[("learned", "add")]["test_accuracy_at_len_mean"] is None
    assert "cannot extrapolate" in cells[("learned", "add")]["at_len_note"]
    assert 0 <= cells[("rope", "add")]["test_accuracy_at_len_mean"] <= 1
    assert all(r["eval_length"] == "64" for r in runs)
    table = (out / "results.md").read_text(encoding="utf-8")
    assert table.count("\n") == 2 + 6 and "n/a (cannot extrapolate)" in table and "skipped:" in table
    assert (out / "ablation.png").stat().st_size > 5000
    assert json.loads((out / "results.json").read_text())["seeds"] == 2


def test_finished_runs_are_reused_and_a_new_seed_trains_only_itself(ablation):
    out, _, args = ablation
    before = {p.name: (p / "model.safetensors").stat().st_mtime_ns for p in (out / "runs").iterdir()}
    args = [a if a != "2" else "3" for a in args]  # --seeds 3
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    after = {p.name: (p / "model.safetensors").stat().st_mtime_ns for p in (out / "runs").iterdir()}
    assert {k: after[k] for k in before} == before  # nothing retrained
    assert sorted(set(after) - set(before)) == sorted(
        f"positional-{k}_combine-{c}-seed15"
        for k, c in [
            ("sinusoidal", "add"),
            ("sinusoidal", "concat"),
            ("learned", "add"),
            ("learned", "concat"),
            ("rope", "add"),
        ]
    )
    assert proc.stderr.count("finished before") == 10


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


def test_bad_requests_fail_before_training(tmp_path):
    out = tmp_path / "o"
    proc = run_cli(
        "ablate",
        str(TINY),
        "--grid",
        "model.positional.kind=rope",
        "--grid",
        "model.positional.combine=concat",
        "--out",
        str(out),
    )
    assert (
        proc.returncode == 2
        and "--grid model.positional.kind=rope: " in proc.stderr
        and "acts inside attention" in proc.stderr
    )
    proc = run_cli("ablate", str(TINY), "--grid", "train.seed=1,2", "--out", str(out))
    assert proc.returncode == 2 and "sets train.seed itself" in proc.stderr
    proc = run_cli(
        "ablate", str(TINY), "--grid", "model.positional.kind=rope", "--seeds", "0", "--out", str(out)
    )
    assert proc.returncode == 2 and "--seeds 0" in proc.stderr
    proc = run_cli("ablate", str(TINY), "--grid", "model.positional.kind=rope,sinusodal", "--out", str(out))
    # a value that is wrong on its own is an error, not a skipped cell
    assert (
        proc.returncode == 2
        and "--grid model.positional.kind=sinusodal" in proc.stderr
        and "sinusoidal" in proc.stderr
    )
    assert not (out / "runs").exists()
    proc = run_cli(
        "ablate", str(tmp_path / "none.yaml"), "--grid", "model.positional.kind=rope", "--out", str(out)
    )
    assert proc.returncode == 2 and "config file not found" in proc.stderr


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
