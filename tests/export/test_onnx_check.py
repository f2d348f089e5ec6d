"""The export checks without an export: a stand-in session that runs the PyTorch model shows that the
graph and PyTorch are fed the very same padded batches, in the same order, through one path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchlm.errors import DataError
from scratchlm.export import onnx_check
from scratchlm.export.onnx_check import (
    ExportError,
    accuracy_change,
    max_difference,
    onnx_logits,
    onnx_tags,
    probe_sequences,
    tagger_difference,
    torch_tags,
)
from scratchlm.predict.batching import decode_tags, predict_logits
from scratchlm.serve.synthetic import write_tiny_run, write_tiny_tagger_run
from scratchlm.training.run_dir import load_run


class TorchSession:
    """Answers ``run(None, feeds)`` as an onnxruntime session of the exported graph would, with the
    PyTorch model; records the shape of every batch."""

    def __init__(self, model: torch.nn.Module, tagger: bool = False):
        self.model, self.tagger, self.shapes = model, tagger, []

    @torch.no_grad()
    def run(self, _outputs, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        assert set(feeds) == {"input_ids", "attention_mask"}
        assert feeds["input_ids"].dtype == feeds["attention_mask"].dtype == np.int64
        ids, mask = torch.from_numpy(feeds["input_ids"]), torch.from_numpy(feeds["attention_mask"]).bool()
        self.shapes.append(tuple(ids.shape))
        scores = self.model(ids, mask).float().numpy()
        return [scores, self.model.decode(ids, mask).numpy()] if self.tagger else [scores]


class BrokenSession:
    def run(self, _outputs, _feeds):
        raise RuntimeError("[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : Got invalid dimensions\nsecond line")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return load_run(write_tiny_run(tmp_path_factory.mktemp("check-run")))


@pytest.fixture(scope="module")
def tagger(tmp_path_factory):
    return load_run(write_tiny_tagger_run(tmp_path_factory.mktemp("check-tagger"), head="crf"))


def test_probe_sequences_cover_every_length_up_to_max_seq_len(run, tagger):
    for r, first in ((run, [run.tokenizer.vocab.cls_id]), (tagger, [])):
        seqs = probe_sequences(r)
        lengths = sorted({len(s) for s in seqs})
        assert lengths[0] == 1 and lengths[-1] == r.max_seq_len and len(seqs) == 2 * len(lengths)
        specials = len(r.tokenizer.vocab.special_ids)
        for s in seqs:
            body = s[len(first) :]
            assert s[: len(first)] == first and all(specials <= i < len(r.tokenizer.vocab) for i in body)
    assert probe_sequences(run) == probe_sequences(run) != probe_sequences(run, seed=1)


@pytest.mark.parametrize("batch_size", [1, 3, 128])
def test_the_graph_sees_the_batches_pytorch_sees(run, batch_size):
    seqs = probe_sequences(run)
    pad = run.tokenizer.vocab.pad_id
    sess = TorchSession(run.model)
    got = onnx_logits(sess, seqs, pad, batch_size=batch_size)
    np.testing.assert_array_equal(got, predict_logits(run.model, seqs, pad, batch_size=batch_size).numpy())
    assert [b for b, _ in sess.shapes] == [
        min(batch_size, len(seqs) - i) for i in range(0, len(seqs), batch_size)
    ]
    assert [s for _, s in sess.shapes] == sorted(s for _, s in sess.shapes)  # batches formed by length
    assert max_difference(run, TorchSession(run.model), seqs) == 0.0


def test_tags_through_the_graph_and_through_pytorch(tagger):
    seqs = probe_sequences(tagger)
    pad = tagger.tokenizer.vocab.pad_id
    em, tags = onnx_tags(TorchSession(tagger.model, tagger=True), seqs, pad, batch_size=3)
    ref_em, ref_tags = torch_tags(tagger.model, seqs, pad, batch_size=5)
    assert tags == ref_tags == decode_tags(tagger.model, seqs, pad)
    assert [e.shape for e in em] == [(len(s), len(tagger.labels)) for s in seqs]
    for a, b in zip(em, ref_em, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)
    diff, differ, compared = tagger_difference(tagger, TorchSession(tagger.model, tagger=True), seqs)
    assert diff < 1e-6 and differ == 0 and compared == sum(map(len, seqs))


def test_empty_input(run):
    assert onnx_logits(TorchSession(run.model), [], run.tokenizer.vocab.pad_id).shape == (0, 0)
    assert onnx_tags(TorchSession(run.model, tagger=True), [], 0) == ([], [])


def test_a_graph_that_fails_to_run_is_a_one_line_export_error(run, tagger):
    seqs = probe_sequences(run)
    with pytest.raises(
        ExportError, match="onnxruntime cannot run the exported graph: .*INVALID_ARGUMENT"
    ) as err:
        max_difference(run, BrokenSession(), seqs)
    assert "\n" not in str(err.value)
    with pytest.raises(ExportError, match="cannot run the exported graph"):
        tagger_difference(tagger, BrokenSession(), probe_sequences(tagger))


def test_accuracy_change_of_two_graphs(run, monkeypatch):
    same = accuracy_change(run, TorchSession(run.model), TorchSession(run.model))
    assert same["split"].endswith("dev (8 examples)")
    assert same["change"] == 0.0 and same["agreement"] == 1.0 and same["float32"] == same["int8"]
    seqs, labels, _ = onnx_check.dev_sequences(run)
    preds = predict_logits(run.model, seqs, run.tokenizer.vocab.pad_id).argmax(-1)
    assert same["float32"] == round(float((preds == torch.tensor(labels)).float().mean()), 4)

    def unreadable(_run):
        raise DataError("dev.jsonl: input file not found")

    monkeypatch.setattr(onnx_check, "dev_sequences", unreadable)
    assert "input file not found" in accuracy_change(run, None, None)["error"]
    monkeypatch.setattr(onnx_check, "dev_sequences", lambda _run: ([], [], "empty"))
    assert accuracy_change(run, None, None) == {"error": "the dev split is empty, accuracy not measured"}
