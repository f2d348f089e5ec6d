"""The word2vec stage: one worker thread gives the same vectors bit for bit (any ``PYTHONHASHSEED``),
``vectors.workers`` is what gensim gets, and the seed changes the vectors."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest

from scratchlm.config import VectorsConfig

pytest.importorskip("gensim")

SENTENCES = [list("物流很快包装完好质量不错值得购买"), list("质量很差用了两天就坏了非常失望")] * 40
CFG = VectorsConfig(epochs=2, min_count=1)


def test_one_worker_gives_the_same_vectors_every_time():
    from scratchlm.vectors.word2vec import train_word2vec

    tokens_a, a = train_word2vec(SENTENCES, 16, CFG, seed=3)
    tokens_b, b = train_word2vec(SENTENCES, 16, CFG, seed=3)
    assert tokens_a == tokens_b and a.dtype == np.float32 and a.shape == (len(tokens_a), 16)
    assert np.array_equal(a, b)
    _, c = train_word2vec(SENTENCES, 16, CFG, seed=4)
    assert not np.array_equal(a, c)


def test_the_vectors_do_not_depend_on_python_string_hashing():
    code = (
        "import sys, hashlib; sys.path.insert(0, 'tests/vectors'); import test_word2vec as t;"
        "from scratchlm.vectors.word2vec import train_word2vec;"
        "print(hashlib.sha256(train_word2vec(t.SENTENCES, 16, t.CFG, seed=3)[1].tobytes()).hexdigest())"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            cwd=root,
            env=dict(os.environ, PYTHONHASHSEED=seed),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1


def test_vectors_workers_is_the_thread_count_gensim_gets(monkeypatch):
    import gensim.models

    from scratchlm.vectors.word2vec import train_word2vec

    seen = {}
    real = gensim.models.Word2Vec

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(gensim.models, "Word2Vec", spy)
    assert VectorsConfig().workers == 1  # the default repeats
    train_word2vec(SENTENCES, 8, dataclasses.replace(CFG, workers=3), seed=0)
    assert seen["workers"] == 3 and seen["seed"] == 0
