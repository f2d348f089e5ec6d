"""Initial token vectors for a new run: ``model.init`` (normal, word2vec trained here, or any vectors
source) and, with ``vectors.bigrams``, word2vec vectors for the hashed character-pair table."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch

from scratchlm.config import RunConfig
from scratchlm.tokenizers import CharTokenizer

log = logging.getLogger("scratchlm.train")


def init_embeddings(
    model, cfg: RunConfig, tokenizer: CharTokenizer, train_texts: list[str], out: Path, vectors=None
) -> dict:
    """Apply ``model.init``; returns a short report for the log. ``vectors``: ``model.init`` already
    loaded (by :func:`add_vectors_vocab`), so the file is not read twice.

    ``model.init`` is ``normal``, ``word2vec`` (vectors trained here on ``cfg.vectors``), or anything
    :func:`scratchlm.vectors.io.load_vectors` reads: a word2vec/GloVe/fastText file (text or binary,
    compressed or not), a vectors cache, an ``.npy`` matrix with its word list, a run directory, or a
    built-in name such as ``glove-6b-50d``. Tokens are matched in tiers (exact, normalized, chars,
    compose: :mod:`scratchlm.vectors.match`, the matching ``scratchlm transplant`` uses); the rows
    found are rescaled to ``model.vectors_std`` when it is set (else they keep their own scale), the
    others keep their ``model.embedding_init`` values; with ``model.freeze_embedding_rows: pretrained``
    the rows found get no gradient. With ``model.bigram_buckets`` and ``vectors.bigrams``, word2vec also
    learns vectors of adjacent-token pairs for the bigram table. A pretraining run or a transplant
    directory gives its whole input layer and encoder instead (:mod:`scratchlm.training.finetune`).
    """
    from scratchlm.training.finetune import load_pretrained_body, pretraining_run

    init = cfg.model.init
    pretrained = pretraining_run(init)
    if pretrained is not None:
        return load_pretrained_body(model, pretrained)
    if init == "normal":
        return {"init": "normal", "embedding_init": cfg.model.embedding_init, "std": cfg.model.init_std}
    sentences: list[list[str]] = []
    if init == "word2vec":
        vectors, source, sentences = _train_word2vec(cfg, tokenizer, train_texts, out)
    else:
        from scratchlm.vectors.io import load_vectors

        vectors = load_vectors(init) if vectors is None else vectors
        source = f"{init} ({vectors.format}, {len(vectors)} x {vectors.dim})"
    width = cfg.model.input_width  # the token embedding's (model.input_dim, else embed_dim)
    if vectors.dim != width:
        from scratchlm.errors import DataError

        raise DataError(
            f"model.init {init}: the vectors have dimension {vectors.dim} but model.embed_dim is "
            f"{width}; set model.embed_dim={vectors.dim}, or make vectors of the right size with "
            f"`scratchlm vectors convert {init} --out CACHE --dim {width} --project pca` "
            "(or random, pad-truncate) and set model.init to CACHE"
        )
    report = _load_found_rows(model, cfg, tokenizer, vectors, source)
    bigram = getattr(getattr(model, "input", None), "bigram_embedding", None)
    if bigram is not None and sentences and cfg.vectors.bigrams:
        report["bigrams"] = init_bigram_embeddings(bigram, cfg, tokenizer, sentences)
    return report


def _train_word2vec(cfg: RunConfig, tokenizer: CharTokenizer, train_texts: list[str], out: Path):
    """``model.init: word2vec``: vectors trained on ``cfg.vectors``'s corpus, cached in ``out/vectors``;
    returns them, their description for the log, and the tokenized sentences (for the bigram table)."""
    from scratchlm.vectors.base import Vectors
    from scratchlm.vectors.cache import write_cache
    from scratchlm.vectors.word2vec import corpus_sentences, train_word2vec

    t0 = time.time()
    sentences = corpus_sentences(cfg.vectors.corpus, tokenizer.tokenize, train_texts)
    tokens, matrix = train_word2vec(sentences, cfg.model.input_width, cfg.vectors, seed=cfg.train.seed)
    write_cache(out / "vectors", Vectors(list(tokens), np.asarray(matrix, dtype=np.float32), "word2vec"))
    source = f"word2vec ({cfg.vectors.method}, {len(sentences)} texts, {time.time() - t0:.1f}s)"
    return Vectors(tokens, matrix, "word2vec", source), source, sentences


def _load_found_rows(model, cfg: RunConfig, tokenizer: CharTokenizer, vectors, source: str) -> dict:
    """Match the vocabulary to ``vectors`` (:func:`scratchlm.vectors.match.find_rows`, specials apart)
    and copy the rows found into ``model.token_embedding``, rescaled to ``model.vectors_std``
    when set, frozen with ``model.freeze_embedding_rows: pretrained``; the init report."""
    from scratchlm.vectors.match import find_rows

    found = find_rows(tokenizer.vocab.tokens, vectors, skip=tokenizer.vocab.special_ids)
    coverage = found.coverage
    freeze = cfg.model.freeze_embedding_rows == "pretrained"
    if len(found.ids):
        rows = torch.from_numpy(found.rows)
        if len(found.ids) > 1 and cfg.model.vectors_std is not None:
            rows = rows / rows.std().clamp_min(1e-12) * cfg.model.vectors_std
        model.token_embedding.load_rows(rows, torch.from_numpy(found.ids))
        if freeze:
            model.token_embedding.freeze_rows(torch.from_numpy(found.ids))
    report = {
        "init": source,
        "found": coverage.found,
        "vocab_size": coverage.vocab_size,
        "coverage": round(coverage.found / max(1, coverage.vocab_size), 4),
        "tiers": coverage.tiers,
    }
    if freeze:
        report["frozen_rows"] = int(len(found.ids))
    log.info(
        "token embedding from %s: %d of %d tokens found (%.1f%%; %s)%s, the rest from embedding_init %s",
        source,
        coverage.found,
        coverage.vocab_size,
        100 * report["coverage"],
        ", ".join(f"{k} {v}" for k, v in coverage.tiers.items() if v),
        " and frozen" if freeze else "",
        cfg.model.embedding_init,
    )
    return report


def add_vectors_vocab(tokenizer, cfg: RunConfig):
    """``model.vectors_vocab``: append the first N words of ``model.init``'s vectors to the tokenizer's
    vocabulary (normalised like the text; single characters only for ``char``), after the tokens the
    training split gave it. Returns a short report for the log and the vectors (for
    :func:`init_embeddings`)."""
    from scratchlm.errors import DataError
    from scratchlm.tokenizers.normalize import normalize_text
    from scratchlm.tokenizers.vocab import Vocab
    from scratchlm.training.finetune import pretraining_run
    from scratchlm.vectors.io import load_vectors

    n, init = cfg.model.vectors_vocab, cfg.model.init
    if pretraining_run(init) is not None:
        raise DataError(
            f"model.vectors_vocab={n}: model.init {init} is a pretraining run, which brings its own "
            "vocabulary; set model.vectors_vocab=0"
        )
    vectors = load_vectors(init)
    tokens = list(tokenizer.vocab.tokens)
    known = set(tokens)
    added = 0
    for word in vectors.words[:n]:
        word = normalize_text(word, nfkc=tokenizer.normalize, lowercase=tokenizer.lowercase)
        if not word or " " in word or word in known or (tokenizer.kind == "char" and len(word) != 1):
            continue
        known.add(word)
        tokens.append(word)
        added += 1
    before = len(tokenizer.vocab)
    tokenizer.vocab = Vocab(tokens)
    log.info(
        "vocabulary: %d tokens (specials included) from the training split + %d of the first %d words of %s = %d",
        before,
        added,
        min(n, len(vectors)),
        init,
        len(tokens),
    )
    return {"from_training": before, "from_vectors": added, "vocab_size": len(tokens)}, vectors


def init_bigram_embeddings(
    bigram, cfg: RunConfig, tokenizer: CharTokenizer, sentences: list[list[str]]
) -> dict:
    """word2vec over the stream of adjacent pairs (``ab bc cd ...``): a vector for each frequent pair,
    most of which are Chinese two-character words, written into the pair's hash bucket."""
    import dataclasses

    from scratchlm.vectors.word2vec import train_word2vec

    t0 = time.time()
    sep = "\u0001"  # never produced by the tokenizer: keeps pairs of multi-character tokens unambiguous
    pair_sentences = [[a + sep + b for a, b in zip(s, s[1:], strict=False)] for s in sentences]
    vcfg = dataclasses.replace(cfg.vectors, min_count=cfg.vectors.bigram_min_count)
    pairs, vectors = train_word2vec(pair_sentences, cfg.model.input_width, vcfg, seed=cfg.train.seed)
    rows = torch.from_numpy(vectors)
    if cfg.model.vectors_std is not None and len(rows) > 1:
        rows = rows / rows.std().clamp_min(1e-12) * cfg.model.vectors_std
    ids = [tuple(tokenizer.vocab.ids(p.split(sep))) for p in pairs]
    filled = bigram.load_pairs(ids, rows)
    log.info(
        "bigram embedding: word2vec on %d pair types in %.1fs, %d of %d buckets filled",
        len(pairs),
        time.time() - t0,
        filled,
        bigram.num_buckets,
    )
    return {"pair_types": len(pairs), "buckets_filled": filled, "seconds": round(time.time() - t0, 1)}


def init_lexicon(model, cfg: RunConfig, tokenizer) -> dict | None:
    """``model.lexicon``: read the dictionary and store its words, as token ids, in the input layer."""
    layer = getattr(getattr(model, "input", None), "lexicon_embedding", None)
    lex = cfg.model.lexicon
    if layer is None or not lex.enabled:
        return None
    from scratchlm.data.lexicon import lexicon_words, read_lexicon

    start = time.perf_counter()
    entries = read_lexicon(lex.source)
    words = lexicon_words(entries, tokenizer, groups=lex.groups, min_freq=lex.min_freq)
    kept = layer.set_words(words)
    if not kept:
        from scratchlm.errors import DataError

        raise DataError(
            f"model.lexicon.source {lex.source}: none of its {len(entries)} words is 2 to {lex.max_len} tokens "
            "of this run's vocabulary (a word tokenizer makes most words one token, and a word with an unknown "
            "character is dropped); use a char tokenizer, raise model.lexicon.max_len, or remove model.lexicon"
        )
    per_group = {name: int(((layer.groups >> g) & 1).sum()) for g, name in enumerate(layer.group_names)}
    log.info(
        "lexicon %s: %d entries, %d words of 2-%d tokens kept (%s) in %.1fs",
        lex.source,
        len(entries),
        kept,
        lex.max_len,
        ", ".join(f"{k} {v}" for k, v in per_group.items()),
        time.perf_counter() - start,
    )
    return {"source": lex.source, "entries": len(entries), "words": kept, "groups": per_group}
