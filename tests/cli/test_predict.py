"""``scratchlm predict RUN`` on the tiny trained run (tests/conftest.py): texts as arguments or on stdin,
``--json``, and empty texts refused."""

from __future__ import annotations

import json

from cli_helpers import run_cli


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


def test_predict_empty_text_is_refused(tiny_run):
    proc = run_cli("predict", str(tiny_run), "好", "  ")
    assert proc.returncode == 2 and "text 2 is empty" in proc.stderr
