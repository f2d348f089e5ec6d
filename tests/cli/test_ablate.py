"""``scratchlm ablate`` as a user runs it: the grid, the skipped combinations, the tables, reuse of
finished runs, and requests refused before anything trains."""

from __future__ import annotations

import csv
import json
import statistics

import pytest

from cli_helpers import TINY, run_cli

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


def test_help_describes_the_experiment(capsys):
    from scratchlm.cli import main

    with pytest.raises(SystemExit):
        main(["ablate", "--help"])
    text = capsys.readouterr().out
    assert "Every combination of the ``--grid`` values (the cells)" in text  # the experiment's docstring
    assert "--set SECTION.KEY=VALUE" in text and "override for every run" in text
