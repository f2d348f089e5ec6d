"""Sequence-level metrics for seq2seq outputs with several acceptable references (../shared/DATA.md).

- **WER** (word error rate, for G2P: one "word" is one source): the share of sources whose prediction
  equals none of its references.
- **PER** (phone error rate, or token error rate in general): for each source the reference closest to the
  prediction by Levenshtein distance (ties: the first listed); summed over sources,
  ``PER = sum of those distances / sum of those references' lengths`` (micro: every phone weighs the same;
  what Sequitur's and the Montreal Forced Aligner's G2P evaluations count).
- **per_word_mean**: the same distances divided by each word's own reference length, then averaged over
  words (macro: every word weighs the same; what several neural G2P toolkits report as PER). Short words
  weigh more, so it differs from PER when errors sit in short or long words.

Both are fractions in [0, 1] (PER can exceed 1 when predictions are much longer than the references).
"""

from __future__ import annotations

from collections.abc import Sequence


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance: fewest insertions, deletions and substitutions turning ``a`` into ``b``."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def seq2seq_metrics(
    predictions: Sequence[Sequence[str]], references: Sequence[Sequence[Sequence[str]]]
) -> dict:
    """``predictions[i]``: the output tokens for source i; ``references[i]``: its references (at least one).
    Returns ``wer``, ``per``, ``word_accuracy`` (1 - WER), and the counts behind them."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} reference lists")
    wrong = errors = length = 0
    ratio_sum = 0.0
    for pred, refs in zip(predictions, references, strict=True):
        if not refs:
            raise ValueError("every source needs at least one reference")
        pred = tuple(pred)
        if all(tuple(r) != pred for r in refs):
            wrong += 1
        distance, ref = min(((edit_distance(pred, r), r) for r in refs), key=lambda item: item[0])
        errors += distance
        length += len(ref)
        ratio_sum += distance / max(len(ref), 1)
    n = len(predictions)
    return {
        "wer": wrong / n if n else 0.0,
        "per": errors / length if length else 0.0,
        "per_word_mean": ratio_sum / n if n else 0.0,
        "word_accuracy": (n - wrong) / n if n else 0.0,
        "num_examples": n,
        "wrong_examples": wrong,
        "token_errors": errors,
        "reference_tokens": length,
    }


def format_seq2seq_metrics(m: dict, title: str = "") -> str:
    lines = [title] if title else []
    lines.append(
        f"WER {m['wer']:.4f}   PER {m['per']:.4f}   word accuracy {m['word_accuracy']:.4f}   "
        f"examples {m['num_examples']} ({m['wrong_examples']} wrong; {m['token_errors']} token errors "
        f"in {m['reference_tokens']} reference tokens)"
    )
    return "\n".join(lines)
