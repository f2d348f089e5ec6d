"""``scratchlm baseline CONFIG``: the candidates' table, the one chosen on dev, --json, bad choices."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import run_cli


def _data(path: Path) -> Path:
    rows = [
        {"text": f"{'很好 喜欢' if i % 2 else '太差 失望'} 第{i}次", "label": "pos" if i % 2 else "neg"}
        for i in range(120)
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_baseline_prints_the_candidates_and_the_choice(tmp_path: Path) -> None:
    data = _data(tmp_path / "d.jsonl")
    args = ["baseline", "configs/tiny_test.yaml", "--set", f"data.dataset={data}", "--set", "data.task=auto"]
    proc = run_cli(*args, "--features", "char1-3", "--features", "char1-3+word1-2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("char1-3+word1-2 ") == 4 and "selected on dev accuracy" in proc.stdout
    assert "test\naccuracy 1.0000" in proc.stdout
    proc = run_cli(*args, "--C", "2", "--json")
    out = json.loads(proc.stdout)
    assert [r["C"] for r in out["candidates"]] == [2.0, 2.0, 2.0] and out["test"]["accuracy"] == 1.0


def test_bad_choices_are_one_line_errors(tmp_path: Path) -> None:
    proc = run_cli("baseline", "configs/tiny_test.yaml", "--features", "char7")
    assert proc.returncode == 2 and "invalid choice: 'char7'" in proc.stderr
    proc = run_cli("baseline", "configs/tiny_test.yaml", "--C", "-1")
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "baseline C [-1.0]: each must be a positive finite number" in proc.stderr
