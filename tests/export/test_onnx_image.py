"""ONNX export of an image run: pixels -> logits, matching PyTorch under onnxruntime at several batch
sizes, the processor's statistics in the metadata; no file left when asked for int8."""

from __future__ import annotations

import json

import pytest
import torch

pytest.importorskip("onnxruntime")

from scratchlm.export.onnx_check import session  # noqa: E402
from scratchlm.export.onnx_image import export_image_onnx  # noqa: E402
from scratchlm.training.run_dir import load_run  # noqa: E402


def test_export_matches_torch(tiny_image_run, tmp_path):
    import onnx

    run = load_run(tiny_image_run)
    out = tmp_path / "m.onnx"
    report = export_image_onnx(run, out)
    assert report["max_abs_diff_vs_torch"] <= 1e-4 and report["inputs"]["pixels"] == ["batch", 1, 8, 8]
    x = torch.randn(5, 1, 8, 8)
    got = session(out).run(None, {"pixels": x.numpy()})[0]
    with torch.no_grad():
        want = run.model(x).numpy()
    assert abs(got - want).max() < 1e-4
    meta = {p.key: p.value for p in onnx.load(str(out)).metadata_props}
    assert json.loads(meta["labels"]) == run.labels and json.loads(meta["mean"]) == run.tokenizer.mean
    assert meta["mode"] == "L" and meta["size"] == "8"


def test_cli_refuses_int8(tiny_image_run, tmp_path, capsys):
    from cli_helpers import cli

    status, _, err = cli(
        capsys, "export", "onnx", str(tiny_image_run), "--out", str(tmp_path / "q.onnx"), "--quantize", "int8"
    )
    assert (
        status != 0
        and "--quantize int8 is for text classifiers" in err
        and not (tmp_path / "q.onnx").exists()
    )
