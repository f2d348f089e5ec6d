"""Train token vectors with word2vec (gensim) on tokenized text: the recipe's pretraining stage.

Small labelled data punishes random initialisation; vectors learned from a larger unlabelled corpus
(the training texts plus People's Daily) give the classifier a head start. gensim is an optional
dependency (``pip install 'scratchlm[vectors]'``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import numpy as np

from scratchlm.config import VectorsConfig
from scratchlm.errors import require

log = logging.getLogger(__name__)


def train_word2vec(
    sentences: Iterable[list[str]], dim: int, cfg: VectorsConfig, *, seed: int = 0, workers: int = 2,
) -> tuple[list[str], np.ndarray]:
    """Return ``(tokens, vectors [n, dim] float32)``."""
    models = require("gensim.models", "vectors", "model.init: word2vec")
    sentences = [s for s in sentences if s]
    if not sentences:
        raise ValueError("word2vec needs at least one non-empty text")
    w2v = models.Word2Vec(
        sentences, vector_size=dim, window=cfg.window, min_count=cfg.min_count, sg=1 if cfg.method == "skipgram" else 0,
        negative=cfg.negative, sample=cfg.sample, epochs=cfg.epochs, workers=workers, seed=seed,
    )
    tokens = list(w2v.wv.index_to_key)
    return tokens, np.asarray(w2v.wv.vectors, dtype=np.float32)


def corpus_sentences(sources: list[str], tokenize: Callable[[str], list[str]], train_texts: list[str]) -> list[list[str]]:
    from scratchlm.data.load import load_texts

    out: list[list[str]] = []
    for source in sources:
        texts = load_texts(source, train_texts)
        log.info("vectors corpus %s: %d texts", source, len(texts))
        out.extend(tokenize(t) for t in texts)
    return out
