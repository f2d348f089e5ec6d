"""The first two steps of the input layer, for one text and one run, as plain data (the lab's first panels).

- :func:`normalization`: what the run's normalisation (NFKC, full-width to half-width, lowercase,
  whitespace) changed, character by character, with the original span of each change.
- :func:`tokenizations`: the text under each tokenizer kind the lab shows: characters, jieba words and
  the run's own tokenizer, every token with its id *in this run's vocabulary* (``[UNK]`` when the
  vocabulary lacks it) and its ``[start, end)`` span in the original text. The character and jieba rows
  use the run's normalisation settings, so the three rows differ only in how they cut the text.
"""

from __future__ import annotations

import unicodedata
from typing import TYPE_CHECKING, Any

from scratchlm.errors import ScratchLMError
from scratchlm.tokenizers.normalize import full_to_half, normalize_char, normalize_text

if TYPE_CHECKING:
    from scratchlm.tokenizers.base import Tokenizer

LAB_KINDS = ("char", "jieba")
"""The tokenizer kinds shown for every run besides the run's own."""


def _change_kind(ch: str, out: str, nfkc: bool, lowercase: bool) -> str:
    """Why ``ch`` became ``out``: the first rule of the normalisation that changed it."""
    if nfkc and full_to_half(ch) != ch:
        return "full-width to half-width"
    if ch.isspace():
        return "whitespace"
    if nfkc and unicodedata.normalize("NFKC", ch) != ch:
        return "NFKC"
    return "lowercase" if lowercase else "NFKC"


def normalization(text: str, *, nfkc: bool, lowercase: bool) -> dict[str, Any]:
    """``original``, ``normalized`` (what the tokenizers read), ``changes`` (one per changed character:
    ``start``, ``end``, ``from``, ``to``, ``kind``) and ``counts`` per kind. A plain space is not a
    change; runs of whitespace that collapse to one space, and whitespace at the edges, are counted
    under ``whitespace dropped``."""
    changes = []
    for i, ch in enumerate(text):
        out = normalize_char(ch, nfkc, lowercase)
        if out != ch and ch != " ":
            changes.append(
                {
                    "start": i,
                    "end": i + 1,
                    "from": ch,
                    "to": out,
                    "kind": _change_kind(ch, out, nfkc, lowercase),
                }
            )
    normalized = normalize_text(text, nfkc=nfkc, lowercase=lowercase)
    counts: dict[str, int] = {}
    for c in changes:
        counts[c["kind"]] = counts.get(c["kind"], 0) + 1
    spaces_in = sum(1 for ch in text if ch.isspace())
    dropped = spaces_in - normalized.count(" ")
    if dropped > 0:
        counts["whitespace dropped"] = dropped
    return {
        "original": text,
        "normalized": normalized,
        "nfkc": nfkc,
        "lowercase": lowercase,
        "changes": changes,
        "counts": counts,
    }


def token_rows(tokenizer: Tokenizer, pieces: list[tuple[str, tuple[int, int]]]) -> list[dict[str, Any]]:
    """``pieces`` (token, span) -> ``{"token", "id", "unk", "start", "end"}`` in ``tokenizer``'s vocabulary."""
    vocab = tokenizer.vocab
    ids = vocab.ids(tok for tok, _ in pieces)
    return [
        {"token": tok, "id": i, "unk": i == vocab.unk_id, "start": s, "end": e}
        for (tok, (s, e)), i in zip(pieces, ids, strict=True)
    ]


def _kind_tokenizer(kind: str, own: Tokenizer) -> Tokenizer:
    """A tokenizer of ``kind`` over the run's vocabulary and normalisation settings."""
    if kind == own.kind:
        return own
    if kind == "char":
        from scratchlm.tokenizers.char import CharTokenizer

        return CharTokenizer(own.vocab, normalize=own.normalize, lowercase=own.lowercase)
    from scratchlm.tokenizers.jieba_word import JiebaTokenizer

    return JiebaTokenizer(own.vocab, normalize=own.normalize, lowercase=own.lowercase)


def _pieces(tokenizer: Tokenizer, text: str) -> list[tuple[str, tuple[int, int]]]:
    segment = getattr(tokenizer, "segment", None)  # jieba: the words before any [UNK] fallback
    return segment(text) if segment is not None and tokenizer.kind == "jieba" else tokenizer.split(text)


def tokenizations(tokenizer: Tokenizer, text: str) -> list[dict[str, Any]]:
    """One entry per kind (characters, jieba words, then the run's own kind unless it is one of those):
    ``kind``, ``own`` (whether it is the run's tokenizer), ``tokens`` (:func:`token_rows`), ``unk``
    (how many are [UNK]); or ``error`` when the kind cannot run here (jieba not installed)."""
    kinds = [*LAB_KINDS, *([] if tokenizer.kind in LAB_KINDS else [tokenizer.kind])]
    out = []
    for kind in kinds:
        entry: dict[str, Any] = {"kind": kind, "own": kind == tokenizer.kind}
        try:
            tok = _kind_tokenizer(kind, tokenizer)
            pieces = tok.split(text) if entry["own"] else _pieces(tok, text)
        except ScratchLMError as exc:
            entry["error"] = str(exc)
        else:
            entry["tokens"] = token_rows(tokenizer, pieces)
            entry["unk"] = sum(t["unk"] for t in entry["tokens"])
        out.append(entry)
    return out
