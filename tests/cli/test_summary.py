"""``scratchlm summary RUN|CONFIG``: the parameter totals of a trained run's model, and of a recipe."""

from __future__ import annotations

from cli_helpers import run_cli
from scratchlm.training.run_dir import load_run


def test_summary_totals_match_model(tiny_run):
    n = sum(p.numel() for p in load_run(tiny_run).model.parameters())
    proc = run_cli("summary", str(tiny_run))
    assert proc.returncode == 0, proc.stderr
    assert f"Total params: {n:,}" in proc.stdout
    proc = run_cli("summary", "configs/zh_sentiment.yaml")
    assert proc.returncode == 0 and "Total params:" in proc.stdout
