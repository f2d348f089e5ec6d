"""``scratchlm export onnx``: the graph's signature, parity with PyTorch (1e-4) and int8."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch

from scratchlm.export.onnx import export_onnx, onnx_logits, session
from scratchlm.predict.batching import predict_logits
from scratchlm.serve.engine import encode_texts
from scratchlm.serve.synthetic import TINY_TEXTS, write_tiny_run
from scratchlm.training.run_dir import load_run

TEXTS = [t for ts in TINY_TEXTS.values() for t in ts] + ["短", "abc 中文 mixed, with spaces " * 3]

# The demo recipe's input layer (hashed bigrams + sinusoidal, mean pooling) and the other variants
# that change the graph: learned positions with [CLS] pooling, mean+max pooling without bigrams.
VARIANTS = {
    "bigram-sinusoidal-mean": {"bigram_buckets": 97, "positional": "sinusoidal", "pooling": "mean"},
    "learned-cls-2layers": {"bigram_buckets": 0, "positional": "learned", "pooling": "cls", "num_layers": 2},
    "none-mean_max": {"bigram_buckets": 0, "positional": "none", "pooling": "mean_max"},
    # recurrent encoders: packed sequences in PyTorch, a masked LSTM/GRU in the graph
    "bilstm-mean": {"encoder": "lstm", "num_layers": 2, "positional": "none", "pooling": "mean"},
    "gru-max": {"encoder": "gru", "bidirectional": False, "positional": "none", "pooling": "max"},
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_export_matches_pytorch(tmp_path, variant):
    run = load_run(write_tiny_run(tmp_path, **VARIANTS[variant]))
    out = tmp_path / "model.onnx"
    report = export_onnx(run, out)
    assert report["max_abs_diff_vs_torch"] < 1e-4

    model = onnx.load(str(out))
    inputs = {i.name: i.type.tensor_type for i in model.graph.input}
    assert list(inputs) == ["input_ids", "attention_mask"]
    for t in inputs.values():
        assert t.elem_type == onnx.TensorProto.INT64
        assert all(d.dim_param and not d.dim_value for d in t.shape.dim)  # both axes dynamic
    assert [o.name for o in model.graph.output] == ["logits"]
    meta = {p.key: p.value for p in model.metadata_props}
    assert json.loads(meta["labels"]) == run.labels and int(meta["max_seq_len"]) == run.max_seq_len

    # real texts through the real tokenizer, batches of several sizes and lengths (padding inside)
    sess = session(out)
    seqs = [e.ids for e in encode_texts(run, TEXTS)]
    reference = predict_logits(run.model, seqs, run.tokenizer.vocab.pad_id, batch_size=len(seqs)).numpy()
    for batch_size in (1, 3, len(seqs)):
        got = onnx_logits(sess, seqs, run.tokenizer.vocab.pad_id, batch_size=batch_size)
        np.testing.assert_allclose(got, reference, atol=1e-4, rtol=0)


def test_int8_reports_its_accuracy_change(tmp_path):
    run = load_run(write_tiny_run(tmp_path, embed_dim=32, ffn_dim=64))
    report = export_onnx(run, tmp_path / "int8.onnx", quantize="int8")
    acc = report["accuracy"]
    assert acc["split"].endswith("dev (8 examples)")
    assert 0 <= acc["float32"] <= 1 and 0 <= acc["int8"] <= 1
    assert acc["change"] == pytest.approx(acc["int8"] - acc["float32"], abs=1e-4)
    assert report["bytes"] < report["float_bytes"]
    assert report["int8_max_abs_diff_vs_torch"] < 0.1  # int8 is close, not equal
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "int8.onnx")).metadata_props}
    assert meta["quantization"] == "int8-dynamic"


def test_longer_than_max_seq_len_is_refused_by_the_graph(tmp_path):
    run = load_run(write_tiny_run(tmp_path, positional="learned"))
    export_onnx(run, tmp_path / "m.onnx")
    ids = torch.full((1, run.max_seq_len + 5), 7).numpy()
    with pytest.raises(Exception):  # noqa: B017 - onnxruntime's own error type
        session(tmp_path / "m.onnx").run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
