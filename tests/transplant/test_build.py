"""Tiers composed in order into a target vocabulary's matrix (transplant/build.py): strategies,
``build_matrix`` from vectors (specials, OOV inits, rescaling, dimension changes), positions resized."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchlm.errors import DataError
from scratchlm.transplant.build import build_embedding, build_matrix, parse_strategies, resize_positions
from scratchlm.transplant.report import make_report
from scratchlm.transplant.sources import read_bert_dir
from scratchlm.vectors.base import Vectors
from vectors_helpers import tier_source

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@pytest.fixture(scope="module")
def source(bert_dir):
    return read_bert_dir(bert_dir)


def test_tiers_in_order_and_counts_add_up(source):
    target = ["[PAD]", "[UNK]", "cat", "Cat", "cats", "中国", "猫", "天"]
    built = build_embedding(target, source, ["exact", "normalized", "chars", "compose"], seed=1)
    assert built.tiers == ["exact", "exact", "exact", "normalized", "compose", "chars", "random", "exact"]
    np.testing.assert_array_equal(built.matrix[2], built.matrix[3])  # Cat took cat's row
    report = make_report(target, built, source, ["exact", "normalized", "compose", "chars"])
    assert sum(report["tiers"].values()) == report["vocab_size"] == len(target)
    assert report["tiers"]["random"] == 1 and report["token_tiers"]["猫"] == "random"
    # order matters: compose first takes "Cat" (the tokenizer lowercases) before normalized could
    again = build_embedding(target, source, ["exact", "compose", "normalized"])
    assert again.tiers[3] == "compose"


def test_parse_strategies_errors():
    assert parse_strategies("exact, knn,sampled") == ["exact", "knn", "sampled"]
    with pytest.raises(DataError, match=r"unknown strategy 'fasttext'.*choose"):
        parse_strategies("exact,fasttext")
    with pytest.raises(DataError, match="twice"):
        parse_strategies("exact,exact")


def test_resize_positions():
    table = torch.arange(12.0).view(4, 3)
    assert torch.equal(resize_positions(table, 2), table[:2])
    ext = resize_positions(table, 6, "extend")
    assert torch.equal(ext[:4], table) and torch.equal(ext[4:], table[:2])
    interp = resize_positions(table, 7, "interpolate")
    assert torch.equal(interp[0], table[0]) and torch.equal(interp[-1], table[-1])
    torch.testing.assert_close(interp[1], (table[0] + table[1]) / 2)  # 7 points over 4: halfway steps
    with pytest.raises(DataError):
        resize_positions(table, 6, "cubic")


@pytest.fixture
def vectors() -> Vectors:
    return tier_source()


def test_build_matrix_tiers_and_rows():
    rng = np.random.default_rng(3)
    words = ["the", "paris", "中", "国", "of"]
    vectors = Vectors(words, rng.standard_normal((len(words), 6)).astype(np.float32), "memory", "test")
    vocab = ["[PAD]", "[UNK]", "the", "Paris", "Ｔｈｅ", "中国", "zzzz"]
    matrix, found = build_matrix(vocab, vectors, pad_id=0, unk_id=1, oov_init="zeros")
    assert found.tier == ["special", "special", "exact", "normalized", "normalized", "chars", "oov"]
    np.testing.assert_array_equal(matrix[3], vectors.vector("paris"))
    np.testing.assert_allclose(matrix[5], (vectors.vector("中") + vectors.vector("国")) / 2)
    assert not matrix[0].any() and not matrix[6].any()  # [PAD] and the zeros OOV init
    np.testing.assert_allclose(matrix[1], matrix[2:6].mean(0), rtol=1e-6)  # [UNK]: mean of the found rows


@pytest.mark.parametrize("oov_init", ["normal", "uniform", "zeros", "sampled"])
def test_build_matrix_specials_and_oov(vectors, oov_init):
    vocab = SPECIALS + ["the", "apple", "zzz", "yyy"]
    matrix, found = build_matrix(
        vocab, vectors, oov_init=oov_init, pad_id=0, unk_id=1, special_ids={2, 3, 4}, seed=0
    )
    assert matrix.shape == (9, 4) and matrix.dtype == np.float32
    assert not matrix[0].any()  # PAD
    np.testing.assert_allclose(matrix[1], vectors.matrix[[0, 2]].mean(0), rtol=1e-6)  # UNK: mean of found
    np.testing.assert_array_equal(matrix[5], vectors.matrix[0])
    if oov_init == "zeros":
        assert not matrix[7:].any()
    else:
        assert matrix[7:].std() > 0
    again, _ = build_matrix(
        vocab, vectors, oov_init=oov_init, pad_id=0, unk_id=1, special_ids={2, 3, 4}, seed=0
    )
    np.testing.assert_array_equal(matrix, again)


def test_scale_std(vectors):
    matrix, found = build_matrix(["the", "apple", "wifi", "hello"], vectors, pad_id=None, scale_std=0.02)
    assert matrix.std() == pytest.approx(0.02, rel=1e-4)


def test_dimension_mismatch_needs_a_choice(vectors):
    with pytest.raises(DataError, match="choose how to map them"):
        build_matrix(["the"], vectors, dim=3)
    for method, dim in (("pca", 3), ("random", 3), ("random", 6), ("pad-truncate", 2), ("pad-truncate", 6)):
        matrix, _ = build_matrix(["the", "apple"], vectors, dim=dim, project=method, pad_id=None)
        assert matrix.shape == (2, dim)
    with pytest.raises(DataError, match="pca cannot raise"):
        build_matrix(["the"], vectors, dim=6, project="pca")
