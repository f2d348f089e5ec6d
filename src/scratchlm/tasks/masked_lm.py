"""Masked-LM pretraining (``data.task: masked_lm``).

Raw texts from ``data.corpus`` (built-in ``pd1998-text`` and ``zh-reviews``, or ``.txt``/``.jsonl`` files)
are split by the sha1 rule on each text, so the dev and test sentences of ``pd1998-cws``/``pd1998-ner``
and of ``zh-reviews`` are never pretrained on. Masks are drawn per batch from a generator seeded with
``train.seed`` and the batch's example indices: the same batch always gets the same masks (exact resume,
the same dev masks at every evaluation), a batch of another epoch gets new ones. Evaluation reports the
accuracy of the predicted tokens and the perplexity ``exp(mean cross-entropy)`` over them.

With ``data.packing`` the texts (``[CLS] text [SEP]`` each) are joined and cut into blocks of
``data.max_seq_len`` tokens (:mod:`scratchlm.data.packing`); ``data.document_mask`` keeps attention inside
each text. :class:`PretrainingTask` holds what the masked and the causal LM
(:mod:`scratchlm.tasks.causal_lm`) share: the corpus, encoding and packing, evaluation.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from scratchlm.config import RunConfig
from scratchlm.data import Example, split_of
from scratchlm.data.collate import Batch, batch_order, pad_batch
from scratchlm.data.masking import mask_tokens, word_ids_from_offsets
from scratchlm.data.packing import pack_sequences
from scratchlm.errors import DataError
from scratchlm.models.masked_lm import IGNORE
from scratchlm.tasks.base import Task, with_data
from scratchlm.tokenizers.vocab import SPECIALS


@dataclass
class TextData:
    name: str
    splits: dict[str, list[Example]]
    labels: list[str] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)

    def split(self, name: str) -> list[Example]:
        return self.splits[name]


@dataclass
class MaskedSplit:
    seqs: list[list[int]]
    word_ids: list[list[int]] | None = None
    truncated: int = 0
    segments: list[list[int]] | None = None  # packed: each token's text number within its block
    texts: int = 0  # texts encoded (packed: more than the blocks)


def load_text_corpus(cfg: RunConfig) -> TextData:
    """Every text of ``data.corpus`` (or ``data.dataset``), de-duplicated, split by the sha1 rule."""
    from scratchlm.data.load import load_texts

    sources = cfg.data.corpus or [cfg.data.dataset]
    splits: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
    seen: set[str] = set()
    for source in sources:
        for text in load_texts(source):
            text = text.strip()
            if text and text not in seen:
                seen.add(text)
                splits[split_of(text)].append(Example(text, "", source))
    if not splits["train"]:
        raise DataError(f"data.corpus {', '.join(sources)}: no usable (non-empty) lines of text")
    return TextData(name="+".join(sources), splits=splits)


class PretrainingTask(Task):
    """Raw-text pretraining: what the masked and the causal LM share."""

    score_key = "accuracy"  # of the predicted tokens: what picks the saved weights
    pretrains = True
    metric_noun = "texts"
    vocab_size = 0
    add_sep = False  # unpacked texts end with [SEP] (the causal LM predicts the end of a text)

    def load(self) -> RunConfig:
        if self.cfg.data.shards is not None:  # the train split read from token shards
            from scratchlm.tasks.pretraining_shards import load_shard_splits

            self.data = TextData(name=self.cfg.data.shards, splits=load_shard_splits(self.cfg))
        else:
            self.data = load_text_corpus(self.cfg)
        self.cfg = with_data(self.cfg, task=self.name)
        return self.cfg

    def build_tokenizer(self, examples: list):
        from scratchlm.tasks.pretraining_shards import ShardSource

        if isinstance(examples, ShardSource):
            return examples.tokenizer()
        return super().build_tokenizer(examples)

    def texts(self, examples: list) -> list[str]:
        from scratchlm.tasks.pretraining_shards import ShardSource

        return [] if isinstance(examples, ShardSource) else super().texts(examples)

    def read_file(self, path: str, labels: list[str]) -> list[Example]:
        from scratchlm.data.load import load_texts

        return [Example(t, "", path) for t in load_texts(path)]

    def encode(self, tokenizer, examples: list, labels: list[str]) -> MaskedSplit:
        from scratchlm.tasks.pretraining_shards import ShardSource

        d = self.cfg.data
        self.vocab_size = len(tokenizer.vocab)  # random replacements come from the whole vocabulary
        if isinstance(examples, ShardSource):
            return examples.blocks(tokenizer, d.max_seq_len)  # a MaskedSplit read on demand
        out = MaskedSplit([], [] if d.whole_word_mask else None, texts=len(examples))
        cut = None
        if d.whole_word_mask:
            from scratchlm.tokenizers.jieba_word import segmenter

            cut = segmenter().lcut
        sep = [tokenizer.vocab.sep_id] if d.packing or self.add_sep else []
        budget = None if d.packing else d.max_seq_len - len(sep)
        for ex in examples:
            enc = tokenizer.encode(ex.text, max_len=budget, truncation=d.truncation)
            out.seqs.append(enc.ids + sep)
            out.truncated += enc.truncated > 0
            if cut is not None:
                words = word_ids_from_offsets(ex.text, enc.offsets, cut(ex.text))
                out.word_ids.append(words + [-1] * len(sep))
        if d.packing:
            blocks = pack_sequences(out.seqs, d.max_seq_len, extra=out.word_ids)
            out.seqs, out.segments = blocks.seqs, blocks.segments
            out.word_ids = blocks.extra if out.word_ids is not None else None
        return out

    def encoding_note(self, enc: MaskedSplit) -> str | None:
        if enc.segments is not None:
            where = "attention inside each text" if self.cfg.data.document_mask else "attention across texts"
            return (
                f"{enc.texts} texts packed into {len(enc.seqs)} blocks of up to "
                f"data.max_seq_len={self.cfg.data.max_seq_len} tokens ({where})"
            )
        if enc.truncated:
            return f"{enc.truncated} of {len(enc.seqs)} texts truncated to data.max_seq_len={self.cfg.data.max_seq_len} tokens"
        return None

    def extra_metrics(self, enc: MaskedSplit) -> dict:
        return {"truncated": enc.truncated}

    def segments(self, enc: MaskedSplit, index: list[int]) -> torch.Tensor | None:
        """``(b, s)`` text numbers of the packed blocks ``index`` (padding: -1), or ``None`` unpacked."""
        if enc.segments is None:
            return None
        return pad_batch([enc.segments[i] for i in index], -1)[0]

    def model_segments(self, batch: Batch) -> torch.Tensor | None:
        return batch.segments if self.cfg.data.document_mask else None

    def loss_weight(self, batch: Batch) -> int:
        return int((batch.labels != IGNORE).sum())

    def loss(self, model, batch: Batch, device: str) -> torch.Tensor:
        segments = self.model_segments(batch)
        return model.loss(
            batch.ids.to(device),
            batch.padding_mask.to(device),
            batch.labels.to(device),
            None if segments is None else segments.to(device),
        )

    @torch.no_grad()
    def evaluate(self, model, enc: MaskedSplit, labels, pad_id: int, batch_size: int, device: str) -> dict:
        was_training = model.training
        model.eval()
        total_loss, correct, count = 0.0, 0, 0
        lengths = [len(s) for s in enc.seqs]
        for index in batch_order(lengths, batch_size, shuffle=False):
            b = self.batch(enc, index, pad_id)
            targets = b.labels.to(device)
            segments = self.model_segments(b)
            logits = model(
                b.ids.to(device),
                b.padding_mask.to(device),
                targets,
                None if segments is None else segments.to(device),
            ).float()
            gold = targets[targets != IGNORE]
            total_loss += float(F.cross_entropy(logits, gold, reduction="sum"))
            correct += int((logits.argmax(-1) == gold).sum())
            count += len(gold)
        model.train(was_training)
        mean = total_loss / max(1, count)
        return {
            "accuracy": correct / max(1, count),
            "perplexity": math.exp(min(mean, 50.0)),
            "loss": mean,
            "predicted_tokens": count,
            "num_examples": enc.texts or len(enc.seqs),
        }

    def eval_record(self, m: dict) -> dict:
        return {"dev_accuracy": m["accuracy"], "dev_perplexity": round(m["perplexity"], 4)}

    what = "predicted-token"

    def headline(self, m: dict) -> str:
        return f"{self.what} accuracy {m['accuracy']:.4f} perplexity {m['perplexity']:.2f}"

    def format(self, m: dict, title: str = "") -> str:
        lines = [title] if title else []
        lines.append(
            f"{self.what} accuracy {m['accuracy']:.4f}   perplexity {m['perplexity']:.2f}   "
            f"predicted tokens {m['predicted_tokens']}   texts {m['num_examples']}"
        )
        return "\n".join(lines)

    def written_line(self, out: str, metrics: dict) -> str:
        dev = metrics["dev"]
        return (
            f"run written to {out}: dev {self.what} accuracy {dev['accuracy']:.4f}, "
            f"perplexity {dev['perplexity']:.2f}"
        )

    def placeholder_labels(self, num_classes: int) -> tuple[list[str], dict]:
        return [], {}

    def summary_note(self, labels: list[str], num_classes: int) -> str:
        return "no labels (pretraining)"


class MaskedLMTask(PretrainingTask):
    name = "masked_lm"
    what = "masked-token"
    plots_attention = True

    def build_model(
        self, vocab_size: int, num_labels: int, pad_id: int, labels: list[str] | None = None
    ) -> torch.nn.Module:
        from scratchlm.models.masked_lm import MaskedLanguageModel

        return MaskedLanguageModel(
            self.cfg.model, vocab_size=vocab_size, max_seq_len=self.cfg.data.max_seq_len, pad_id=pad_id
        )

    def batch(self, enc: MaskedSplit, index: list[int], pad_id: int) -> Batch:
        ids, real = pad_batch([enc.seqs[i] for i in index], pad_id)
        word_ids = None
        if enc.word_ids is not None:
            word_ids, _ = pad_batch([enc.word_ids[i] for i in index], -1)
        key = zlib.crc32(np.asarray(index, dtype=np.int64).tobytes())
        generator = torch.Generator().manual_seed(self.cfg.train.seed * 1_000_003 + key)
        vocab_size = self.vocab_size
        inputs, targets = mask_tokens(
            ids,
            real & (ids >= len(SPECIALS)),
            ratio=self.cfg.data.mask_ratio,
            mask_id=SPECIALS.index("[MASK]"),
            random_low=len(SPECIALS),
            vocab_size=max(vocab_size, len(SPECIALS) + 1),
            generator=generator,
            word_ids=word_ids,
        )
        return Batch(
            ids=inputs,
            padding_mask=real,
            labels=targets,
            index=index,
            segments=self.segments(enc, index),
        )
