"""Text classification (``data.task: classification``): one label per text, cross-entropy (binary
cross-entropy with ``model.head: sigmoid``), accuracy, macro-F1 and the loss, a confusion matrix; ``predict`` gives each text's label and probabilities, ``serve`` answers
``/v1/classify`` and ``/v1/embed``, ``export onnx`` writes the logits and probabilities."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from scratchlm.config import RunConfig
from scratchlm.data import Example, load_classification_data
from scratchlm.data.collate import Batch, make_batch
from scratchlm.errors import ConfigError, DataError
from scratchlm.tasks.base import Task, with_data
from scratchlm.tasks.metrics import classification_metrics, format_metrics

if TYPE_CHECKING:
    from scratchlm.training.run_dir import LoadedRun


@dataclass
class EncodedSplit:
    seqs: list[list[int]]
    labels: list[int]
    truncated: int = 0


def encode_split(
    tokenizer, examples: list[Example], label_ids: dict[str, int], max_len: int, truncation: str = "end"
) -> EncodedSplit:
    out = EncodedSplit([], [])
    for ex in examples:
        enc = tokenizer.encode(ex.text, max_len=max_len, truncation=truncation)
        out.seqs.append(enc.ids)
        out.labels.append(label_ids[ex.label])
        out.truncated += enc.truncated > 0
    return out


def classification_loss(
    logits: torch.Tensor, labels: torch.Tensor, head: str = "softmax", label_smoothing: float = 0.0
) -> torch.Tensor:
    """Mean cross-entropy of ``logits (b, C)``; ``head="sigmoid"``: the binary cross-entropy of the one
    output ``z = logits[:, 1]`` (:class:`~scratchlm.modules.heads.SigmoidHead` gives ``[0, z]``) against
    ``labels`` in {0, 1}, smoothed towards 1/2 as cross-entropy's label smoothing is towards 1/C (the two
    are then the same number)."""
    if head == "sigmoid":
        target = labels.to(logits.dtype) * (1.0 - label_smoothing) + label_smoothing / 2
        return F.binary_cross_entropy_with_logits(logits[:, 1], target)
    return F.cross_entropy(logits, labels, label_smoothing=label_smoothing)


def evaluate_ids(
    model: torch.nn.Module,
    seqs: Sequence[list[int]],
    labels: Sequence[int],
    label_names: list[str],
    pad_id: int,
    batch_size: int = 128,
    device: str = "cpu",
) -> dict:
    """Accuracy, macro F1 and the rest of :func:`~scratchlm.tasks.metrics.classification_metrics` of
    the model's argmax over ``seqs`` against the gold ``labels`` (ids into ``label_names``)."""
    from scratchlm.predict.batching import predict_logits

    logits = predict_logits(model, seqs, pad_id, batch_size, device)
    preds = logits.argmax(-1).tolist() if len(seqs) else []
    metrics = classification_metrics(list(labels), preds, label_names)
    if len(seqs):  # mean cross-entropy: with a sigmoid head ([0, z] logits) the binary cross-entropy
        metrics["loss"] = float(F.cross_entropy(logits.float(), torch.as_tensor(list(labels))))
    return metrics


class ClassificationTask(Task):
    name = "classification"
    score_key = "accuracy"
    endpoints = ("classify", "embed")
    predicts_files = True
    export_outputs = ("logits",)
    export_quantizable = True
    plots_attention = True

    @classmethod
    def check_config(cls, cfg: RunConfig) -> None:
        super().check_config(cfg)
        if cfg.model.head not in ("softmax", "sigmoid"):
            raise ConfigError(
                f"model.head={cfg.model.head} is a tagger head; data.task={cls.name} uses softmax, or sigmoid "
                "for two labels"
            )

    def load(self) -> RunConfig:
        self.data = load_classification_data(self.cfg.data)
        self.cfg = with_data(self.cfg, task=self.name)
        return self.cfg

    def read_file(self, path: str, labels: list[str]) -> list[Example]:
        from scratchlm.data.files import read_examples

        d = self.cfg.data
        examples = read_examples(path, text_field=d.text_field, label_field=d.label_field)
        for ex in examples:
            if ex.label not in labels:
                raise DataError(
                    f"{ex.source}: label {ex.label!r} is not one the model knows ({', '.join(labels)})"
                )
        return examples

    def encode(self, tokenizer, examples: list, labels: list[str]) -> EncodedSplit:
        ids = {label: i for i, label in enumerate(labels)}
        return encode_split(tokenizer, examples, ids, self.cfg.data.max_seq_len, self.cfg.data.truncation)

    def encoding_note(self, enc: EncodedSplit) -> str | None:
        if enc.truncated:
            return f"{enc.truncated} of {len(enc.seqs)} texts truncated to data.max_seq_len={self.cfg.data.max_seq_len} tokens"
        return None

    def eval_note(self, enc: EncodedSplit) -> str | None:
        if enc.truncated:
            return f"{enc.truncated} texts were truncated to {self.cfg.data.max_seq_len} tokens"
        return None

    def extra_metrics(self, enc: EncodedSplit) -> dict:
        return {"truncated": enc.truncated}

    def build_model(
        self, vocab_size: int, num_labels: int, pad_id: int, labels: list[str] | None = None
    ) -> torch.nn.Module:
        from scratchlm.models import TextClassifier

        if self.cfg.model.head == "sigmoid" and num_labels != 2:
            raise ConfigError(
                f"model.head=sigmoid is one output for two labels, and the data has {num_labels}"
                + (f" ({', '.join(labels)})" if labels else "")
                + "; use model.head: softmax"
            )
        return TextClassifier(
            self.cfg.model,
            vocab_size=vocab_size,
            num_classes=num_labels,
            max_seq_len=self.cfg.data.max_seq_len,
            pad_id=pad_id,
        )

    def batch(self, enc: EncodedSplit, index: list[int], pad_id: int) -> Batch:
        return make_batch(enc.seqs, enc.labels, index, pad_id)

    def loss(self, model, batch: Batch, device: str) -> torch.Tensor:
        logits = model(batch.ids.to(device), batch.padding_mask.to(device))
        return classification_loss(
            logits, batch.labels.to(device), self.cfg.model.head, self.cfg.train.label_smoothing
        )

    def evaluate(
        self, model, enc: EncodedSplit, labels: list[str], pad_id: int, batch_size: int, device: str
    ) -> dict:
        return evaluate_ids(model, enc.seqs, enc.labels, labels, pad_id, batch_size, device)

    def eval_record(self, m: dict) -> dict:
        record = {"dev_accuracy": m["accuracy"], "dev_macro_f1": m["macro_f1"]}
        return record | ({"dev_loss": m["loss"]} if "loss" in m else {})

    def headline(self, m: dict) -> str:
        loss = f" loss {m['loss']:.4f}" if "loss" in m else ""
        return f"accuracy {m['accuracy']:.4f} macro-F1 {m['macro_f1']:.4f}{loss}"

    def format(self, m: dict, title: str = "") -> str:
        return format_metrics(m, title)

    def written_line(self, out: str, metrics: dict) -> str:
        test = metrics.get("test")
        return f"run written to {out}: dev accuracy {metrics['dev']['accuracy']:.4f}" + (
            f", test accuracy {test['accuracy']:.4f}" if test else ""
        )

    def plots(self, out: Path, metrics: dict) -> None:
        from scratchlm.viz import plots

        super().plots(out, metrics)
        plots.confusion_matrix(
            metrics.get("test", metrics["dev"]),
            out / "plots" / "confusion_matrix.png",
            title="test" if "test" in metrics else "dev",
        )

    def predict(self, run: LoadedRun, texts: Sequence[str], batch_size: int) -> list[dict]:
        from scratchlm.predict.classify import classify_encoded, encode_texts

        encodings = encode_texts(run, texts)
        predictions = classify_encoded(run, encodings, batch_size)
        return [
            {
                "text": text,
                "label": p["label"],
                "probabilities": p["probabilities"],
                "logits": p["logits"],
                "input_ids": enc.ids,
                "truncated": p["truncated"],
            }
            for text, enc, p in zip(texts, encodings, predictions, strict=True)
        ]

    def prediction_line(self, result: dict) -> str:
        return f"{result['label']}\t{result['probabilities'][result['label']]:.3f}\t{result['text']}"
