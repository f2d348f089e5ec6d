"""Sequence-to-sequence pairs (a source text, one or more reference output sequences): the built-in
``cmudict-g2p`` (grapheme to phoneme, :func:`load_cmudict_g2p`) and users' files.

An example is one *source* with all its references: evaluation counts a prediction correct when it equals
any of them (a word with two pronunciations has two). Training uses every reference as its own pair.

User files, UTF-8, blank lines skipped; a source that appears on several lines gets every line's target as
a reference:

- ``.jsonl``: ``{"source": "hello", "target": "HH AH L OW"}``; the target is a string of whitespace-separated
  output tokens or a list of tokens (keys: ``data.source_field``, ``data.target_field``);
- ``.tsv``: a header row naming the two columns, then ``source<TAB>target`` rows (the target as above).

One file is split by the fixed sha1 rule on the stripped source, so every reference of a source lands in
the same split, as the built-ins.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scratchlm.data.files import decode_file, iter_records
from scratchlm.data.splits import split_of
from scratchlm.errors import DataError
from scratchlm.io import split_lines

if TYPE_CHECKING:
    from scratchlm.config import DataConfig

PAIR_FORMATS = (".jsonl", ".tsv")

CMU_PHONES = (
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH"
).split()
"""The 39 phones of CMUdict once the stress digits (``AH0``, ``AH1``, ``AH2``) are removed."""


@dataclass(frozen=True)
class PairExample:
    """A source text and its reference outputs (each a tuple of tokens, at least one)."""

    source: str
    targets: tuple[tuple[str, ...], ...]
    where: str = ""
    """Where it came from (``file:line`` of its first line), for error messages."""

    @property
    def text(self) -> str:  # the name the training loop reads
        return self.source


@dataclass
class Seq2SeqData:
    """Splits of examples and the output tokens of the training references (most frequent first)."""

    name: str
    splits: dict[str, list[PairExample]]
    labels: list[str]
    notes: dict[str, int] = field(default_factory=dict)

    def split(self, name: str) -> list[PairExample]:
        if name not in self.splits:
            raise DataError(f"dataset {self.name!r} has no split {name!r} (has: {', '.join(self.splits)})")
        return self.splits[name]


def output_tokens(examples: list[PairExample]) -> list[str]:
    """Every output token of the references, most frequent first (ties: alphabetical)."""
    from collections import Counter

    counts: Counter[str] = Counter(t for ex in examples for ref in ex.targets for t in ref)
    return [t for t, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def _group(rows: list[tuple[str, tuple[str, ...], str]]) -> list[PairExample]:
    """Rows ``(source, target, where)`` -> one example per source (first-seen order), duplicate
    references dropped."""
    grouped: dict[str, tuple[list[tuple[str, ...]], str]] = {}
    for source, target, where in rows:
        refs, _ = grouped.setdefault(source, ([], where))
        if target not in refs:
            refs.append(target)
    return [PairExample(src, tuple(refs), where) for src, (refs, where) in grouped.items()]


def split_examples(examples: list[PairExample]) -> dict[str, list[PairExample]]:
    splits: dict[str, list[PairExample]] = {"train": [], "dev": [], "test": []}
    for ex in examples:
        splits[split_of(ex.source)].append(ex)
    return splits


# ------------------------------------------------------------------------------------------- cmudict
CMU_ENTRY = re.compile(r"^(?P<word>\S+?)(?:\((?P<n>\d+)\))?$")


def parse_cmudict(text: str, path: str = "cmudict.dict") -> tuple[list[PairExample], dict[str, int]]:
    """``word PH0 PH1 ...`` lines, alternates as ``word(2)``, ``#`` comments to the end of the line. Stress
    digits are removed; pronunciations that become identical are one reference."""
    phones = set(CMU_PHONES)
    rows = []
    lines = 0
    for lineno, line in enumerate(split_lines(text), 1):
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith(";;;"):
            continue
        lines += 1
        word, *pron = line.split()
        match = CMU_ENTRY.match(word)
        if not pron or match is None:
            raise DataError(f"{path}:{lineno}: expected 'word PH1 PH2 ...', got {line!r}")
        target = tuple(p.rstrip("012") for p in pron)
        unknown = [p for p in target if p not in phones]
        if unknown:
            raise DataError(f"{path}:{lineno}: unknown phone(s) {', '.join(unknown)} in {line!r}")
        rows.append((match["word"], target, f"{path}:{lineno}"))
    examples = _group(rows)
    return examples, {
        "entries": lines,
        "stress_only_duplicates": lines - sum(len(e.targets) for e in examples),
    }


def load_cmudict_g2p() -> Seq2SeqData:
    """``cmudict/data/cmudict.dict`` of the ``cmudict`` package, split by the word (without ``(n)``)."""
    from scratchlm.data.builtin import package_dir

    path = package_dir("cmudict") / "data" / "cmudict.dict"
    examples, notes = parse_cmudict(decode_file(path, "cmudict.dict"), str(path))
    splits = split_examples(examples)
    return Seq2SeqData("cmudict-g2p", splits, output_tokens(splits["train"]), notes)


SEQ2SEQ_LOADERS = {"cmudict-g2p": load_cmudict_g2p}
SEQ2SEQ_LABELS = {"cmudict-g2p": CMU_PHONES}
"""Each built-in seq2seq dataset's output tokens, known without reading it (order aside)."""


# ---------------------------------------------------------------------------------------------- files
def _target_tokens(value: object, where: str, target_field: str) -> tuple[str, ...]:
    if isinstance(value, str):
        tokens = value.split()
    elif isinstance(value, list) and all(
        isinstance(t, str) and t.strip() and not any(c.isspace() for c in t.strip()) for t in value
    ):
        tokens = [t.strip() for t in value]
    else:
        raise DataError(
            f"{where}: field {target_field!r} must be a string of space-separated tokens or a list of tokens"
        )
    if not tokens:
        raise DataError(f"{where}: empty target in field {target_field!r}")
    return tuple(tokens)


def _source_text(value: object, where: str, source_field: str) -> str:
    if not isinstance(value, str):
        raise DataError(f"{where}: field {source_field!r} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise DataError(f"{where}: empty source in field {source_field!r}")
    return value.strip()


def read_pair_file(
    path: str | Path, *, source_field: str = "source", target_field: str = "target"
) -> list[PairExample]:
    """Examples of a ``.jsonl`` or ``.tsv`` file of pairs; every problem names the file and line."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in PAIR_FORMATS:
        raise DataError(
            f"{path}: unknown seq2seq data format {suffix or '(none)'!r}; use one of {', '.join(PAIR_FORMATS)}"
        )
    text = decode_file(path, "a .jsonl or .tsv file of source/target pairs")
    required = {source_field: "source_field", target_field: "target_field"}
    rows = [
        (
            _source_text(rec[source_field], where, source_field),
            _target_tokens(rec[target_field], where, target_field),
            where,
        )
        for where, rec in iter_records(path, text, required)
    ]
    if not rows:
        raise DataError(f"{path}: no pairs (the file is empty)")
    return _group(rows)


def is_pair_file(path: str | Path, target_field: str = "target") -> bool:
    """What ``data.task: auto`` calls seq2seq data: a ``.jsonl`` file whose first record has
    ``target_field``, or a ``.tsv`` file whose header has it."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in PAIR_FORMATS or not path.is_file():
        return False
    with path.open(encoding="utf-8-sig", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            if suffix == ".tsv":
                return target_field in [h.strip() for h in line.rstrip("\n").split("\t")]
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                return False
            return isinstance(obj, dict) and target_field in obj
    return False


def load_seq2seq_data(cfg: DataConfig) -> Seq2SeqData:
    """A built-in seq2seq dataset by name, or user files (``train_file``/``dev_file``/``test_file``, or one
    file as ``dataset`` split by the sha1 rule on the source)."""
    from scratchlm.data.builtin import BUILTINS

    train_file = cfg.train_file
    if train_file is None and cfg.dataset in SEQ2SEQ_LOADERS:
        return SEQ2SEQ_LOADERS[cfg.dataset]()
    if train_file is None:
        if cfg.dataset in BUILTINS:
            raise DataError(
                f"dataset {cfg.dataset!r} is not source/target pairs ({BUILTINS[cfg.dataset].kind}); "
                f"data.task=seq2seq needs {', '.join(SEQ2SEQ_LOADERS)} or a .jsonl/.tsv file of pairs"
            )
        train_file = cfg.dataset
    kw = {"source_field": cfg.source_field, "target_field": cfg.target_field}
    splits = split_examples(read_pair_file(train_file, **kw))
    for name, path in (("dev", cfg.dev_file), ("test", cfg.test_file)):
        if path:
            splits["train"] += splits[name]
            splits[name] = read_pair_file(path, **kw)
    if not splits["train"]:
        raise DataError(f"dataset {train_file}: the train split is empty")
    return Seq2SeqData(str(train_file), splits, output_tokens(splits["train"]))


def seq2seq_stats(data: Seq2SeqData) -> dict:
    """Examples, references and length percentiles (source characters, target tokens) per split."""
    import numpy as np

    out: dict = {
        "name": data.name,
        "labels": data.labels,
        "notes": data.notes,
        "splits": {},
    }
    for split, examples in data.splits.items():
        src = np.asarray([len(ex.source) for ex in examples] or [0])
        tgt = np.asarray([len(r) for ex in examples for r in ex.targets] or [0])
        out["splits"][split] = {
            "examples": len(examples),
            "references": sum(len(ex.targets) for ex in examples),
            "source_chars": {
                "p50": float(np.median(src)),
                "p99": float(np.percentile(src, 99)),
                "max": int(src.max()),
            },
            "target_tokens": {
                "p50": float(np.median(tgt)),
                "p99": float(np.percentile(tgt, 99)),
                "max": int(tgt.max()),
            },
        }
    return out


def write_pairs_jsonl(path: str | Path, examples: list[PairExample]) -> None:
    from scratchlm.io import atomic_write_text

    lines = [
        json.dumps({"source": ex.source, "target": " ".join(ref)}, ensure_ascii=False)
        for ex in examples
        for ref in ex.targets
    ]
    atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))
