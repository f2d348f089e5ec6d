"""``scratchlm export onnx``: the graph's signature, parity with PyTorch (1e-4) and int8, for classifiers;
for taggers, emissions within 1e-4 and tags identical to PyTorch's (Viterbi in the graph for a CRF), on
real texts cut into windows. Both in batches of several sizes."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch

from scratchlm.cli import main
from scratchlm.data.collate import pad_batch
from scratchlm.export.onnx import export_onnx
from scratchlm.export.onnx_check import onnx_logits, onnx_tags, session
from scratchlm.predict.batching import decode_tags, predict_logits
from scratchlm.predict.classify import encode_texts
from scratchlm.serve.synthetic import TINY_TEXTS, write_tiny_run, write_tiny_tagger_run
from scratchlm.tasks.tagging_units import encode_tagged, text_units
from scratchlm.training.run_dir import load_run

TEXTS = [t for ts in TINY_TEXTS.values() for t in ts] + ["短", "abc 中文 mixed, with spaces " * 3]

# The demo recipe's input layer (hashed bigrams + sinusoidal, mean pooling) and the other variants
# that change the graph: learned positions with [CLS] pooling, mean+max pooling without bigrams.
VARIANTS = {
    "bigram-sinusoidal-mean": {"bigram_buckets": 97, "positional": {"kind": "sinusoidal"}, "pooling": "mean"},
    "learned-cls-2layers": {
        "bigram_buckets": 0,
        "positional": {"kind": "learned"},
        "pooling": "cls",
        "encoder": {"num_layers": 2},
    },
    "none-mean_max": {"bigram_buckets": 0, "positional": {"kind": "none"}, "pooling": "mean_max"},
    # recurrent encoders: packed sequences in PyTorch, a masked LSTM/GRU in the graph
    "bilstm-mean": {
        "encoder": {"kind": "lstm", "num_layers": 2},
        "positional": {"kind": "none"},
        "pooling": "mean",
    },
    "gru-max": {
        "encoder": {"kind": "gru", "bidirectional": False},
        "positional": {"kind": "none"},
        "pooling": "max",
    },
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
    run = load_run(write_tiny_run(tmp_path, embed_dim=32, encoder={"ffn_dim": 64}))
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
    run = load_run(write_tiny_run(tmp_path, positional={"kind": "learned"}))
    export_onnx(run, tmp_path / "m.onnx")
    ids = torch.full((1, run.max_seq_len + 5), 7).numpy()
    with pytest.raises(Exception):  # noqa: B017 - onnxruntime's own error type
        session(tmp_path / "m.onnx").run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})


# ------------------------------------------------------------------------------------------ taggers
# The CWS recipe's architecture (BiLSTM + hashed character pairs + CRF) is exported through the CLI in
# `make test` (test_tagger_cli); the other encoders and heads are slow (an export takes 10-30 s on the
# shared 2 cores).
TAGGER_VARIANTS = {
    "gru-softmax": ({"encoder": {"kind": "gru", "bidirectional": False}, "bigram_buckets": 0}, 18),
    "transformer-alibi-crf": (
        {"head": "crf", "encoder": {"kind": "transformer"}, "positional": {"kind": "alibi"}},
        18,
    ),
    "transformer-rope-softmax": (
        {"encoder": {"kind": "transformer", "num_layers": 2}, "positional": {"kind": "rope"}},
        18,
    ),
    "bilstm-softmax-opset17": ({}, 17),
}


def _windows(run):
    units = [[u for u, _ in text_units(t)] for t in TEXTS]
    enc = encode_tagged(run.tokenizer, units, None, run.max_seq_len)
    assert enc.cut >= 1  # the long text is tagged in windows: a full-length sequence is among them
    return enc.seqs


def _check(run, out, report, head):
    """The report, the graph's signature and metadata, and parity on real texts in batches of 1, 3, all."""
    assert report["max_abs_diff_vs_torch"] < 1e-4 and report["tags_different"] == 0
    assert report["tags_compared"] > 0 and report["head"] == head

    model = onnx.load(str(out))
    inputs = {i.name: i.type.tensor_type for i in model.graph.input}
    assert list(inputs) == ["input_ids", "attention_mask"]
    assert all(d.dim_param and not d.dim_value for t in inputs.values() for d in t.shape.dim)
    assert [o.name for o in model.graph.output] == ["emissions", "tags"]
    shapes = [[d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] for o in model.graph.output]
    assert shapes == [["batch", "sequence", 4], ["batch", "sequence"]]
    if report["head"] == "crf":  # decoded inside the graph, by loops over the dynamic length
        assert sum(n.op_type == "Scan" for n in model.graph.node) == 2
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["task"] == "tagging" and json.loads(meta["labels"]) == ["B", "M", "E", "S"]
    assert meta["scheme"] == "bmes" and meta["units"] == "chars" and meta["head"] == report["head"]

    sess, pad = session(out), run.tokenizer.vocab.pad_id
    seqs = _windows(run)
    want = decode_tags(run.model, seqs, pad, batch_size=len(seqs))
    ids, mask = pad_batch(seqs, pad)
    with torch.no_grad():
        emissions = run.model(ids, mask).numpy()
    for batch_size in (1, 3, len(seqs)):
        got_em, got_tags = onnx_tags(sess, seqs, pad, batch_size=batch_size)
        assert got_tags == want
        for row, em in enumerate(got_em):
            np.testing.assert_allclose(em, emissions[row, : len(seqs[row])], atol=1e-4, rtol=0)


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(TAGGER_VARIANTS))
def test_tagger_export_matches_pytorch(tmp_path, variant):
    model_keys, opset = TAGGER_VARIANTS[variant]
    run = load_run(write_tiny_tagger_run(tmp_path, **model_keys))
    out = tmp_path / "tagger.onnx"
    _check(run, out, export_onnx(run, out, opset=opset), model_keys.get("head", "softmax"))


def test_tagger_cli(tmp_path, capsys):
    """The CWS recipe's tagger (BiLSTM, hashed character pairs, a lexicon, CRF) through the CLI; bad
    options. The lexicon's windows of 4 once made a length-3 example trace a window count of 1 as a
    constant, and onnxruntime failed on every other length."""
    run_dir = write_tiny_tagger_run(tmp_path, head="crf", lexicon={"source": "jieba", "max_len": 4})
    assert load_run(run_dir).model.input.lexicon_embedding.num_words > 0
    out = tmp_path / "m.onnx"
    assert main(["export", "onnx", str(run_dir), "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["task"] == "tagging" and report["outputs"]["tags"] == ["batch", "sequence"]
    _check(load_run(run_dir), out, report, "crf")
    for argv, words in (
        (["--quantize", "int8"], "--quantize int8 is for classifiers"),
        (["--opset", "17"], "a CRF tagger decodes with ONNX Scan loops"),
    ):
        assert main(["export", "onnx", str(run_dir), "--out", str(tmp_path / "x.onnx"), *argv]) == 2
        assert words in capsys.readouterr().err
    assert not (tmp_path / "x.onnx").exists()


@pytest.mark.slow
def test_two_lstm_exports_in_one_process_keep_the_sequence_axis(tmp_path):
    """torch's while-loop LSTM decomposition was skipped on a second export in the same process (the
    op's cached kernel), which fixed the sequence length at 3; export_onnx drops that cache."""
    for name in ("a", "b"):
        run = load_run(write_tiny_tagger_run(tmp_path / name, seed=len(name)))
        report = export_onnx(run, tmp_path / name / "m.onnx")
        assert report["tags_different"] == 0
        dims = [
            d.dim_param
            for d in onnx.load(str(tmp_path / name / "m.onnx")).graph.input[0].type.tensor_type.shape.dim
        ]
        assert dims == ["batch", "sequence"]


def test_a_plain_rnn_run_is_refused_with_the_reason():
    from types import SimpleNamespace

    from scratchlm.config import config_from_dict
    from scratchlm.export.onnx import check_options
    from scratchlm.export.onnx_check import ExportError

    cfg = config_from_dict({"model": {"encoder": {"kind": "rnn"}, "positional": {"kind": "none"}}})
    with pytest.raises(ExportError, match="model.encoder.kind=rnn is not supported"):
        check_options(SimpleNamespace(config=cfg), 18, None)
