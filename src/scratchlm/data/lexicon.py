"""Dictionaries for ``model.lexicon``: jieba's own or a file of one word a line, read into
``(word, frequency, tag)`` entries, and turned into token-id sequences under a run's tokenizer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scratchlm.errors import DataError
from scratchlm.io import split_lines


@dataclass(frozen=True)
class LexiconEntry:
    word: str
    freq: int | None
    tag: str


def lexicon_path(source: str) -> Path:
    """The file behind ``model.lexicon.source``: ``jieba`` is jieba's ``dict.txt``."""
    if source == "jieba":
        from scratchlm.data.builtin import package_dir

        return package_dir("jieba") / "dict.txt"
    path = Path(source)
    if not path.is_file():
        raise DataError(
            f"model.lexicon.source {source}: no such file (use jieba, or a file of one word a line)"
        )
    return path


def read_lexicon(source: str) -> list[LexiconEntry]:
    """Entries of a dictionary: ``word [frequency] [tag]`` a line, spaces or tabs between; blank lines
    and ``#`` comments skipped, a byte-order mark ignored. A bad line is an error naming ``file:line``."""
    path = lexicon_path(source)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    entries = []
    for lineno, line in enumerate(split_lines(text), 1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) > 3:
            raise DataError(
                f"{path}:{lineno}: {len(parts)} fields; a line is `word [frequency] [tag]` (a word has no spaces)"
            )
        freq, tag = None, ""
        if len(parts) >= 2:
            if parts[1].isdigit():
                freq = int(parts[1])
                tag = parts[2] if len(parts) == 3 else ""
            elif len(parts) == 2:
                tag = parts[1]
            else:
                raise DataError(f"{path}:{lineno}: frequency {parts[1]!r} is not a whole number >= 0")
        entries.append(LexiconEntry(parts[0], freq, tag))
    if not entries:
        raise DataError(f"{path}: no words (one word a line: `word [frequency] [tag]`)")
    return entries


def lexicon_words(
    entries: list[LexiconEntry], tokenizer, *, groups: list[str], min_freq: int = 0
) -> list[tuple[list[int], int]]:
    """``(token ids, group bits)`` per entry kept: bit 0 for every word, bit ``g`` when the tag starts
    with ``groups[g - 1]``. A word is split by the run's tokenizer (so normalised like the text); words
    with an unknown token or of one token are dropped."""
    unk = tokenizer.vocab.unk_id
    words = []
    for entry in entries:
        if entry.freq is not None and entry.freq < min_freq:
            continue
        ids = tokenizer.vocab.ids(tokenizer.tokenize(entry.word))
        if len(ids) < 2 or unk in ids:
            continue
        bits = 1
        for g, prefix in enumerate(groups, 1):
            if entry.tag.startswith(prefix):
                bits |= 1 << g
        words.append((ids, bits))
    return words
