"""``scratchlm train CONFIG --out RUN`` on real data at small scale: the tiny run (tests/conftest.py) learns
and writes its run directory; a user's file trains; an existing directory is never overwritten; bad data
names file and line. (Resuming: tests/training/test_loop.py.)"""

from __future__ import annotations

import json

from cli_helpers import TINY, run_cli


def test_tiny_run_learns_well_above_chance(tiny_run):
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    # 2 balanced classes: chance is about 0.5; this slice reaches ~0.78
    assert metrics["dev"]["accuracy"] >= 0.70
    assert metrics["test"]["accuracy"] >= 0.70
    for name in (
        "run.json",
        "config.yaml",
        "tokenizer/vocab.txt",
        "tokenizer/tokenizer.json",
        "model.safetensors",
        "train_log.jsonl",
        "plots/training_curves.png",
        "plots/confusion_matrix.png",
    ):
        assert (tiny_run / name).is_file(), name
    steps = sorted(p.name for p in (tiny_run / "checkpoints").iterdir())
    assert steps and all(len(s) == len("step-000000") and s.startswith("step-") for s in steps)
    assert not list(tiny_run.rglob("*.pt")) and not list(tiny_run.rglob("*.pkl"))


def test_train_on_a_user_file(tmp_path):
    rows = [
        {"text": t, "label": lab}
        for t, lab in [("好吃好吃", "pos"), ("难吃", "neg"), ("很好", "pos"), ("不好", "neg")] * 30
    ]
    for i, r in enumerate(rows):
        r["text"] += str(i)  # distinct texts, so the sha1 split spreads them
    f = tmp_path / "mine.jsonl"
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    proc = run_cli(
        "train",
        str(TINY),
        "--set",
        f"data.dataset={f}",
        "--set",
        "train.epochs=1",
        "--set",
        "model.bigram_buckets=0",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads((out / "run.json").read_text())["labels"] == ["neg", "pos"]


def test_existing_output_directory_is_never_overwritten(tmp_path):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    proc = run_cli("train", str(TINY), "--out", str(out))
    assert proc.returncode == 2 and "already exists" in proc.stderr
    assert (out / "precious.txt").read_text() == "keep me" and len(list(out.iterdir())) == 1


def test_non_utf8_data_names_file_and_line(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_bytes(
        b'{"text": "ok", "label": "a"}\n{"text": "ok2", "label": "b"}\n{"text": "\xff\xfe", "label": "a"}\n'
    )
    proc = run_cli("train", str(TINY), "--set", f"data.dataset={f}", "--out", str(tmp_path / "r"))
    assert proc.returncode == 2 and f"{f}:3" in proc.stderr and "UTF-8" in proc.stderr
