"""In-memory labelled text data: examples, splits and the label set."""

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
