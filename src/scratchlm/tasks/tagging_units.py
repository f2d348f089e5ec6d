"""Tagging from sentence to tags and back: units -> ids, long sentences cut into windows, decoded tags ->
words or entities. Pure functions shared by training, ``eval``, ``predict`` and the Python API.

A tagger reads one *unit* per tag: a character (the built-in data, and ``predict`` on raw text), or a
token a user's file gives. A unit is normalised as the character tokenizer normalises characters (NFKC,
full-width to half-width, optional lowercase) and looked up in the run's vocabulary, so ``１２月`` and
``12月`` read the same. A sentence longer than ``data.max_seq_len`` units is cut into windows of at most
that many, preferably just after a punctuation mark; every window is tagged and the tags are put back
together, so nothing is truncated (the number of sentences cut is reported).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scratchlm.data.schemes import get_scheme
from scratchlm.tokenizers.base import SPACE
from scratchlm.tokenizers.char import CharTokenizer
from scratchlm.tokenizers.normalize import normalize_char
from scratchlm.tokenizers.vocab import Vocab

if TYPE_CHECKING:
    from scratchlm.config import DataConfig
    from scratchlm.data.tagging import TaggedExample
    from scratchlm.training.run_dir import LoadedRun

BREAKS = frozenset("，。！？；：、,.!?;:")
"""Units after which a window prefers to end."""


def unit_token(token: str, *, normalize: bool = True, lowercase: bool = False) -> str:
    """The vocabulary entry of one unit: its characters normalised one by one, whitespace as ``▁``."""
    out = "".join(normalize_char(ch, normalize, lowercase) for ch in token).strip()
    return out.replace(" ", SPACE) if out else SPACE


def build_unit_tokenizer(data: DataConfig, sentences: Sequence[Sequence[str]]) -> CharTokenizer:
    """A character tokenizer whose vocabulary holds the training units (``data.min_freq``,
    ``data.max_vocab_size`` apply)."""
    counts: Counter[str] = Counter()
    for units in sentences:
        counts.update(unit_token(u, normalize=data.normalize, lowercase=data.lowercase) for u in units)
    vocab = Vocab.build(counts, min_freq=data.min_freq, max_size=data.max_vocab_size)
    return CharTokenizer(vocab, normalize=data.normalize, lowercase=data.lowercase)


def encode_units(tokenizer: CharTokenizer, units: Sequence[str]) -> list[int]:
    norm, lower = tokenizer.normalize, tokenizer.lowercase
    return tokenizer.vocab.ids(unit_token(u, normalize=norm, lowercase=lower) for u in units)


def windows(units: Sequence[str], max_len: int) -> list[tuple[int, int]]:
    """``[start, end)`` pieces of at most ``max_len`` units covering the sentence; a piece ends after
    the last punctuation mark in its second half when there is one."""
    out, start, n = [], 0, len(units)
    while n - start > max_len:
        end = start + max_len
        for cut in range(end, start + max_len // 2, -1):
            if units[cut - 1] in BREAKS:
                end = cut
                break
        out.append((start, end))
        start = end
    out.append((start, n))
    return out


@dataclass
class EncodedTags:
    """Windows of encoded sentences: ``seqs[k]`` / ``tags[k]`` (ids) belong to sentence ``owner[k]``,
    windows of a sentence in order. ``lengths[i]``: units of sentence i; ``cut``: sentences cut."""

    seqs: list[list[int]] = field(default_factory=list)
    tags: list[list[int]] = field(default_factory=list)
    owner: list[int] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    cut: int = 0

    @property
    def labels(self) -> list[list[int]]:  # the name the training loop batches by
        return self.tags


def encode_tagged(
    tokenizer: CharTokenizer,
    sentences: Sequence[Sequence[str]],
    tag_ids: Sequence[Sequence[int]] | None,
    max_len: int,
) -> EncodedTags:
    out = EncodedTags()
    for i, units in enumerate(sentences):
        ids = encode_units(tokenizer, units)
        pieces = windows(units, max_len)
        out.cut += len(pieces) > 1
        out.lengths.append(len(ids))
        for start, end in pieces:
            out.seqs.append(ids[start:end])
            out.tags.append(list(tag_ids[i][start:end]) if tag_ids is not None else [])
            out.owner.append(i)
    return out


def encode_examples(
    tokenizer: CharTokenizer, examples: Sequence[TaggedExample], labels: Sequence[str], max_len: int
) -> EncodedTags:
    index = {tag: i for i, tag in enumerate(labels)}
    return encode_tagged(
        tokenizer, [ex.tokens for ex in examples], [[index[t] for t in ex.tags] for ex in examples], max_len
    )


def join_windows(enc: EncodedTags, window_tags: Sequence[Sequence[int]]) -> list[list[int]]:
    """Per-window tag ids -> one list per sentence."""
    out: list[list[int]] = [[] for _ in enc.lengths]
    for k, tags in enumerate(window_tags):
        out[enc.owner[k]].extend(tags[: len(enc.seqs[k])])
    return out


def evaluate_tags(
    predicted: Sequence[Sequence[str]], gold: Sequence[Sequence[str]], scheme_name: str, types: Sequence[str]
) -> dict:
    """Strict span P/R/F1 (micro and per type: :func:`~scratchlm.tasks.metrics.span_metrics`) plus
    ``token_accuracy`` and ``num_tokens``."""
    from scratchlm.tasks.metrics import span_metrics

    scheme = get_scheme(scheme_name)
    metrics = span_metrics([scheme.spans(g) for g in gold], [scheme.spans(p) for p in predicted], types)
    tokens = sum(len(g) for g in gold)
    same = sum(p == g for ps, gs in zip(predicted, gold, strict=True) for p, g in zip(ps, gs, strict=True))
    return {**metrics, "token_accuracy": same / tokens if tokens else 0.0, "num_tokens": tokens}


def span_types(labels: Sequence[str], scheme_name: str) -> list[str]:
    """The span types a tag set can produce (``""`` for untyped segmentation)."""
    scheme = get_scheme(scheme_name)
    return sorted({scheme.split(t)[1] for t in labels if t != "O"})


# ------------------------------------------------------------------------------------------ predict
def text_units(text: str, units: str = "chars") -> list[tuple[str, tuple[int, int]]]:
    """The units of a raw text with their spans: every non-space character (``chars``), or
    whitespace-separated tokens (``tokens``: for runs trained on multi-character tokens)."""
    if units == "tokens":
        out, start = [], None
        for i, ch in enumerate(text + " "):
            if ch.isspace():
                if start is not None:
                    out.append((text[start:i], (start, i)))
                    start = None
            elif start is None:
                start = i
        return out
    return [(ch, (i, i + 1)) for i, ch in enumerate(text) if not ch.isspace()]


def tag_texts(run: LoadedRun, texts: Sequence[str], batch_size: int = 128, device: str = "cpu") -> list[dict]:
    """One result per text: ``tokens``, ``tags``, ``spans`` (``start``/``end`` character offsets into the
    text, ``type``, ``text``) and ``output``: the words separated by spaces (word segmentation) or the
    text with entities marked ``[北京|LOC]``. ``windows``: how many pieces a long text was cut into."""
    from scratchlm.predict.batching import decode_tags

    scheme_name = run.meta.get("scheme") or run.config.data.tag_scheme
    scheme = get_scheme(scheme_name)
    split = [text_units(t, run.meta.get("units", "chars")) for t in texts]
    enc = encode_tagged(run.tokenizer, [[u for u, _ in s] for s in split], None, run.max_seq_len)
    decoded = decode_tags(run.model, enc.seqs, run.tokenizer.vocab.pad_id, batch_size, device)
    per_text = join_windows(enc, decoded)
    window_counts = Counter(enc.owner)
    results = []
    for k, (text, units, ids) in enumerate(zip(texts, split, per_text, strict=True)):
        tags = [run.labels[i] for i in ids]
        spans = []
        for start, end, kind in scheme.spans(tags):
            a, b = units[start][1][0], units[end - 1][1][1]
            spans.append({"start": a, "end": b, "type": kind or "word", "text": text[a:b]})
        segmentation = all(s["type"] == "word" for s in spans) and scheme_name == "bmes"
        results.append(
            {
                "text": text,
                "tokens": [u for u, _ in units],
                "tags": tags,
                "spans": spans,
                "output": " ".join(s["text"] for s in spans) if segmentation else _marked(text, spans),
                "windows": window_counts[k],
            }
        )
    return results


def _marked(text: str, spans: list[dict]) -> str:
    out, at = [], 0
    for s in spans:
        out.append(text[at : s["start"]] + f"[{s['text']}|{s['type']}]")
        at = s["end"]
    return "".join(out) + text[at:]
