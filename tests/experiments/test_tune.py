"""``scratchlm tune`` on the tiny recipe: a 3-trial study writes its table, best.yaml and Optuna's
plots, continues from its SQLite file, and the median pruner stops a trial that trails the earlier ones
after its first evaluation (its run still finished, the trial recorded as pruned)."""

from __future__ import annotations

import csv

import pytest
import yaml

from cli_helpers import TINY
from scratchlm.cli import main

optuna = pytest.importorskip("optuna")

SMALL = ["--set", "data.max_train_examples=120", "--set", "data.max_eval_examples=40", "--set", "train.epochs=2",
         "--set", "train.batch_size=30", "--set", "model.bigram_buckets=2000"]  # fmt: skip
SPACE = ["--space", "train.lr=loguniform:1e-4:3e-3", "--space", "model.embed_dim=16,32"]


def _trials(out):
    with (out / "trials.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_three_trials_then_one_more(tmp_path, capsys):
    out = tmp_path / "study"
    assert main(["tune", str(TINY), *SPACE, "--trials", "3", *SMALL, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    rows = _trials(out)
    assert [r["trial"] for r in rows] == ["0", "1", "2"] and {r["state"] for r in rows} <= {
        "complete",
        "pruned",
    }
    assert all(1e-4 <= float(r["train.lr"]) <= 3e-3 and r["model.embed_dim"] in ("16", "32") for r in rows)
    assert "(best)" in (out / "trials.md").read_text(encoding="utf-8") and "best: trial" in printed
    best = yaml.safe_load((out / "best.yaml").read_text(encoding="utf-8"))
    best_row = max((r for r in rows if r["state"] == "complete"), key=lambda r: float(r["dev_score"]))
    assert best["train"]["lr"] == pytest.approx(float(best_row["train.lr"]))
    assert str(best["model"]["embed_dim"]) == best_row["model.embed_dim"]
    assert best["data"]["max_train_examples"] == 120  # the --set values are part of it
    assert (out / "history.png").stat().st_size > 0 and (out / "study.db").is_file()
    for r in rows:
        assert (out / "trials" / f"trial-{int(r['trial']):04d}" / "metrics.json").is_file()
    # the same command with more trials continues the study: one new trial, the old ones kept
    assert main(["tune", str(TINY), *SPACE, "--trials", "4", *SMALL, "--out", str(out)]) == 0
    again = _trials(out)
    assert len(again) == 4 and again[:3] == rows


def test_a_trailing_trial_is_pruned_after_its_first_evaluation(tmp_path):
    from scratchlm.experiments.tune import open_study

    out = tmp_path / "study"
    study = open_study(out, seed=13, startup_trials=1)
    dists = {"train.lr": optuna.distributions.FloatDistribution(1e-4, 3e-3, log=True)}
    study.add_trial(optuna.trial.create_trial(params={"train.lr": 1e-3}, distributions=dists, value=1.0,
                                              intermediate_values={1: 1.0, 2: 1.0}))  # fmt: skip
    argv = ["tune", str(TINY), "--space", "train.lr=loguniform:1e-4:3e-3", "--trials", "2",
            "--startup-trials", "1", *SMALL, "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    new = _trials(out)[1]
    assert new["state"] == "pruned" and new["evaluations"] == "1"  # a tiny run never reaches 1.0 dev accuracy
    run = out / "trials" / "trial-0001"
    assert (run / "metrics.json").is_file()  # stopped like early stopping: a finished run
    assert '"event": "eval"' in (run / "train_log.jsonl").read_text(encoding="utf-8")
