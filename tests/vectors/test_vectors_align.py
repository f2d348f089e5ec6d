"""Alignment to a vocabulary: tiers, OOV init, specials, dimension changes, coverage, model.init."""

from __future__ import annotations

import numpy as np
import pytest

from scratchlm.errors import DataError
from scratchlm.vectors.align import align, build_matrix, find_rows, read_vectors_file, write_vectors_file
from scratchlm.vectors.base import Vectors
from scratchlm.vectors.project import project_vectors

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@pytest.fixture
def source() -> Vectors:
    words = [
        "the",
        "Apple",
        "apple",
        "wifi",
        "ing",
        "中",
        "国",
        "un",
        "happy",
        "ness",
        "##ness",
        "hello",
        "Berlin",
    ]
    rng = np.random.default_rng(1)
    return Vectors(words, rng.standard_normal((len(words), 4)).astype(np.float32))


def test_each_tier(source):
    vocab = SPECIALS + [
        "the",
        "APPLE",
        "berlin",
        "Ｗｉｆｉ",
        "##ing",
        "▁hello",
        "Ġthe",
        "中国",
        "unhappyness",
        "zzz",
    ]
    found = find_rows(vocab, source, skip=set(range(5)))
    tiers = dict(zip(vocab, found.tier, strict=True))
    assert tiers == {
        **dict.fromkeys(SPECIALS, "special"),
        "the": "exact",
        "APPLE": "lower",
        "berlin": "lower",
        "Ｗｉｆｉ": "nfkc",
        "##ing": "subword",
        "▁hello": "subword",
        "Ġthe": "subword",
        "中国": "chars",
        "unhappyness": "pieces",
        "zzz": "oov",
    }
    rows = dict(zip((vocab[i] for i in found.ids), found.rows, strict=True))
    m = source.matrix
    np.testing.assert_array_equal(rows["APPLE"], m[2])  # its lowercase form
    np.testing.assert_array_equal(rows["berlin"], m[12])  # a word whose lowercase it is
    np.testing.assert_allclose(rows["中国"], (m[5] + m[6]) / 2)
    np.testing.assert_allclose(rows["unhappyness"], (m[7] + m[8] + m[10]) / 3, rtol=1e-6)  # ##ness preferred
    cov = found.coverage
    assert cov.tiers == {"exact": 1, "lower": 2, "nfkc": 1, "subword": 3, "chars": 1, "pieces": 1}
    assert (cov.oov, cov.specials, cov.found) == (1, 5, 9) and cov.misses == ["zzz"]
    assert cov.coverage == pytest.approx(9 / 10)
    assert "subword" in cov.table() and cov.to_dict()["tiers"]["subword"] == 3


def test_tiers_can_be_restricted(source):
    found = find_rows(["APPLE", "中国"], source, tiers=("exact",))
    assert found.tier == ["oov", "oov"]
    with pytest.raises(DataError, match="unknown alignment tier"):
        find_rows(["a"], source, tiers=("fuzzy",))


def test_frequency_weighted_coverage(source):
    found = find_rows(["the", "zzz", "yyy"], source, token_counts={"the": 90, "zzz": 3, "yyy": 7, "[UNK]": 0})
    assert found.coverage.weighted == pytest.approx(0.9)
    assert found.coverage.misses == ["yyy", "zzz"]  # most frequent first


@pytest.mark.parametrize("oov_init", ["normal", "uniform", "zeros", "sampled"])
def test_build_matrix_specials_and_oov(source, oov_init):
    vocab = SPECIALS + ["the", "apple", "zzz", "yyy"]
    matrix, found = build_matrix(
        vocab, source, oov_init=oov_init, pad_id=0, unk_id=1, special_ids={2, 3, 4}, seed=0
    )
    assert matrix.shape == (9, 4) and matrix.dtype == np.float32
    assert not matrix[0].any()  # PAD
    np.testing.assert_allclose(matrix[1], source.matrix[[0, 2]].mean(0), rtol=1e-6)  # UNK: mean of found
    np.testing.assert_array_equal(matrix[5], source.matrix[0])
    if oov_init == "zeros":
        assert not matrix[7:].any()
    else:
        assert matrix[7:].std() > 0
    again, _ = build_matrix(
        vocab, source, oov_init=oov_init, pad_id=0, unk_id=1, special_ids={2, 3, 4}, seed=0
    )
    np.testing.assert_array_equal(matrix, again)


def test_scale_std(source):
    matrix, found = build_matrix(["the", "apple", "wifi", "hello"], source, pad_id=None, scale_std=0.02)
    assert matrix.std() == pytest.approx(0.02, rel=1e-4)


def test_dimension_mismatch_needs_a_choice(source):
    with pytest.raises(DataError, match="choose how to map them"):
        build_matrix(["the"], source, dim=3)
    for method, dim in (("pca", 3), ("random", 3), ("random", 6), ("pad-truncate", 2), ("pad-truncate", 6)):
        matrix, _ = build_matrix(["the", "apple"], source, dim=dim, project=method, pad_id=None)
        assert matrix.shape == (2, dim)
    with pytest.raises(DataError, match="pca cannot raise"):
        build_matrix(["the"], source, dim=6, project="pca")


def test_projections(source):
    up = project_vectors(source, 8, "random")
    np.testing.assert_allclose(
        np.linalg.norm(up.matrix, axis=1), np.linalg.norm(source.matrix, axis=1), rtol=1e-5
    )
    g_src, g_up = source.matrix @ source.matrix.T, up.matrix @ up.matrix.T
    np.testing.assert_allclose(g_up, g_src, atol=1e-4)  # lengths and angles kept
    cut = project_vectors(source, 2, "pad-truncate")
    np.testing.assert_array_equal(cut.matrix, source.matrix[:, :2])
    pca = project_vectors(source, 2, "pca").matrix
    centred = source.matrix - source.matrix.mean(0)
    assert (
        pca.var(0).sum()
        >= project_vectors(Vectors(source.words, centred), 2, "random").matrix.var(0).sum() - 1e-6
    )


def test_exact_align_and_vectors_file_still_work(tmp_path, source):
    path = write_vectors_file(tmp_path / "vectors", source.words, source.matrix)
    tokens, matrix = read_vectors_file(path)
    assert tokens == source.words
    np.testing.assert_array_equal(matrix, source.matrix)
    result = align(SPECIALS + ["the", "Apple", "nope"], tokens, matrix, target_std=None, skip={0, 1, 2, 3, 4})
    assert result.ids.tolist() == [5, 6] and result.found == 2
    assert result.coverage == pytest.approx(2 / 8)


def test_model_init_accepts_any_reader_source(tmp_path, source, write):
    """training.loop.init_embeddings reads files, caches and built-in names through the readers."""
    import torch

    from scratchlm.config import RunConfig
    from scratchlm.modules.embeddings import TokenEmbedding
    from scratchlm.tokenizers import CharTokenizer, Vocab
    from scratchlm.training.loop import init_embeddings

    tokenizer = CharTokenizer(Vocab(SPECIALS + ["中", "国", "A", "x"]))
    path = write(tmp_path, Vectors(["中", "国", "a"], source.matrix[:3]), "word2vec")
    cfg = RunConfig()
    cfg.model.embed_dim, cfg.model.init = 4, str(path)
    cfg.model.vectors_std = cfg.model.init_std  # rescaled rows (the default keeps the vectors' own scale)

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.token_embedding = TokenEmbedding(9, 4, init_std=cfg.model.init_std)

    model = Model()
    report = init_embeddings(model, cfg, tokenizer, [], tmp_path)
    assert report["found"] == 3 and report["tiers"]["lower"] == 1
    weight = model.token_embedding.weight.detach()
    assert not weight[0].any()
    assert weight[5:8].std().item() == pytest.approx(cfg.model.init_std, rel=1e-3)
    cfg.model.embed_dim = 8
    with pytest.raises(DataError, match=r"dimension 4 but model.embed_dim is 8.*--project pca"):
        init_embeddings(Model(), cfg, tokenizer, [], tmp_path)
