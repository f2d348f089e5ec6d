"""The real CLI on real data at small scale: train, eval after reload, predict, summary, data, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cli_helpers import ROOT, TINY, run_cli


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


def test_predict_json_and_stdin(tiny_run):
    proc = run_cli("predict", str(tiny_run), "--json", "质量很好，推荐", "很失望")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert len(out) == 2
    for r in out:
        assert r["label"] in ("negative", "positive")
        assert abs(sum(r["probabilities"].values()) - 1) < 1e-4
        assert len(r["logits"]) == 2 and r["input_ids"][0] == 2  # [CLS]
        assert max(r["probabilities"], key=r["probabilities"].get) == r["label"]
    piped = run_cli("predict", str(tiny_run), input="质量很好，推荐\n\n很失望\n")
    assert piped.returncode == 0, piped.stderr
    assert len(piped.stdout.strip().splitlines()) == 2


def test_summary_totals_match_model(tiny_run):
    from scratchlm.training.run_dir import load_run

    n = sum(p.numel() for p in load_run(tiny_run).model.parameters())
    proc = run_cli("summary", str(tiny_run))
    assert proc.returncode == 0, proc.stderr
    assert f"Total params: {n:,}" in proc.stdout
    proc = run_cli("summary", "configs/zh_sentiment.yaml")
    assert proc.returncode == 0 and "Total params:" in proc.stdout


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


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["train", str(TINY), "--set", "train.lrr=3", "--out", "/tmp/never"], "did you mean 'lr'"),
        (["train", "no/such.yaml", "--out", "/tmp/never"], "no/such.yaml: config file not found"),
        (["train", str(TINY), "--set", "model.encoder.num_heads=5", "--out", "/tmp/never"], "divisible"),
        (["eval", str(ROOT / "configs")], "not a scratchlm run directory"),
        (["eval", "/no/such/run"], "no such run directory"),
    ],
)
def test_bad_input_is_one_line_error(args, needle):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_predict_empty_text_is_refused(tiny_run):
    proc = run_cli("predict", str(tiny_run), "好", "  ")
    assert proc.returncode == 2 and "text 2 is empty" in proc.stderr


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


def test_help_is_fast_and_does_not_import_torch():
    code = "import sys, scratchlm.cli; scratchlm.cli.build_parser(); print('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.strip() == "False", proc.stderr
