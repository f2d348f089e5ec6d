"""Texts of a classifier run -> labels and probabilities, through :mod:`scratchlm.predict.batching`.

Shared by ``scratchlm predict`` (texts and JSONL files) and the server's ``/v1/classify``. The
functions take a :class:`~scratchlm.training.run_dir.LoadedRun` and return plain Python objects
(JSON-ready); they do no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from scratchlm.predict.batching import predict_logits

if TYPE_CHECKING:
    from scratchlm.tokenizers.char import Encoding
    from scratchlm.training.run_dir import LoadedRun


def encode_texts(run: LoadedRun, texts: Sequence[str]) -> list[Encoding]:
    """Token ids as training made them: the run's normalisation, [CLS], its length and truncation."""
    return run.tokenizer.encode_batch(texts, max_len=run.max_seq_len, truncation=run.config.data.truncation)


def classify_encoded(
    run: LoadedRun, encodings: Sequence[Encoding], batch_size: int = 128, max_padding: float | None = None
) -> list[dict[str, Any]]:
    """One result per encoding: ``label``, ``score`` (its probability), ``probabilities`` by label,
    ``logits`` and ``truncated`` (tokens dropped to fit ``max_seq_len``). Batches as
    :func:`~scratchlm.predict.batching.forward_groups` forms them."""
    if not encodings:
        return []
    seqs = [e.ids for e in encodings]
    logits = predict_logits(run.model, seqs, run.tokenizer.vocab.pad_id, batch_size, max_padding=max_padding)
    probs = logits.softmax(-1)
    best = probs.argmax(-1).tolist()
    out = []
    for enc, lg, pr, b in zip(encodings, logits.tolist(), probs.tolist(), best, strict=True):
        out.append(
            {
                "label": run.labels[b],
                "score": round(pr[b], 6),
                "probabilities": {label: round(p, 6) for label, p in zip(run.labels, pr, strict=True)},
                "logits": [round(v, 6) for v in lg],
                "truncated": enc.truncated,
            }
        )
    return out


def classify_texts(
    run: LoadedRun, texts: Sequence[str], batch_size: int = 128, max_padding: float | None = None
) -> list[dict[str, Any]]:
    return classify_encoded(run, encode_texts(run, texts), batch_size, max_padding)
