"""Sequence-to-sequence (``data.task: seq2seq``).

The source is tokenized by the run's tokenizer (``data.tokenizer``, characters by default, no [CLS]); the
output vocabulary is the five specials then the training references' tokens, most frequent first (the
run's ``labels``). Training uses *every* reference of a source as its own pair (a word with two
pronunciations is seen with both); evaluation decodes each source once (beam search, ``model.generation.beam_size``)
and scores it against all its references (:mod:`scratchlm.tasks.seq2seq_metrics`). The dev score that
picks the saved weights is word accuracy, 1 - WER, of greedy decoding (faster); the final dev and test
figures use beam search.

Too long: a source longer than ``data.max_seq_len`` tokens is truncated (and counted, ``data.truncation``
says where); a training pair whose target has more than ``data.max_seq_len - 1`` tokens (the decoder reads
the start token too) is left out of training, counted and reported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from scratchlm.config import DataConfig, RunConfig
from scratchlm.data.collate import Batch, batch_order, pad_batch
from scratchlm.errors import ConfigError
from scratchlm.tasks.base import Task, with_data
from scratchlm.tasks.seq2seq_metrics import format_seq2seq_metrics, seq2seq_metrics
from scratchlm.tokenizers.vocab import SPECIALS, Vocab


@dataclass
class EncodedPairs:
    """``seqs[k]``/``targets[k]``: source ids and target ids (ending with [EOS]) of training pair k;
    ``sources[i]``/``refs[i]``: source ids and reference token tuples of example i."""

    seqs: list[list[int]] = field(default_factory=list)
    targets: list[list[int]] = field(default_factory=list)
    sources: list[list[int]] = field(default_factory=list)
    refs: list[tuple[tuple[str, ...], ...]] = field(default_factory=list)
    truncated: int = 0
    skipped: int = 0

    @property
    def labels(self) -> list[list[int]]:
        return self.targets


def encode_sources(
    tokenizer, texts: Sequence[str], max_len: int, truncation: str = "end"
) -> tuple[list, int]:
    """Source ids (no [CLS]) and how many texts were truncated to ``max_len`` tokens."""
    ids, truncated = [], 0
    for text in texts:
        enc = tokenizer.encode(text, max_len=max_len, add_cls=False, truncation=truncation)
        ids.append(enc.ids)
        truncated += enc.truncated > 0
    return ids, truncated


def decode_sources(
    model,
    sources: Sequence[list[int]],
    labels: Sequence[str],
    pad_id: int,
    batch_size: int,
    device: str,
    *,
    beam_size: int = 1,
    max_len: int | None = None,
    length_penalty: float = 1.0,
) -> list[list[str]]:
    """Output tokens per source, in the input order (batches formed by length). An empty source gets none."""
    was_training = model.training
    model.eval()
    out: list[list[str]] = [[] for _ in sources]
    special = len(SPECIALS)
    nonempty = [i for i, s in enumerate(sources) if s]
    for index in batch_order([len(sources[i]) for i in nonempty], batch_size, shuffle=False):
        rows = [nonempty[j] for j in index]
        ids, mask = pad_batch([sources[i] for i in rows], pad_id)
        decoded = model.generate(
            ids.to(device),
            mask.to(device),
            beam_size=beam_size,
            max_len=max_len,
            length_penalty=length_penalty,
        )
        for i, tokens in zip(rows, decoded, strict=True):
            out[i] = [labels[t] for t in tokens if t >= special]
    model.train(was_training)
    return out


class Seq2SeqTask(Task):
    name = "seq2seq"
    score_key = "word_accuracy"
    reads_cls = False

    @classmethod
    def check_config(cls, cfg: RunConfig) -> None:
        super().check_config(cfg)
        m, d = cfg.model, cfg.data
        if m.head != "softmax":
            raise ConfigError(
                f"model.head={m.head} is a tagger or classifier head; data.task=seq2seq predicts tokens with softmax"
            )
        if m.encoder.kind == "transformer" and m.encoder.num_layers < 1:
            raise ConfigError(
                "data.task=seq2seq with model.encoder.kind=transformer needs model.encoder.num_layers >= 1"
            )
        if m.encoder.norm_position != "pre":
            raise ConfigError(
                f"model.encoder.norm_position={m.encoder.norm_position}: the seq2seq Transformer decoder is "
                "pre-LN; use pre"
            )
        if m.positional.kind in ("alibi", "t5_bias"):
            raise ConfigError(
                f"model.positional.kind={m.positional.kind} is an encoder-only bias here; a seq2seq model uses "
                "an absolute kind (sinusoidal, scaled_sinusoidal, learned), rope, or none"
            )
        longest = m.generation.max_new_tokens
        if longest is not None and longest > d.max_seq_len - 1:
            raise ConfigError(
                f"model.generation.max_new_tokens={longest} must be <= data.max_seq_len - 1 = "
                f"{d.max_seq_len - 1} (the decoder reads the start token and at most that many outputs)"
            )

    @classmethod
    def detects(cls, data: DataConfig) -> bool:
        from scratchlm.data.seq2seq import is_pair_file

        return is_pair_file(data.train_file or data.dataset, data.target_field)

    def load(self) -> RunConfig:
        from scratchlm.data.seq2seq import load_seq2seq_data

        self.data = load_seq2seq_data(self.cfg.data)
        self.cfg = with_data(self.cfg, task=self.name)
        return self.cfg

    def with_options(self, *, beam_size: int | None = None, **options) -> Seq2SeqTask:
        """Decoding with ``beam_size`` hypotheses (``None``: the run's ``model.generation.beam_size``)."""
        super().with_options(**options)
        if beam_size is None:
            return self
        if beam_size < 1:
            raise ConfigError(f"--beam-size {beam_size}: must be >= 1")
        generation = dataclasses.replace(self.cfg.model.generation, beam_size=beam_size)
        model = dataclasses.replace(self.cfg.model, generation=generation)
        return type(self)(dataclasses.replace(self.cfg, model=model))

    def build_model(
        self, vocab_size: int, num_labels: int, pad_id: int, labels: list[str] | None = None
    ) -> torch.nn.Module:
        from scratchlm.models.seq2seq import Seq2SeqModel

        return Seq2SeqModel(
            self.cfg.model,
            vocab_size=vocab_size,
            target_vocab_size=num_labels,
            max_seq_len=self.cfg.data.max_seq_len,
            pad_id=pad_id,
        )

    @property
    def labels(self) -> list[str]:
        """The output vocabulary: the specials (``[CLS]`` starts, ``[SEP]`` ends a target), then the tokens."""
        return [*SPECIALS, *self.data.labels]

    def texts(self, examples: list) -> list[str]:
        return [ex.source for ex in examples]

    def read_file(self, path: str, labels: list[str]) -> list:
        from scratchlm.data.seq2seq import read_pair_file

        d = self.cfg.data
        return read_pair_file(path, source_field=d.source_field, target_field=d.target_field)

    def encode(self, tokenizer, examples: list, labels: list[str]) -> EncodedPairs:
        d = self.cfg.data
        vocab = Vocab(labels)
        out = EncodedPairs()
        out.sources, out.truncated = encode_sources(
            tokenizer, self.texts(examples), d.max_seq_len, d.truncation
        )
        for ex, src in zip(examples, out.sources, strict=True):
            out.refs.append(ex.targets)
            for ref in ex.targets:
                if len(ref) > d.max_seq_len - 1:
                    out.skipped += 1
                    continue
                out.seqs.append(src)
                out.targets.append([*vocab.ids(ref), vocab.sep_id])
        return out

    def encoding_note(self, enc: EncodedPairs) -> str | None:
        notes = []
        if enc.truncated:
            notes.append(
                f"{enc.truncated} of {len(enc.sources)} sources truncated to data.max_seq_len={self.cfg.data.max_seq_len} tokens"
            )
        if enc.skipped:
            notes.append(
                f"{enc.skipped} pairs left out of training: targets longer than data.max_seq_len - 1 = "
                f"{self.cfg.data.max_seq_len - 1} tokens"
            )
        return "; ".join(notes) or None

    def extra_metrics(self, enc: EncodedPairs) -> dict:
        return {"truncated": enc.truncated}

    def batch(self, enc: EncodedPairs, index: list[int], pad_id: int) -> Batch:
        ids, mask = pad_batch([enc.seqs[i] for i in index], pad_id)
        targets, _ = pad_batch([enc.targets[i] for i in index], pad_id)
        return Batch(ids=ids, padding_mask=mask, labels=targets, index=index)

    def loss_weight(self, batch: Batch) -> int:
        return int((batch.labels != 0).sum())

    def loss(self, model, batch: Batch, device: str) -> torch.Tensor:
        return model.loss(
            batch.ids.to(device),
            batch.padding_mask.to(device),
            batch.labels.to(device),
            label_smoothing=self.cfg.train.label_smoothing,
        )

    def decode(self, model, sources, labels, pad_id: int, batch_size: int, device: str) -> list[list[str]]:
        gen = self.cfg.model.generation
        return decode_sources(
            model,
            sources,
            labels,
            pad_id,
            batch_size,
            device,
            beam_size=gen.beam_size,
            max_len=gen.max_new_tokens,
            length_penalty=gen.length_penalty,
        )

    def evaluate(
        self, model, enc: EncodedPairs, labels: list[str], pad_id: int, batch_size: int, device: str
    ) -> dict:
        predicted = self.decode(model, enc.sources, labels, pad_id, batch_size, device)
        return seq2seq_metrics(predicted, enc.refs)

    def evaluate_for_selection(
        self, model, enc: EncodedPairs, labels: list[str], pad_id: int, batch_size: int, device: str
    ) -> dict:
        """Greedy decoding (several times faster than beam search): what picks the saved weights."""
        gen = self.cfg.model.generation
        predicted = decode_sources(
            model, enc.sources, labels, pad_id, batch_size, device, max_len=gen.max_new_tokens
        )
        return seq2seq_metrics(predicted, enc.refs)

    def eval_record(self, m: dict) -> dict:
        return {"dev_wer": m["wer"], "dev_per": m["per"]}

    def headline(self, m: dict) -> str:
        return f"WER {m['wer']:.4f} PER {m['per']:.4f}"

    def format(self, m: dict, title: str = "") -> str:
        return format_seq2seq_metrics(m, title)

    def eval_note(self, enc: EncodedPairs) -> str | None:
        if enc.truncated:
            return f"{enc.truncated} sources were truncated to {self.cfg.data.max_seq_len} tokens"
        return None

    def eval_title(self) -> str:
        return f" (beam {self.cfg.model.generation.beam_size})"

    def extra_eval_metrics(self) -> dict:
        return {"beam_size": self.cfg.model.generation.beam_size}

    def written_line(self, out: str, metrics: dict) -> str:
        dev, test = metrics["dev"], metrics.get("test")
        return f"run written to {out}: dev WER {dev['wer']:.4f} PER {dev['per']:.4f}" + (
            f", test WER {test['wer']:.4f} PER {test['per']:.4f}" if test else ""
        )

    def predict(self, run, texts: Sequence[str], batch_size: int) -> list[dict]:
        """Each text's output tokens; ``truncated``: the text had more than ``data.max_seq_len`` tokens."""
        d = run.config.data
        sources, _ = encode_sources(run.tokenizer, texts, d.max_seq_len, d.truncation)
        outputs = self.decode(run.model, sources, run.labels, run.tokenizer.vocab.pad_id, batch_size, "cpu")
        return [
            {"text": t, "output": o, "truncated": len(run.tokenizer.tokenize(t)) > d.max_seq_len}
            for t, o in zip(texts, outputs, strict=True)
        ]

    def prediction_line(self, result: dict) -> str:
        return f"{result['text']}\t{' '.join(result['output'])}"

    def placeholder_labels(self, num_classes: int) -> tuple[list[str], dict]:
        """The output vocabulary: the specials, then a built-in dataset's tokens (else placeholders)."""
        from scratchlm.data.seq2seq import SEQ2SEQ_LABELS

        d = self.cfg.data
        builtin = d.dataset in SEQ2SEQ_LABELS and d.train_file is None
        tokens = SEQ2SEQ_LABELS[d.dataset] if builtin else super().placeholder_labels(num_classes)[0]
        return [*SPECIALS, *tokens], {}

    def summary_note(self, labels: list[str], num_classes: int) -> str:
        return f"{len(labels)} output tokens"
