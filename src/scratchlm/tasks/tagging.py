"""Sequence tagging (``data.task: tagging``): one tag per unit (word segmentation as BMES, named entities
as BIO), token cross-entropy or a CRF's likelihood, strict span F1; ``predict`` gives the words or the
entities with their character offsets, ``serve`` answers ``/v1/tag``, ``export onnx`` writes the tags.
Units, windows and decoding back to spans: :mod:`scratchlm.tasks.tagging_units`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from scratchlm.config import DataConfig, RunConfig
from scratchlm.data.collate import Batch, make_tag_batch
from scratchlm.errors import ConfigError, DataError
from scratchlm.tasks.base import Task, with_data
from scratchlm.tasks.metrics import format_span_metrics

if TYPE_CHECKING:
    from scratchlm.training.run_dir import LoadedRun


class TaggingTask(Task):
    name = "tagging"
    score_key = "f1"
    endpoints = ("tag",)
    export_outputs = ("emissions", "tags")
    export_per_token = True
    reads_cls = False
    plots_attention = True
    metric_noun = "sentences"

    @classmethod
    def check_config(cls, cfg: RunConfig) -> None:
        super().check_config(cfg)
        if cfg.model.head == "sigmoid":
            raise ConfigError(
                "model.head=sigmoid is a two-class classifier head; data.task=tagging uses softmax or crf"
            )
        if cfg.data.tokenizer != "char":
            raise ConfigError(
                f"data.task={cls.name} tags one unit per character (or per given token) and needs "
                f"data.tokenizer=char, not {cfg.data.tokenizer}"
            )

    @classmethod
    def detects(cls, data: DataConfig) -> bool:
        from scratchlm.data.tagging import is_tagging_file

        return is_tagging_file(data.train_file or data.dataset, data.tags_field)

    def load(self) -> RunConfig:
        from scratchlm.data.tagging import load_tagging_data

        self.data = load_tagging_data(self.cfg.data)
        self.cfg = with_data(self.cfg, task=self.name, tag_scheme=self.data.scheme)
        return self.cfg

    @property
    def scheme(self) -> str:
        return self.data.scheme if self.data is not None else self.cfg.data.tag_scheme

    def build_tokenizer(self, examples: list):
        from scratchlm.tasks.tagging_units import build_unit_tokenizer

        return build_unit_tokenizer(self.cfg.data, [ex.tokens for ex in examples])

    def check_tokenizer(self, tokenizer, source: Path) -> None:
        from scratchlm.tokenizers import CharTokenizer

        if not isinstance(tokenizer, CharTokenizer):
            raise ConfigError(
                f"model.init {source}: a tagger needs a character tokenizer, and the pretraining run used "
                f"{type(tokenizer).__name__}"
            )

    def metadata(self, examples: list) -> dict:
        # raw text is split into characters for predict unless the training tokens were longer
        words = any(not isinstance(ex.tokens, str) for ex in examples)
        return {"scheme": self.scheme, "units": "tokens" if words else "chars"}

    def read_file(self, path: str, labels: list[str]) -> list:
        from scratchlm.data.tagging import check_examples, read_tagged_file

        d = self.cfg.data
        examples = check_examples(
            read_tagged_file(
                path, tokens_field=d.tokens_field, text_field=d.text_field, tags_field=d.tags_field
            ),
            self.scheme,
        )
        known = set(labels)
        for ex in examples:
            for tag in ex.tags:
                if tag not in known:
                    raise DataError(
                        f"{ex.source}: tag {tag!r} is not one the model knows ({', '.join(labels)})"
                    )
        return examples

    def encode(self, tokenizer, examples: list, labels: list[str]):
        from scratchlm.tasks.tagging_units import encode_examples

        return encode_examples(tokenizer, examples, labels, self.cfg.data.max_seq_len)

    def encoding_note(self, enc) -> str | None:
        if enc.cut:
            return (
                f"{enc.cut} of {len(enc.lengths)} sentences longer than data.max_seq_len={self.cfg.data.max_seq_len} "
                f"units, each cut into windows ({len(enc.seqs)} windows in all; nothing is dropped)"
            )
        return None

    def extra_metrics(self, enc) -> dict:
        return {"windows": len(enc.seqs), "sentences_cut": enc.cut}

    def build_model(
        self, vocab_size: int, num_labels: int, pad_id: int, labels: list[str] | None = None
    ) -> torch.nn.Module:
        """A tagger; with a CRF head it gets its scheme's transition rules from the tag names."""
        from scratchlm.data.schemes import get_scheme
        from scratchlm.models import TokenTagger

        rules = None
        if labels is not None and self.cfg.data.tag_scheme != "auto":
            rules = get_scheme(self.cfg.data.tag_scheme).transition_rules(labels)
        return TokenTagger(
            self.cfg.model,
            vocab_size=vocab_size,
            num_tags=num_labels,
            max_seq_len=self.cfg.data.max_seq_len,
            pad_id=pad_id,
            transition_rules=rules,
        )

    def batch(self, enc, index: list[int], pad_id: int) -> Batch:
        return make_tag_batch(enc.seqs, enc.tags, index, pad_id)

    def loss_weight(self, batch: Batch) -> int:
        return int(batch.padding_mask.sum())

    def loss(self, model, batch: Batch, device: str) -> torch.Tensor:
        return model.loss(
            batch.ids.to(device),
            batch.padding_mask.to(device),
            batch.labels.to(device),
            label_smoothing=self.cfg.train.label_smoothing,
        )

    def evaluate(self, model, enc, labels: list[str], pad_id: int, batch_size: int, device: str) -> dict:
        from scratchlm.predict.batching import decode_tags
        from scratchlm.tasks.tagging_units import evaluate_tags, join_windows, span_types

        predicted = join_windows(enc, decode_tags(model, enc.seqs, pad_id, batch_size, device))
        gold = join_windows(enc, enc.tags)
        names = [[labels[i] for i in row] for row in predicted]
        gold_names = [[labels[i] for i in row] for row in gold]
        return evaluate_tags(names, gold_names, self.scheme, span_types(labels, self.scheme))

    def eval_record(self, m: dict) -> dict:
        return {"dev_f1": m["f1"], "dev_precision": m["precision"], "dev_recall": m["recall"]}

    def headline(self, m: dict) -> str:
        return f"F1 {m['f1']:.4f} (P {m['precision']:.4f} R {m['recall']:.4f})"

    def format(self, m: dict, title: str = "") -> str:
        return format_span_metrics(m, title)

    def written_line(self, out: str, metrics: dict) -> str:
        test = metrics.get("test")
        return f"run written to {out}: dev F1 {metrics['dev']['f1']:.4f}" + (
            f", test F1 {test['f1']:.4f}" if test else ""
        )

    def predict(self, run: LoadedRun, texts: Sequence[str], batch_size: int) -> list[dict]:
        from scratchlm.tasks.tagging_units import tag_texts

        return tag_texts(run, texts, batch_size)

    def model_inputs(self, run: LoadedRun, text: str) -> tuple[list[int], list[str], int]:
        """One unit (character, or whitespace token) per position: the first window, as the tagger reads it."""
        from scratchlm.tasks.tagging_units import encode_units, text_units

        units = [u for u, _ in text_units(text, run.meta.get("units", "chars"))]
        kept = units[: run.max_seq_len]
        return encode_units(run.tokenizer, kept), kept, len(units) - len(kept)

    def prediction_line(self, result: dict) -> str:
        """Word segmentation prints the words separated by spaces; NER the entities as ``text/TYPE``."""
        spans = result["spans"]
        if spans and all(s["type"] == "word" for s in spans):
            return result["output"]
        return "  ".join(f"{s['text']}/{s['type']}" for s in spans) or "(no entities)"

    def prediction_note(self, results: list[dict], run: LoadedRun) -> str | None:
        return None

    def placeholder_labels(self, num_classes: int) -> tuple[list[str], dict]:
        from scratchlm.data.builtin import TAGGING_LABELS

        d = self.cfg.data
        if d.dataset in TAGGING_LABELS and d.train_file is None:
            labels, scheme = TAGGING_LABELS[d.dataset]
            return list(labels), {"tag_scheme": scheme}
        return super().placeholder_labels(num_classes)

    def summary_note(self, labels: list[str], num_classes: int) -> str:
        return f"{len(labels)} tags ({', '.join(labels)})"
