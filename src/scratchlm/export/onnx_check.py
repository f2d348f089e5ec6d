"""Checking an exported ONNX graph against PyTorch: both run the same padded batches, formed by
:func:`scratchlm.predict.batching.map_batches` (the graph through an onnxruntime session, PyTorch
through :func:`~scratchlm.predict.batching.run_model`), on probe sequences of many lengths; and, for
int8, the dev accuracy of the float and the quantized graph."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from scratchlm.errors import ScratchLMError, require
from scratchlm.predict.batching import map_batches, predict_logits, run_model

if TYPE_CHECKING:
    from scratchlm.training.run_dir import LoadedRun


class ExportError(ScratchLMError):
    """The model could not be exported, or the export does not match PyTorch."""


def session(path: str | Path):
    ort = require("onnxruntime", "onnx", "running an ONNX model")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _feeds(ids: torch.Tensor, mask: torch.Tensor) -> dict[str, np.ndarray]:
    return {"input_ids": ids.numpy(), "attention_mask": mask.long().numpy()}


def onnx_logits(sess, seqs: Sequence[list[int]], pad_id: int, batch_size: int = 128) -> np.ndarray:
    """Logits ``(n, C)`` from an onnxruntime session, in input order (batches formed by length)."""
    rows = map_batches(
        seqs, pad_id, lambda ids, mask: sess.run(None, _feeds(ids, mask))[0], batch_size=batch_size
    )
    return np.stack(rows) if rows else np.zeros((0, 0), dtype=np.float32)


def onnx_tags(
    sess, seqs: Sequence[list[int]], pad_id: int, batch_size: int = 128
) -> tuple[list[np.ndarray], list[list[int]]]:
    """A tagger graph's emissions ``(len, T)`` and tag ids for each sequence, in input order."""

    def step(ids: torch.Tensor, mask: torch.Tensor) -> list[tuple[np.ndarray, list[int]]]:
        em, tg = sess.run(None, _feeds(ids, mask))  # (b, s, T), (b, s)
        return [(em[row, :n], tg[row, :n].tolist()) for row, n in enumerate(mask.sum(-1).tolist())]

    rows = map_batches(seqs, pad_id, step, batch_size=batch_size)
    return [em for em, _ in rows], [tags for _, tags in rows]


def torch_tags(
    model: nn.Module, seqs: Sequence[list[int]], pad_id: int, batch_size: int = 128
) -> tuple[list[np.ndarray], list[list[int]]]:
    """The same from PyTorch: ``model(ids, mask)`` and ``model.decode`` (the loop Viterbi)."""

    def step(ids: torch.Tensor, mask: torch.Tensor) -> list[tuple[np.ndarray, list[int]]]:
        em, tg = model(ids, mask).float(), model.decode(ids, mask)  # (b, s, T), (b, s)
        return [(em[row, :n].numpy(), tg[row, :n].tolist()) for row, n in enumerate(mask.sum(-1).tolist())]

    rows = run_model(model, seqs, pad_id, step, batch_size=batch_size)
    return [em for em, _ in rows], [tags for _, tags in rows]


def probe_sequences(run: LoadedRun, seed: int = 0) -> list[list[int]]:
    """Token id sequences of many lengths (1 .. max_seq_len), so batches hold padding: what the check runs."""
    g = torch.Generator().manual_seed(seed)
    vocab_size, cls_id = len(run.tokenizer.vocab), run.tokenizer.vocab.cls_id
    lengths = sorted(
        {1, 2, 3, 5, 8, 13, 21, run.max_seq_len // 2, run.max_seq_len - 1, run.max_seq_len} - {0}
    )
    head = [cls_id] if run.handler().reads_cls else []  # a tagger's ids are its units alone
    seqs = []
    for n in lengths:
        for _ in range(2):
            body = torch.randint(
                len(run.tokenizer.vocab.special_ids), vocab_size, (n - len(head),), generator=g
            ).tolist()
            seqs.append([*head, *body])
    return seqs


def _run_graph(fn, *args):
    """``fn(*args)``; a failure of onnxruntime becomes a one-line :class:`ExportError`."""
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - onnxruntime's errors have no common public base class
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ExportError(f"onnxruntime cannot run the exported graph: {first[:400]}") from exc


def max_difference(run: LoadedRun, sess, seqs: Sequence[list[int]]) -> float:
    """The largest |graph - PyTorch| logit difference on ``seqs`` (batches of 8)."""
    pad = run.tokenizer.vocab.pad_id
    reference = predict_logits(run.model, seqs, pad, batch_size=8).numpy()
    got = _run_graph(onnx_logits, sess, seqs, pad, 8)
    return float(np.abs(got - reference).max())


def tagger_difference(run: LoadedRun, sess, seqs: Sequence[list[int]]) -> tuple[float, int, int]:
    """``(max |emission difference|, tags that differ, tags compared)`` of the graph against PyTorch."""
    pad = run.tokenizer.vocab.pad_id
    ref_em, ref_tags = torch_tags(run.model, seqs, pad, batch_size=8)
    got_em, got_tags = _run_graph(onnx_tags, sess, seqs, pad, 8)
    diff = max(float(np.abs(a - b).max()) for a, b in zip(got_em, ref_em, strict=True))
    differ = sum(
        a != b for ga, ra in zip(got_tags, ref_tags, strict=True) for a, b in zip(ga, ra, strict=True)
    )
    return diff, differ, sum(map(len, seqs))


def dev_sequences(run: LoadedRun) -> tuple[list[list[int]], list[int], str]:
    """The run's dev split as ``eval`` reads it: (token ids, label ids, a name)."""
    from scratchlm.data import load_classification_data
    from scratchlm.training.loop import encode_split, subsample

    cfg = run.config
    data = load_classification_data(cfg.data)
    examples = subsample(data.split("dev"), cfg.data.max_eval_examples, cfg.train.seed)
    label_ids = {label: i for i, label in enumerate(run.labels)}
    enc = encode_split(run.tokenizer, examples, label_ids, run.max_seq_len, cfg.data.truncation)
    return enc.seqs, enc.labels, f"{data.name} dev ({len(examples)} examples)"


def accuracy_change(run: LoadedRun, float_sess, int8_sess) -> dict[str, Any]:
    """Dev accuracy of the float and the int8 graph, the change and how often they agree."""
    try:
        seqs, labels, name = dev_sequences(run)
    except ScratchLMError as exc:
        return {"error": f"the dev split could not be read, accuracy not measured ({exc})"}
    if not seqs:
        return {"error": "the dev split is empty, accuracy not measured"}
    pad = run.tokenizer.vocab.pad_id
    gold = np.asarray(labels)
    pred_float = onnx_logits(float_sess, seqs, pad).argmax(-1)
    pred_int8 = onnx_logits(int8_sess, seqs, pad).argmax(-1)
    acc_float, acc_int8 = float((pred_float == gold).mean()), float((pred_int8 == gold).mean())
    return {
        "split": name,
        "float32": round(acc_float, 4),
        "int8": round(acc_int8, 4),
        "change": round(acc_int8 - acc_float, 4),
        "agreement": round(float((pred_float == pred_int8).mean()), 4),
    }
