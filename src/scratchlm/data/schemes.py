"""Tag schemes for token classification: which tags exist, which may follow which, and the spans (words,
entities) a tag sequence encodes.

- ``bio``: ``O`` outside; ``B-X`` begins an entity of type X, ``I-X`` continues it (IOB2).
- ``bmes``: ``B`` begin, ``M`` middle, ``E`` end of a multi-character unit, ``S`` a single one. Untyped
  (``B M E S``) it segments text into words, every character in one word; typed (``O``, ``B-X``,
  ``M-X``, ``E-X``, ``S-X``, also called BIOES) it marks entities.

Spans are ``(start, end, type)`` with ``end`` exclusive; the type of a segmented word is ``""``.
Reading is *strict* for entities: an entity is exactly a ``B-X I-X*`` run (``B-X M-X* E-X`` or ``S-X``
in typed BMES); a stray ``I-X`` after ``O`` starts nothing, as in seqeval's strict mode. Untyped BMES
reads every sequence as a segmentation (a word boundary before each ``B`` or ``S`` and after each ``E``
or ``S``), so the words a model prints and the words it is scored on are the same. A CRF with the
scheme's transition rules only ever produces well-formed sequences, where both readings agree.
"""

from __future__ import annotations

from collections.abc import Sequence

Span = tuple[int, int, str]

OUTSIDE = "O"


class TagScheme:
    name: str
    prefixes: tuple[str, ...]
    continues: tuple[str, ...]  # prefixes that only continue a unit of their type (never begin one)
    description: str

    # -- single tags -------------------------------------------------------------------------------
    def split(self, tag: str) -> tuple[str, str]:
        """``"B-PER" -> ("B", "PER")``, ``"O" -> ("O", "")``, ``"S" -> ("S", "")``."""
        if tag == OUTSIDE:
            return OUTSIDE, ""
        prefix, _, kind = tag.partition("-")
        return prefix, kind

    def canonical(self, tag: str) -> str:
        """The tag with its prefix upper-cased (``b-PER -> B-PER``, ``s -> S``), or ValueError saying why
        it is not a tag of this scheme. Types are case-sensitive."""
        raw = tag.strip()
        if raw.upper() == OUTSIDE:
            return OUTSIDE
        prefix, dash, kind = raw.partition("-")
        prefix = prefix.upper()
        if prefix not in self.prefixes or (dash and not kind) or not self._untyped_ok(dash):
            raise ValueError(f"tag {tag!r} is not a {self.name.upper()} tag ({self.description})")
        return f"{prefix}-{kind}" if dash else prefix

    def _untyped_ok(self, dash: str) -> bool:
        return bool(dash)

    # -- sequences ---------------------------------------------------------------------------------
    def may_start(self, tag: str) -> bool:
        return self.split(tag)[0] not in self.continues

    def may_end(self, tag: str) -> bool:
        return True

    def follows(self, prev: str, nxt: str) -> bool:
        raise NotImplementedError

    def check(self, tags: Sequence[str]) -> str | None:
        """Why a (gold) sequence is not well formed, or None."""
        for i, tag in enumerate(tags):
            if i == 0 and not self.may_start(tag):
                return f"tag {tag!r} cannot begin a sentence under {self.name.upper()}"
            if i and not self.follows(tags[i - 1], tag):
                return f"tag {tag!r} (token {i + 1}) cannot follow {tags[i - 1]!r} under {self.name.upper()}"
        if tags and not self.may_end(tags[-1]):
            return (
                f"tag {tags[-1]!r} cannot end a sentence under {self.name.upper()} (the unit is unfinished)"
            )
        return None

    def spans(self, tags: Sequence[str]) -> list[Span]:
        raise NotImplementedError

    # -- label sets and CRF rules -----------------------------------------------------------------
    def labels(self, types: set[str]) -> list[str]:
        """Every tag for these entity types, in a fixed order: ``O`` first, then by type."""
        return [OUTSIDE] + [f"{p}-{t}" for t in sorted(types) for p in self.prefixes]

    def transition_rules(self, labels: Sequence[str]) -> tuple[list[bool], list[list[bool]], list[bool]]:
        """Boolean masks ``(start (T,), transitions (T, T) [prev][next], end (T,))`` for a CRF."""
        return (
            [self.may_start(t) for t in labels],
            [[self.follows(p, n) for n in labels] for p in labels],
            [self.may_end(t) for t in labels],
        )


class BIO(TagScheme):
    name = "bio"
    prefixes = ("B", "I")
    continues = ("I",)
    description = "O, or B-TYPE / I-TYPE"

    def follows(self, prev: str, nxt: str) -> bool:
        p, p_type = self.split(prev)
        n, n_type = self.split(nxt)
        return n != "I" or (p in ("B", "I") and p_type == n_type)

    def spans(self, tags: Sequence[str]) -> list[Span]:
        out: list[Span] = []
        start, kind = None, ""
        for i, tag in enumerate([*tags, OUTSIDE]):
            prefix, tag_type = self.split(tag)
            if start is not None and not (prefix == "I" and tag_type == kind):
                out.append((start, i, kind))
                start = None
            if prefix == "B":
                start, kind = i, tag_type
        return out


class BMES(TagScheme):
    name = "bmes"
    prefixes = ("B", "M", "E", "S")
    continues = ("M", "E")
    description = "B, M, E, S for segmentation, or O / B-TYPE / M-TYPE / E-TYPE / S-TYPE"

    def _untyped_ok(self, dash: str) -> bool:
        return True

    def labels(self, types: set[str]) -> list[str]:
        if types <= {""}:
            return list(self.prefixes)  # word segmentation: B M E S
        return super().labels(types - {""})

    def may_end(self, tag: str) -> bool:
        return self.split(tag)[0] in ("E", "S", OUTSIDE)

    def follows(self, prev: str, nxt: str) -> bool:
        p, p_type = self.split(prev)
        n, n_type = self.split(nxt)
        if p in ("B", "M"):  # inside a unit: it must go on, with the same type
            return n in ("M", "E") and n_type == p_type
        return n not in ("M", "E")

    def spans(self, tags: Sequence[str]) -> list[Span]:
        if all("-" not in t and t != OUTSIDE for t in tags):
            return self._segmentation(tags)
        out: list[Span] = []
        start, kind = None, ""
        for i, tag in enumerate(tags):
            prefix, tag_type = self.split(tag)
            if prefix == "S":
                out.append((i, i + 1, tag_type))
                start = None
            elif prefix == "B":
                start, kind = i, tag_type
            elif prefix == "M" and start is not None and tag_type == kind:
                continue
            elif prefix == "E" and start is not None and tag_type == kind:
                out.append((start, i + 1, kind))
                start = None
            else:  # O, or a unit broken off: nothing open survives
                start = None
        return out

    @staticmethod
    def _segmentation(tags: Sequence[str]) -> list[Span]:
        out: list[Span] = []
        start = 0
        for i, tag in enumerate(tags):
            if i > start and tag in ("B", "S"):
                out.append((start, i, ""))
                start = i
            if tag in ("E", "S"):
                out.append((start, i + 1, ""))
                start = i + 1
        if start < len(tags):
            out.append((start, len(tags), ""))
        return out


SCHEMES: dict[str, TagScheme] = {"bio": BIO(), "bmes": BMES()}


def get_scheme(name: str) -> TagScheme:
    if name not in SCHEMES:
        raise ValueError(f"unknown tag scheme {name!r}; use one of {', '.join(SCHEMES)}")
    return SCHEMES[name]


def detect_scheme(tags: set[str]) -> str:
    """``bmes`` when some tag starts with M, E or S (case-insensitive), else ``bio``."""
    for tag in tags:
        prefix = tag.strip().partition("-")[0].upper()
        if tag.strip().upper() != OUTSIDE and prefix in ("M", "E", "S"):
            return "bmes"
    return "bio"


def tags_from_spans(length: int, spans: Sequence[Span], scheme: str = "bio") -> list[str]:
    """The tag sequence of non-overlapping spans (``""``-typed spans give untyped BMES words)."""
    tags = [OUTSIDE] * length
    for start, end, kind in spans:
        suffix = f"-{kind}" if kind else ""
        if scheme == "bio":
            tags[start:end] = [f"B{suffix}"] + [f"I{suffix}"] * (end - start - 1)
        elif end - start == 1:
            tags[start] = f"S{suffix}"
        else:
            tags[start:end] = [f"B{suffix}"] + [f"M{suffix}"] * (end - start - 2) + [f"E{suffix}"]
    return tags
