"""The classification task: its evaluation (the loss too), the sigmoid head's binary cross-entropy,
prediction lines and what it tells the rest of the project."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from scratchlm.predict.batching import predict_logits
from scratchlm.serve.synthetic import write_tiny_run
from scratchlm.tasks.classification import ClassificationTask, classification_loss, evaluate_ids
from scratchlm.training.run_dir import load_run

SEQS = [[2, 5, 6, 7], [2, 8], [2, 9, 10, 11, 12, 13, 14, 15, 16, 17], [2, 5], [2, 6, 7, 8, 9], [2, 5, 5, 5]]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return load_run(write_tiny_run(tmp_path_factory.mktemp("classification-run")))


def test_evaluate_ids_scores_the_argmax(run):
    pad = run.tokenizer.vocab.pad_id
    preds = predict_logits(run.model, SEQS, pad).argmax(-1).tolist()
    assert evaluate_ids(run.model, SEQS, preds, run.labels, pad, batch_size=2)["accuracy"] == 1.0
    flipped = [1 - p for p in preds]
    assert evaluate_ids(run.model, SEQS, flipped, run.labels, pad)["accuracy"] == 0.0


def test_evaluate_nothing(run):
    metrics = evaluate_ids(run.model, [], [], run.labels, run.tokenizer.vocab.pad_id)
    assert metrics["num_examples"] == 0 and metrics["accuracy"] == 0.0


def test_the_run_is_a_classification_run(run):
    task = run.handler()
    assert isinstance(task, ClassificationTask) and run.task == "classification"
    assert task.endpoints == ("classify", "embed") and task.export_outputs == ("logits",)


def test_predict_and_its_lines(run):
    task = run.handler()
    results = task.predict(run, ["很好", "太差了"], batch_size=8)
    assert [r["text"] for r in results] == ["很好", "太差了"]
    for r in results:
        assert r["label"] in run.labels and abs(sum(r["probabilities"].values()) - 1) < 1e-5
        assert r["input_ids"][0] == run.tokenizer.vocab.cls_id
        line = task.prediction_line(r)
        assert line.split("\t") == [r["label"], f"{r['probabilities'][r['label']]:.3f}", r["text"]]


def test_prediction_options_it_does_not_take_are_refused(run):
    from scratchlm.errors import ConfigError

    assert run.handler(beam_size=None).name == "classification"
    with pytest.raises(ConfigError, match="beam_size: not an option of a classification run"):
        run.handler(beam_size=3)


def test_evaluation_reports_the_mean_cross_entropy(run):
    pad = run.tokenizer.vocab.pad_id
    labels = [0, 1, 1, 0, 1, 0]
    logits = predict_logits(run.model, SEQS, pad)
    metrics = evaluate_ids(run.model, SEQS, labels, run.labels, pad, batch_size=4)
    expected = -sum(logits[i].log_softmax(-1)[y].item() for i, y in enumerate(labels)) / len(labels)
    assert metrics["loss"] == pytest.approx(expected, rel=1e-5)
    task = ClassificationTask(run.config)
    assert f"loss {expected:.4f}" in task.format(metrics) and f"loss {expected:.4f}" in task.headline(metrics)
    assert task.eval_record(metrics)["dev_loss"] == metrics["loss"]


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_the_sigmoid_head_loss_is_binary_cross_entropy(smoothing):
    z = torch.randn(8)
    logits = torch.stack((torch.zeros(8), z), -1)  # what SigmoidHead returns
    y = torch.tensor([0, 1, 1, 0, 1, 1, 0, 0])
    loss = classification_loss(logits, y, "sigmoid", smoothing)
    target = y.float() * (1 - smoothing) + smoothing / 2
    by_hand = -(target * torch.log(torch.sigmoid(z)) + (1 - target) * torch.log(1 - torch.sigmoid(z))).mean()
    torch.testing.assert_close(loss, by_hand)
    # the same number as softmax cross-entropy over [0, z], label smoothing included
    torch.testing.assert_close(loss, F.cross_entropy(logits, y, label_smoothing=smoothing))
