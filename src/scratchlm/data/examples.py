"""In-memory data: labelled texts and tagged sentences, their splits and label sets."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Example:
    text: str
    label: str
    source: str = ""
    """Where it came from (``file:line``), for error messages."""


@dataclass
class ClassificationData:
    """Splits of labelled texts plus the ordered label names (id = position)."""

    name: str
    splits: dict[str, list[Example]]
    labels: list[str]
    notes: dict[str, int] = field(default_factory=dict)
    """Counts of what loading dropped (empty lines, duplicates, conflicting labels)."""

    def split(self, name: str) -> list[Example]:
        from scratchlm.errors import DataError

        if name not in self.splits:
            raise DataError(f"dataset {self.name!r} has no split {name!r} (has: {', '.join(self.splits)})")
        return self.splits[name]


@dataclass(frozen=True)
class TaggedExample:
    """A sentence: ``tokens`` (a string when every token is one character, which saves memory) and one
    tag per token."""

    tokens: str | tuple[str, ...]
    tags: tuple[str, ...]
    source: str = ""
    """Where it came from (``file:line``), for error messages."""

    @property
    def text(self) -> str:
        return self.tokens if isinstance(self.tokens, str) else "".join(self.tokens)


@dataclass
class TaggingData:
    """Splits of tagged sentences, the ordered tag names (id = position) and their scheme."""

    name: str
    splits: dict[str, list[TaggedExample]]
    labels: list[str]
    scheme: str
    notes: dict[str, int] = field(default_factory=dict)

    def split(self, name: str) -> list[TaggedExample]:
        from scratchlm.errors import DataError

        if name not in self.splits:
            raise DataError(f"dataset {self.name!r} has no split {name!r} (has: {', '.join(self.splits)})")
        return self.splits[name]
