"""``scratchlm eval RUN`` on the tiny trained run (tests/conftest.py): after reloading it gives the metrics
of the end of training; ``--data FILE`` evaluates a user's labelled file, whose errors name file and line."""

from __future__ import annotations

import json

from cli_helpers import run_cli


def test_eval_after_reload_equals_end_of_training(tiny_run):
    proc = run_cli("eval", str(tiny_run), "--split", "test", "--json")
    assert proc.returncode == 0, proc.stderr
    reloaded = json.loads(proc.stdout)
    trained = json.loads((tiny_run / "metrics.json").read_text())["test"]
    for key in ("accuracy", "macro_f1", "confusion_matrix", "num_examples", "per_class"):
        assert reloaded[key] == trained[key], key


def test_eval_on_a_labelled_file(tiny_run, tmp_path):
    f = tmp_path / "mine.csv"
    f.write_text("text,label\n很好，非常满意,positive\n太差了，退货,negative\n", encoding="utf-8")
    proc = run_cli("eval", str(tiny_run), "--data", str(f), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["num_examples"] == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\n很好,positive\n一般,neutral\n", encoding="utf-8")
    proc = run_cli("eval", str(tiny_run), "--data", str(bad))
    assert proc.returncode == 2 and f"{bad}:3" in proc.stderr and "neutral" in proc.stderr


def test_eval_on_a_parquet_file(tiny_run, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    f = tmp_path / "mine.parquet"
    pq.write_table(
        pa.table({"text": ["很好，非常满意", "太差了，退货"], "label": ["positive", "negative"]}), f
    )
    csv = tmp_path / "mine.csv"
    csv.write_text("text,label\n很好，非常满意,positive\n太差了，退货,negative\n", encoding="utf-8")
    results = [
        json.loads(run_cli("eval", str(tiny_run), "--data", str(p), "--json").stdout) for p in (f, csv)
    ]
    assert results[0]["num_examples"] == 2 and results[0]["accuracy"] == results[1]["accuracy"]
    pq.write_table(pa.table({"text": ["很好"], "label": ["neutral"]}), f)
    proc = run_cli("eval", str(tiny_run), "--data", str(f))
    assert proc.returncode == 2 and f"{f}:row 1" in proc.stderr and "neutral" in proc.stderr
