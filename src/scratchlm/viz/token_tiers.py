"""Where each token's initial row came from, for a run whose ``model.init`` records it.

- ``model.init: DIR`` of ``scratchlm transplant``: ``DIR/transplant.json`` lists the tier (strategy)
  of every token (``token_tiers``: exact, normalized, chars, compose, knn, stats, random).
- ``model.init: word2vec``: the run keeps its vectors in ``RUN/vectors``; a token found there took its
  row from them (``exact``), the others kept ``model.embedding_init`` (``oov``).
- ``model.init``: a vectors file, cache or built-in name: the tiers of
  :func:`scratchlm.vectors.match.find_rows`, the matching training used, run again on the same vectors.

Anything else (``normal``, a pretraining run) gives no tiers, with a note saying why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scratchlm.errors import ScratchLMError

if TYPE_CHECKING:
    from scratchlm.training.run_dir import LoadedRun


@dataclass
class TokenTiers:
    source: str  # what model.init was
    by_token: dict[str, str] = field(default_factory=dict)  # token -> tier; empty when unknown
    note: str | None = None  # why there are no tiers

    def of(self, tokens: list[str]) -> list[str | None]:
        return [self.by_token.get(t) for t in tokens] if self.by_token else [None] * len(tokens)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for tier in self.by_token.values():
            out[tier] = out.get(tier, 0) + 1
        return out


def _matched(run: LoadedRun, vectors_source: str | Path, label: str) -> TokenTiers:
    from scratchlm.vectors.io import load_vectors
    from scratchlm.vectors.match import find_rows

    vocab = run.tokenizer.vocab
    found = find_rows(list(vocab.tokens), load_vectors(vectors_source), skip=vocab.special_ids)
    return TokenTiers(label, dict(zip(vocab.tokens, found.tier, strict=True)))


def token_tiers(run: LoadedRun) -> TokenTiers:
    """The tiers of the run's vocabulary (see the module docstring)."""
    init = run.config.model.init
    if init == "normal":
        return TokenTiers(init, note="model.init: normal: every row was drawn at random")
    if init == "word2vec":
        cache = run.path / "vectors"
        if not cache.is_dir():
            return TokenTiers(init, note=f"model.init: word2vec, but {cache} is gone: tiers unknown")
        return _matched(run, cache, "word2vec trained on this run's texts")
    path = Path(init)
    report = path / "transplant.json"
    if report.is_file():
        tiers = json.loads(report.read_text(encoding="utf-8")).get("token_tiers") or {}
        return TokenTiers(f"transplant {path}", dict(tiers))
    if (path / "run.json").is_file():
        return TokenTiers(init, note=f"model.init: {init} is a pretraining run: every row is its row")
    try:
        return _matched(run, init, str(init))
    except ScratchLMError as exc:
        return TokenTiers(init, note=f"model.init: {init} cannot be read here ({exc}): tiers unknown")
