"""Train a tokenizer of any kind, and load whichever kind a directory holds.

A tokenizer directory holds ``vocab.txt`` and our metadata naming the ``kind``: ``tokenizer.json``
for ``char`` and ``jieba``; for the subword kinds ``scratchlm_tokenizer.json``, because there
``tokenizer.json`` is the Hugging Face file (loadable by ``tokenizers.Tokenizer.from_file``).
A run directory holds its tokenizer in ``tokenizer/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from scratchlm.errors import DataError
from scratchlm.tokenizers.base import KINDS, SUBWORD_KINDS, Tokenizer

if TYPE_CHECKING:
    from scratchlm.config import DataConfig


def train_tokenizer(
    kind: str,
    texts: Iterable[str],
    *,
    vocab_size: int | None = None,
    normalize: bool = True,
    lowercase: bool = False,
    min_freq: int = 1,
    user_dict: str | Path | None = None,
    unk_fallback: str = "none",
) -> Tokenizer:
    """``vocab_size``: the target size for subword kinds; the most-frequent cap for ``char``/``jieba``."""
    common = {"normalize": normalize, "lowercase": lowercase, "min_freq": min_freq}
    if kind == "char":
        from scratchlm.tokenizers.char import CharTokenizer

        return CharTokenizer.train(texts, max_size=vocab_size, **common)
    if kind == "jieba":
        from scratchlm.tokenizers.jieba_word import JiebaTokenizer

        return JiebaTokenizer.train(
            texts, max_size=vocab_size, user_dict=user_dict, unk_fallback=unk_fallback, **common
        )
    if kind in SUBWORD_KINDS:
        from scratchlm.tokenizers.subword import DEFAULT_VOCAB_SIZE, SubwordTokenizer

        return SubwordTokenizer.train(texts, kind=kind, vocab_size=vocab_size or DEFAULT_VOCAB_SIZE, **common)
    raise DataError(f"unknown tokenizer kind {kind!r}; use one of {', '.join(KINDS)}")


def build_tokenizer(data: DataConfig, texts: Iterable[str]) -> Tokenizer:
    """The run's tokenizer, trained on its training texts as ``data`` (a validated DataConfig) says."""
    subword = data.tokenizer in SUBWORD_KINDS
    return train_tokenizer(
        data.tokenizer,
        texts,
        vocab_size=data.vocab_size if subword else data.max_vocab_size,
        normalize=data.normalize,
        lowercase=data.lowercase,
        min_freq=data.min_freq,
        user_dict=data.user_dict,
        unk_fallback=data.unk_fallback,
    )


def _kind_of(directory: Path) -> str:
    from scratchlm.tokenizers.subword import META_FILE

    for name in (META_FILE, "tokenizer.json"):
        path = directory / name
        if not path.is_file():
            continue
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{path}: unreadable tokenizer metadata ({exc})") from None
        if isinstance(meta, dict) and "kind" in meta:
            if meta["kind"] not in KINDS:
                raise DataError(
                    f"{path}: unknown tokenizer kind {meta['kind']!r} (this version reads {', '.join(KINDS)})"
                )
            return meta["kind"]
        if isinstance(meta, dict) and "model" in meta:
            raise DataError(
                f"{directory}: a Hugging Face tokenizer.json without {META_FILE}; "
                "not a scratchlm tokenizer directory (make one with: scratchlm tokenizer train)"
            )
    raise DataError(
        f"{directory}: not a scratchlm tokenizer directory (no tokenizer.json with a kind); "
        "give the --out of `scratchlm tokenizer train` or a run directory"
    )


def load_tokenizer(directory: str | Path) -> Tokenizer:
    """Load any tokenizer scratchlm saved (a tokenizer directory or a run directory)."""
    directory = Path(directory)
    if not directory.exists():
        raise DataError(f"{directory}: no such tokenizer or run directory")
    if not directory.is_dir():
        raise DataError(f"{directory}: is a file; a tokenizer is a directory (tokenizer.json + vocab.txt)")
    if (directory / "tokenizer").is_dir() and not (directory / "vocab.txt").exists():
        directory = directory / "tokenizer"  # a run directory
    kind = _kind_of(directory)
    if kind == "char":
        from scratchlm.tokenizers.char import CharTokenizer

        return CharTokenizer.load(directory)
    if kind == "jieba":
        from scratchlm.tokenizers.jieba_word import JiebaTokenizer

        return JiebaTokenizer.load(directory)
    from scratchlm.tokenizers.subword import SubwordTokenizer

    return SubwordTokenizer.load(directory)
