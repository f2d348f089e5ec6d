"""benchmarks/encoder_throughput.py runs at its tiny --smoke shape on CPU and reports both models."""

from __future__ import annotations

import argparse
import importlib.util
import json

from cli_helpers import ROOT


def test_smoke_run_reports_both_models(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "encoder_throughput", ROOT / "benchmarks" / "encoder_throughput.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "result.json"
    result = bench.main(["--smoke", "--device", "cpu", "--out", str(out)])
    assert json.loads(out.read_text())["rows"] == json.loads(json.dumps(result["rows"]))
    names = [r["model"] for r in result["rows"]]
    assert names == ["hf BertForMaskedLM", "scratchlm"]
    for row in result["rows"]:
        assert row["tokens_per_s"] > 0 and row["mfu"] is None  # no peak on CPU: no MFU
        assert row["final_loss"] > 0
    # the two models are the same shape: their matmul parameters differ only by HF's output bias (one
    # per vocabulary entry) and the final LayerNorm of the pre-LN stack
    from scratchlm.training.engine import matmul_parameters

    shape = argparse.Namespace(shapes=[(16, 4)], layers=2, hidden=32, heads=4, vocab=500)
    hf, ours = bench.build(shape, "cpu")
    assert abs(matmul_parameters(hf) - matmul_parameters(ours)) <= 500 + 2 * 32 * 2
