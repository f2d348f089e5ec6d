"""The ``model.lexicon`` section: dictionary-match features in the input layer
(:mod:`scratchlm.modules.lexicon`; docs/tagging.md). Off unless ``source`` is set."""

from __future__ import annotations

from dataclasses import dataclass, field

from scratchlm.config.checks import check_positive
from scratchlm.errors import ConfigError


@dataclass
class LexiconConfig:
    """``model.lexicon``: which dictionary words cover each token, added to the token vectors."""

    source: str | None = None
    """``jieba`` (jieba's own dictionary, about 349,000 words with tags), or a UTF-8 file with one word a
    line (``word [frequency] [tag]``, separated by spaces or tabs, as jieba's ``dict.txt``); ``null``: off.
    Read once when a run starts; the words, as token ids, are saved in the model's weights."""
    max_len: int = 4
    """Longest word, in tokens, that is looked up (2 ..); longer words are skipped."""
    groups: list[str] = field(default_factory=list)
    """Tag groups with features of their own beside "any word": a word is in group ``nr`` when its tag
    starts with ``nr`` (jieba: ``nr`` people, ``ns`` places, ``nt`` organisations, ``nz`` other names)."""
    min_freq: int = 0
    """Skip words whose frequency column is below this (words without one are kept)."""

    def __post_init__(self) -> None:
        if self.source is not None and not str(self.source).strip():
            raise ConfigError("model.lexicon.source is empty: use jieba, a dictionary file, or null (off)")
        check_positive("model.lexicon.max_len", self.max_len, minimum=2)
        check_positive("model.lexicon.min_freq", self.min_freq, minimum=0)
        if isinstance(self.groups, str):
            self.groups = [g.strip() for g in self.groups.split(",") if g.strip()]
        for g in self.groups:
            if not isinstance(g, str) or not g.strip() or " " in g:
                raise ConfigError(f"model.lexicon.groups: {g!r} is not a tag prefix such as nr, ns or nt")
        if len(set(self.groups)) != len(self.groups):
            raise ConfigError(f"model.lexicon.groups {self.groups} names a group twice")
        if len(self.groups) > 30:
            raise ConfigError(f"model.lexicon.groups: {len(self.groups)} groups; at most 30")

    @property
    def enabled(self) -> bool:
        return self.source is not None
