"""``train.loggers: [jsonl, tensorboard]``: the event files, read back with TensorBoard's own reader,
hold every number of train_log.jsonl at its step, the final metrics, and the run's figures as images."""

from __future__ import annotations

import json

import pytest

from cli_helpers import TINY
from scratchlm.cli import main
from scratchlm.training.tensorboard import DIRECTORY

pytest.importorskip("tensorboard")

SMALL = ["--set", "data.max_train_examples=200", "--set", "data.max_eval_examples=60", "--set", "train.epochs=2",
         "--set", "train.batch_size=20", "--set", "train.save_every=25"]  # fmt: skip


def _events(run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / DIRECTORY), size_guidance={"scalars": 0, "images": 0})
    acc.Reload()
    scalars = {tag: {e.step: e.value for e in acc.Scalars(tag)} for tag in acc.Tags()["scalars"]}
    return scalars, acc.Tags()["images"]


def test_event_files_hold_the_logged_scalars_and_figures(tmp_path):
    run = tmp_path / "run"
    argv = ["train", str(TINY), *SMALL, "--set", "train.loggers=jsonl,tensorboard", "--out", str(run)]
    assert main(argv) == 0
    scalars, images = _events(run)
    log = [json.loads(x) for x in (run / "train_log.jsonl").read_text(encoding="utf-8").splitlines()]
    train = [r for r in log if r["event"] == "train"]
    evals = [r for r in log if r["event"] == "eval"]
    assert train and evals
    for r in train:
        for key in ("loss", "lr", "grad_norm", "tokens_per_s", "examples_per_s"):
            assert scalars[f"train/{key}"][r["step"]] == pytest.approx(r[key], rel=1e-6)
    for r in evals:
        assert scalars["dev/accuracy"][r["step"]] == pytest.approx(r["dev_accuracy"], rel=1e-6)
        assert scalars["dev/macro_f1"][r["step"]] == pytest.approx(r["dev_macro_f1"], rel=1e-6)
    metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert list(scalars["final_test/accuracy"].values()) == [pytest.approx(metrics["test"]["accuracy"])]
    assert {"figures/confusion_matrix", "figures/training_curves", "figures/positional_encoding"} <= set(
        images
    )


def test_default_writes_no_event_files_and_jsonl_is_required(tiny_run, tmp_path, capsys):
    assert (tiny_run / "train_log.jsonl").is_file() and not (tiny_run / DIRECTORY).exists()
    assert main(["train", str(TINY), "--set", "train.loggers=tensorboard", "--out", str(tmp_path / "x")]) == 2
    assert "keep jsonl" in capsys.readouterr().err


def test_a_resumed_run_drops_the_events_after_its_checkpoint(tmp_path):
    from scratchlm.training.tensorboard import TensorBoardLogger

    first = TensorBoardLogger(tmp_path)
    for step in (10, 20, 30):
        first.write(step=step, event="train", loss=float(step), lr=0.1)
    first.close()
    again = TensorBoardLogger(tmp_path, purge_step=21)  # resumed from the checkpoint of step 20
    again.write(step=30, event="train", loss=3.0, lr=0.1)
    again.write(step=25, event="eval", epoch=1, dev_accuracy=0.5)
    again.close()
    scalars, _ = _events(tmp_path)
    assert scalars["train/loss"] == {10: 10.0, 20: 20.0, 30: 3.0}
    assert scalars["dev/accuracy"] == {25: 0.5} and "dev/epoch" not in scalars
