"""ONNX export of an image classifier run (``data.task: image_classification``), checked against PyTorch.

The graph takes ``pixels`` (float32, ``(batch, c, size, size)``, batch dynamic): images already converted
to the run's mode, resized to its size, scaled to ``[0, 1]`` and standardised with the run's ``mean`` and
``std`` (the image processor's steps, stored in the metadata with ``labels``, ``mode`` and ``size``), and
gives ``logits`` (float32, ``(batch, num_classes)``). Exported through ``torch.export`` (opset 18 and
later); the file is then run with onnxruntime on the run's dev images (batches of several sizes) and
must match PyTorch within ``tolerance``. The graph is written beside ``out`` first: a failed check
leaves no file.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from scratchlm.export.onnx import TORCH_EXPORT_MIN_OPSET, _frozen, _quiet
from scratchlm.export.onnx_check import ExportError, session

if TYPE_CHECKING:
    from scratchlm.training.run_dir import LoadedRun


class OnnxImageClassifier(torch.nn.Module):
    """The exported signature: ``pixels (b, c, H, W) float32 -> logits (b, C)``."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.model(pixels)


def _export(run: LoadedRun, path: Path, opset: int) -> None:
    p = run.tokenizer
    example = torch.randn(2, p.channels, p.size, p.size)
    model = OnnxImageClassifier(run.model).eval()
    with torch.no_grad():
        model(example)  # position tables built for the run's grid before tracing
    with _quiet() as log, _frozen(model):
        try:
            program = torch.onnx.export(
                model,
                (example,),
                None,
                dynamo=True,
                opset_version=opset,
                input_names=["pixels"],
                output_names=["logits"],
                dynamic_shapes={"pixels": {0: torch.export.Dim("batch")}},
            )
            program.save(str(path))
        except Exception as exc:  # noqa: BLE001 - the exporter raises many kinds; all mean the same to the user
            tail = log.getvalue().strip().splitlines()[-3:]
            raise ExportError(
                f"torch.onnx.export failed with opset {opset}: {type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}" + (f" ({' | '.join(tail)})" if tail else "")
            ) from exc


def _add_metadata(path: Path, run: LoadedRun) -> None:
    import onnx

    import scratchlm

    model = onnx.load(str(path))
    p = run.tokenizer
    meta = {
        "scratchlm_version": scratchlm.__version__,
        "task": run.task,
        "labels": json.dumps(run.labels, ensure_ascii=False),
        "mode": p.mode,
        "size": str(p.size),
        "mean": json.dumps(p.mean),
        "std": json.dumps(p.std),
        "run": run.path.name,
    }
    del model.metadata_props[:]
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))


def _difference(run: LoadedRun, sess) -> float:
    """The largest |graph - PyTorch| logit difference on up to 64 dev images, in batches of 1, 7 and 56."""
    from scratchlm.predict.images import image_logits

    task = run.handler()
    task.load()
    images = task.encode(run.tokenizer, task.split("dev")[:64], run.labels).seqs
    worst = 0.0
    for start, stop in ((0, 1), (1, 8), (8, 64)):
        batch = images[start:stop]
        if not batch:
            continue
        got = sess.run(None, {"pixels": torch.stack(batch).numpy()})[0]
        want = image_logits(run.model, batch, len(batch)).numpy()
        worst = max(worst, float(abs(got - want).max()))
    return worst


def export_image_onnx(
    run: LoadedRun, out: str | Path, *, opset: int = 18, tolerance: float = 1e-4
) -> dict[str, Any]:
    """Write ``out`` and return a report (inputs, outputs, the largest difference from PyTorch)."""
    if opset < TORCH_EXPORT_MIN_OPSET:
        raise ExportError(
            f"--opset {opset}: image runs export through torch.export, opset {TORCH_EXPORT_MIN_OPSET} or later"
        )
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"--out {out} is a directory; give a file name such as {out / 'model.onnx'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    p = run.tokenizer
    report: dict[str, Any] = {
        "out": str(out),
        "opset": opset,
        "task": run.task,
        "inputs": {"pixels": ["batch", p.channels, p.size, p.size]},
        "outputs": {"logits": ["batch", len(run.labels)]},
        "mean": p.mean,
        "std": p.std,
    }
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".onnx-export-") as tmp:
        path = Path(tmp) / "float.onnx"
        _export(run, path, opset)
        _add_metadata(path, run)
        diff = _difference(run, session(path))
        report["max_abs_diff_vs_torch"] = diff
        if not diff <= tolerance:
            raise ExportError(
                f"the ONNX graph differs from PyTorch by {diff:.3g} (> {tolerance:g}) on dev images"
            )
        path.replace(out)
    report["bytes"] = out.stat().st_size
    report["seconds"] = round(time.perf_counter() - start, 2)
    return report
