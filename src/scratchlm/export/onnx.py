"""ONNX export of a classifier or tagger run, checked against PyTorch with onnxruntime; optional int8
weights (classifiers).

The graph has inputs ``input_ids`` and ``attention_mask`` (int64, ``(batch, sequence)``, both axes
dynamic, ``sequence <= max_seq_len``; the mask is 1 at real tokens, 0 at padding, right-padded).

- A classifier has one output, ``logits`` (float32, ``(batch, num_classes)``). Token ids come from the
  run's tokenizer (``tokenizer/``), with [CLS] first, exactly as
  :func:`scratchlm.predict.classify.encode_texts` makes them.
- A tagger has two: ``emissions`` (float32, ``(batch, sequence, num_tags)``, the per-token tag scores)
  and ``tags`` (int64, ``(batch, sequence)``): the best tag per token (softmax head) or the Viterbi path
  of the CRF, decoded inside the graph by two ONNX ``Scan`` loops
  (:meth:`~scratchlm.modules.crf.ConditionalRandomField.decode_scan`), so any length up to
  ``max_seq_len`` decodes with the scheme's constraints and no code outside the graph. Ids are one per
  unit (character), looked up in the run's vocabulary (:func:`scratchlm.tasks.tagging_units.encode_units`), no
  [CLS]; entries at padding positions mean nothing.

The labels (class names or tags), ``max_seq_len`` and the ids of [PAD] and [CLS] are stored in the
model's metadata, with a tagger's ``scheme``, ``units`` and ``head``.

Export goes through ``torch.export`` (``torch.onnx.export(..., dynamo=True)``) for opset 18 and
later: the attention's ``scaled_dot_product_attention`` with a boolean padding mask is decomposed
into plain ONNX ops, so the modules need no export-only code path. Opsets 14-17 (older runtimes)
use torch's TorchScript exporter, which torch has deprecated but still ships. After writing, the file is run with onnxruntime on
padded batches of several lengths and must match PyTorch within ``tolerance`` (1e-4 by default), a
tagger's tags exactly (``onnx_check.py``: the same batches through the one prediction path).

``quantize="int8"``: onnxruntime's dynamic quantization (int8 weights of MatMul and Gather,
activations quantized per batch at run time); its accuracy on the run's dev split is measured
against the float model's, since int8 changes predictions a little.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from scratchlm.errors import require
from scratchlm.export.onnx_check import (
    ExportError,
    accuracy_change,
    max_difference,
    probe_sequences,
    session,
    tagger_difference,
)

if TYPE_CHECKING:
    from scratchlm.training.run_dir import LoadedRun

INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAMES = ("logits",)
TAGGER_OUTPUT_NAMES = ("emissions", "tags")
DEFAULT_OPSET = 18
TORCH_EXPORT_MIN_OPSET = 18
# Opset 23 turns SDPA into the ONNX Attention op, and onnxruntime's CPU kernel for it rejects the
# (b, 1, 1, s) padding mask the attention module broadcasts (it wants (b, 1, s, s)).
OPSETS = range(14, 23)
QUANTIZATIONS = ("int8",)


class OnnxClassifier(nn.Module):
    """The exported signature: ``input_ids (b, s) int64, attention_mask (b, s) int64 -> logits (b, C)``."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids, attention_mask.bool())


class OnnxTagger(nn.Module):
    """``input_ids (b, s) int64, attention_mask (b, s) int64 -> emissions (b, s, T) float32, tags (b, s)
    int64``: the tagger's scores and its decoding (Viterbi through scans with a CRF, else argmax)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mask = attention_mask.bool()
        emissions = self.model(input_ids, mask).float()  # (b, s, T)
        if self.model.crf is not None:
            return emissions, self.model.crf.decode_scan(emissions, mask)
        return emissions, emissions.argmax(-1)


def output_names(run: LoadedRun) -> tuple[str, ...]:
    return run.handler().export_outputs


def _has_crf(run: LoadedRun) -> bool:
    return getattr(run.model, "crf", None) is not None


@contextlib.contextmanager
def _quiet():
    """The exporter reports its progress on stdout and through warnings; keep them for errors only."""
    buffer = io.StringIO()
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "torch.export", "torch._dynamo", "")]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(buffer),
            contextlib.redirect_stderr(buffer),
        ):
            warnings.simplefilter("ignore")
            yield buffer
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _example(run: LoadedRun) -> tuple[torch.Tensor, torch.Tensor]:
    # batch 2 and length 3 (not 0 or 1), so torch.export does not specialise either axis to the example
    first = run.tokenizer.vocab.cls_id if run.handler().reads_cls else 8  # a tagger reads no [CLS]
    ids = torch.tensor([[first, 5, 6], [first, 7, run.tokenizer.vocab.pad_id]])
    return ids, (ids != run.tokenizer.vocab.pad_id).long()


@contextlib.contextmanager
def _frozen(model: nn.Module):
    """No parameter requires a gradient while the graph is traced (the CRF's scans refuse them)."""
    flags = [p.requires_grad for p in model.parameters()]
    try:
        model.requires_grad_(False)
        with torch.no_grad():
            yield
    finally:
        for p, flag in zip(model.parameters(), flags, strict=True):
            p.requires_grad_(flag)


def _forget_cached_rnn_kernels() -> None:
    """``torch.onnx.export`` swaps in a while-loop decomposition of LSTM/GRU for the export (a graph
    loop over a dynamic length), but an RNN op that already ran in this process (an earlier export's
    check) keeps its cached kernel, which unrolls the loop for the example's length: the second LSTM
    export in a process came out with a fixed sequence length. Dropping the cache lets the swap work."""
    for op in (torch.ops.aten.lstm.input, torch.ops.aten.gru.input):
        cache = getattr(op, "_dispatch_cache", None)
        if cache is not None:
            cache.clear()


def _export_float(run: LoadedRun, path: Path, opset: int) -> None:
    _forget_cached_rnn_kernels()
    tagging = run.handler().export_per_token
    model = (OnnxTagger if tagging else OnnxClassifier)(run.model).eval()
    outputs = list(output_names(run))
    with _quiet() as log, _frozen(model):
        try:
            if opset >= TORCH_EXPORT_MIN_OPSET:
                batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence", max=run.max_seq_len)
                axes = {0: batch, 1: sequence}
                program = torch.onnx.export(
                    model,
                    _example(run),
                    None,
                    dynamo=True,
                    opset_version=opset,
                    input_names=list(INPUT_NAMES),
                    output_names=outputs,
                    dynamic_shapes={"input_ids": axes, "attention_mask": axes},
                )
                program.save(str(path))
            else:  # torch.export's exporter starts at opset 18; older runtimes get the TorchScript exporter
                axes = {0: "batch", 1: "sequence"}
                out_axes = {name: axes for name in outputs} if tagging else {"logits": {0: "batch"}}
                torch.onnx.export(
                    model,
                    _example(run),
                    str(path),
                    dynamo=False,
                    opset_version=opset,
                    input_names=list(INPUT_NAMES),
                    output_names=outputs,
                    dynamic_axes={"input_ids": axes, "attention_mask": axes, **out_axes},
                )
        except Exception as exc:  # noqa: BLE001 - the exporter raises many kinds; all mean the same to the user
            tail = log.getvalue().strip().splitlines()[-5:]
            raise ExportError(
                f"torch.onnx.export failed with opset {opset}: {type(exc).__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}" + (f" ({' | '.join(tail)})" if tail else "")
            ) from exc
    import onnx

    graph = onnx.load(str(path), load_external_data=False)
    got = next((o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")), None)
    if got != opset:
        raise ExportError(
            f"the exporter wrote opset {got}, not the {opset} asked for; choose another --opset"
        )
    fixed = {
        i.name: [d.dim_value for d in i.type.tensor_type.shape.dim]
        for i in graph.graph.input
        if any(d.HasField("dim_value") for d in i.type.tensor_type.shape.dim)
    }
    if fixed:  # a capture strategy that lost the dynamic axes: the graph would refuse other shapes
        raise ExportError(
            f"the exporter fixed the input shapes {fixed} instead of keeping batch and sequence dynamic; "
            "please report it with the run's config.yaml"
        )


def _add_metadata(path: Path, run: LoadedRun, extra: dict[str, str]) -> None:
    import onnx

    import scratchlm

    model = onnx.load(str(path))
    vocab = run.tokenizer.vocab
    meta = {
        "scratchlm_version": scratchlm.__version__,
        "task": run.task,
        "labels": json.dumps(run.labels, ensure_ascii=False),
        "max_seq_len": str(run.max_seq_len),
        "pad_id": str(vocab.pad_id),
        "cls_id": str(vocab.cls_id),
        "truncation": run.config.data.truncation,
        "run": run.path.name,
        **extra,
    }
    if run.handler().export_per_token:
        meta["scheme"] = run.meta.get("scheme") or run.config.data.tag_scheme
        meta["units"] = run.meta.get("units", "chars")
        meta["head"] = "crf" if _has_crf(run) else "softmax"
        meta["normalize"] = json.dumps(run.tokenizer.normalize)
        meta["lowercase"] = json.dumps(run.tokenizer.lowercase)
    del model.metadata_props[:]
    for key, value in meta.items():
        model.metadata_props.add(key=key, value=value)
    if run.handler().export_per_token:
        _name_sequence_axis(model)
    onnx.save(model, str(path))


def _name_sequence_axis(model) -> None:
    """A tagger's outputs are ``(batch, sequence, ...)``. With an LSTM/GRU the exporter declares the
    example's length (3) as their second axis, though the graph computes any length; onnxruntime then
    warns on every other length. Declare the axis as the inputs do."""
    for output in model.graph.output:
        dim = output.type.tensor_type.shape.dim[1]
        dim.ClearField("dim_value")
        dim.dim_param = "sequence"


def _quantize_int8(source: Path, target: Path) -> None:
    quantization = require("onnxruntime.quantization", "onnx", "int8 quantization")
    with _quiet() as log:
        try:
            quantization.quantize_dynamic(str(source), str(target), weight_type=quantization.QuantType.QInt8)
        except Exception as exc:  # noqa: BLE001
            raise ExportError(
                f"int8 quantization failed: {type(exc).__name__}: {exc} {log.getvalue()[-300:]}"
            ) from exc


def check_options(run: LoadedRun, opset: int, quantize: str | None) -> None:
    """What this version cannot export, each a one-line :class:`ExportError`, before any work is done."""
    require("onnx", "onnx", "ONNX export")
    require("onnxscript", "onnx", "ONNX export")
    require("onnxruntime", "onnx", "checking the ONNX export")
    if opset not in OPSETS:
        raise ExportError(
            f"--opset {opset}: use an opset from {OPSETS.start} to {OPSETS[-1]} (default {DEFAULT_OPSET}); "
            "opset 23 maps attention to an op whose onnxruntime CPU kernel rejects a padding mask"
        )
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise ExportError(f"--quantize {quantize!r}: this version offers {', '.join(QUANTIZATIONS)}")
    if run.config.model.encoder.kind == "rnn":
        raise ExportError(
            "export onnx of model.encoder.kind=rnn is not supported: torch's exporter has a loop for LSTM and "
            "GRU but unrolls the plain RNN over the example's length, fixing the sequence axis; use lstm or gru"
        )
    task = run.handler()
    if not task.export_outputs:
        raise ExportError(f"export onnx writes classifier and tagger runs; {run.path} is a {run.task} run")
    if quantize is not None and not task.export_quantizable:
        raise ExportError("--quantize int8 is for classifiers in this version; export the tagger in float32")
    if task.export_per_token and _has_crf(run) and opset < TORCH_EXPORT_MIN_OPSET:
        raise ExportError(
            f"--opset {opset}: a CRF tagger decodes with ONNX Scan loops that only torch.export writes; "
            f"use --opset {TORCH_EXPORT_MIN_OPSET} or later"
        )


def _signature(run: LoadedRun, out: Path, opset: int, quantize: str | None) -> dict[str, Any]:
    """The report's first entries: what was asked for and the graph's inputs and outputs."""
    report: dict[str, Any] = {
        "out": str(out),
        "opset": opset,
        "quantize": quantize,
        "task": run.task,
        "inputs": {name: ["batch", "sequence"] for name in INPUT_NAMES},
        "outputs": {"logits": ["batch", len(run.labels)]},
        "max_seq_len": run.max_seq_len,
    }
    if run.handler().export_per_token:
        report["outputs"] = {
            "emissions": ["batch", "sequence", len(run.labels)],
            "tags": ["batch", "sequence"],
        }
        report["head"] = "crf" if _has_crf(run) else "softmax"
    return report


def _write_float(run: LoadedRun, path: Path, opset: int, tolerance: float, report: dict[str, Any]):
    """Export the float32 graph to ``path`` and check it against PyTorch on the probe batches (logits
    within ``tolerance``, a tagger's tags exactly); returns its onnxruntime session."""
    _export_float(run, path, opset)
    _add_metadata(path, run, {"quantization": "none"})
    sess = session(path)
    if run.handler().export_per_token:
        diff, differ, compared = tagger_difference(run, sess, probe_sequences(run))
        report["tags_compared"], report["tags_different"] = compared, differ
    else:
        diff, differ = max_difference(run, sess, probe_sequences(run)), 0
    report["max_abs_diff_vs_torch"] = diff
    if not diff <= tolerance:
        raise ExportError(
            f"the ONNX graph differs from PyTorch by {diff:.3g} (> {tolerance:g}) on the probe batches"
        )
    if differ:
        raise ExportError(f"the ONNX graph's tags differ from PyTorch's at {differ} of {compared} positions")
    return sess


def _write_int8(
    run: LoadedRun, float_path: Path, path: Path, float_sess, measure_accuracy: bool, report: dict[str, Any]
) -> None:
    """Quantize the float graph into ``path``; its difference from PyTorch and, with
    ``measure_accuracy``, the dev accuracy of both graphs go into ``report``."""
    _quantize_int8(float_path, path)
    _add_metadata(path, run, {"quantization": "int8-dynamic"})
    int8_sess = session(path)
    report["int8_max_abs_diff_vs_torch"] = max_difference(run, int8_sess, probe_sequences(run))
    if measure_accuracy:
        report["accuracy"] = accuracy_change(run, float_sess, int8_sess)
    report["float_bytes"] = float_path.stat().st_size


def export_onnx(
    run: LoadedRun,
    out: str | Path,
    *,
    opset: int = DEFAULT_OPSET,
    quantize: str | None = None,
    tolerance: float = 1e-4,
    measure_accuracy: bool = True,
) -> dict[str, Any]:
    """Write ``out`` (float32, or int8 with ``quantize="int8"``) and return a report: the largest
    |onnxruntime - PyTorch| logit difference of the float graph, and for int8 the dev accuracy of both.
    The graphs are written in a temporary folder beside ``out``: a failed check leaves no file."""
    check_options(run, opset, quantize)
    out = Path(out)
    if out.is_dir():
        raise ExportError(f"--out {out} is a directory; give a file name such as {out / 'model.onnx'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    report = _signature(run, out, opset, quantize)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".onnx-export-") as tmp:
        final = float_path = Path(tmp) / "float.onnx"
        float_sess = _write_float(run, float_path, opset, tolerance, report)
        if quantize == "int8":
            final = Path(tmp) / "int8.onnx"
            _write_int8(run, float_path, final, float_sess, measure_accuracy, report)
        final.replace(out)
    report["bytes"] = out.stat().st_size
    report["seconds"] = round(time.perf_counter() - start, 2)
    return report
