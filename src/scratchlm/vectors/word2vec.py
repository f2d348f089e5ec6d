"""Train token vectors with word2vec or fastText (gensim) on tokenized text.

Small labelled data punishes random initialisation; vectors learned from a larger unlabelled corpus
(the training texts plus People's Daily) give the classifier a head start. Used by the recipe's
pretraining stage (``model.init: word2vec``) and by ``scratchlm vectors train``. gensim is an
optional dependency (``pip install 'scratchlm[vectors]'``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

import numpy as np

from scratchlm.config import VectorsConfig
from scratchlm.errors import require

log = logging.getLogger(__name__)


def train_word2vec(
    sentences: Iterable[list[str]],
    dim: int,
    cfg: VectorsConfig,
    *,
    seed: int = 0,
) -> tuple[list[str], np.ndarray]:
    """Return ``(tokens, vectors [n, dim] float32)``, trained with ``cfg.workers`` threads: with one, the
    same corpus and seed give the same vectors bit for bit (gensim 4 seeds the initial vectors from
    ``seed`` alone, not from Python's string hash, so ``PYTHONHASHSEED`` does not matter); with more,
    the threads update shared weights without locks (Hogwild) and each run differs."""
    models = require("gensim.models", "vectors", "model.init: word2vec")
    logging.getLogger("gensim").setLevel(logging.WARNING)  # its per-second progress lines drown ours
    sentences = [s for s in sentences if s]
    if not sentences:
        raise ValueError("word2vec needs at least one non-empty text")
    w2v = models.Word2Vec(
        sentences,
        vector_size=dim,
        window=cfg.window,
        min_count=cfg.min_count,
        sg=1 if cfg.method == "skipgram" else 0,
        negative=cfg.negative,
        sample=cfg.sample,
        epochs=cfg.epochs,
        workers=cfg.workers,
        seed=seed,
    )
    tokens = list(w2v.wv.index_to_key)
    return tokens, np.asarray(w2v.wv.vectors, dtype=np.float32)


METHODS = ("word2vec", "fasttext")


def train_vectors(
    sentences: Iterable[list[str]],
    *,
    method: str = "word2vec",
    dim: int = 100,
    window: int = 5,
    min_count: int = 5,
    epochs: int = 5,
    sg: bool = True,
    negative: int = 5,
    sample: float = 1e-3,
    seed: int = 0,
    workers: int = 1,
) -> tuple[list[str], np.ndarray]:
    """``(tokens, vectors [n, dim] float32)``, most frequent first. ``method="fasttext"`` also learns
    character n-grams; only the vectors of the vocabulary's words are returned. One worker: the same
    every run; more: faster, but each run differs (see :func:`train_word2vec`)."""
    models = require("gensim.models", "vectors", f"vectors train --method {method}")
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    sentences = [s for s in sentences if s]
    if not sentences:
        raise ValueError("training vectors needs at least one non-empty text")
    cls = models.Word2Vec if method == "word2vec" else models.FastText
    model = cls(
        sentences,
        vector_size=dim,
        window=window,
        min_count=min_count,
        sg=int(sg),
        negative=negative,
        sample=sample,
        epochs=epochs,
        workers=workers,
        seed=seed,
    )
    return list(model.wv.index_to_key), np.asarray(model.wv.vectors, dtype=np.float32)


def corpus_sentences(
    sources: list[str], tokenize: Callable[[str], list[str]], train_texts: list[str]
) -> list[list[str]]:
    from scratchlm.data.load import load_texts

    out: list[list[str]] = []
    for source in sources:
        texts = load_texts(source, train_texts)
        log.info("vectors corpus %s: %d texts", source, len(texts))
        out.extend(tokenize(t) for t in texts)
    return out
