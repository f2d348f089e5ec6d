"""Pretrained word vectors: read any common file fast, cache, analyse, train, and match to a vocabulary.

- ``io.load_vectors``: word2vec text/binary, GloVe, fastText ``.vec`` (plain or compressed), ``.npy`` +
  word list, caches, runs and built-in names -> :class:`base.Vectors`;
- ``text``, ``binary``: the fast readers; ``cache``: the memory-mapped cache format;
- ``analysis``: neighbours, analogies, benchmarks; ``project``: dimension changes;
- ``word2vec``: training with gensim. The command is ``scratchlm vectors ...`` (:mod:`scratchlm.cli.vectors`);
- ``match``: a vocabulary's tokens found among the words in tiers (exact, normalized, chars, compose):
  the one matching of ``model.init``, ``vectors coverage`` and ``scratchlm transplant``.

Nothing is imported here, so ``scratchlm vectors`` starts without loading numpy until it must.
"""

from __future__ import annotations

import importlib

_API = {
    "Vectors": "scratchlm.vectors.base",
    "load_vectors": "scratchlm.vectors.io",
    "write_cache": "scratchlm.vectors.cache",
}

__all__ = sorted(_API)


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'scratchlm.vectors' has no attribute {name!r}")
