"""``TokenEmbedding.from_vectors``: an aligned matrix or ``Vectors`` + vocabulary, and the three freeze modes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchlm.modules import TokenEmbedding
from scratchlm.vectors.align import build_matrix
from scratchlm.vectors.base import Vectors

VOCAB = ["[PAD]", "[UNK]", "the", "Paris", "Ｔｈｅ", "中国", "zzzz"]


@pytest.fixture
def vectors() -> Vectors:
    rng = np.random.default_rng(3)
    words = ["the", "paris", "中", "国", "of"]
    return Vectors(words, rng.standard_normal((len(words), 6)).astype(np.float32), "memory", "test")


def _train(emb: TokenEmbedding, ids: torch.Tensor, steps: int = 3) -> None:
    params = [p for p in emb.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.5) if params else None
    for _ in range(steps):
        if opt:
            opt.zero_grad()
        out = (emb(ids) * torch.linspace(-1, 1, emb.embed_dim)).sum()
        if out.requires_grad:
            out.backward()
        if opt:
            opt.step()


def test_aligned_matrix_is_copied_with_a_zero_padding_row():
    matrix = torch.arange(12, dtype=torch.float64).view(4, 3) + 1
    emb = TokenEmbedding.from_vectors(matrix)
    assert (emb.vocab_size, emb.embed_dim) == (4, 3)
    assert emb.weight.dtype == torch.float32
    assert not emb.weight[0].any()  # padding row zero even though the matrix had values there
    torch.testing.assert_close(emb.weight[1:].detach(), matrix[1:].float())
    same = TokenEmbedding.from_vectors(matrix.numpy(), padding_idx=None)
    torch.testing.assert_close(same.weight.detach(), matrix.float())


def test_vectors_and_vocab_give_build_matrix_rows(vectors):
    emb = TokenEmbedding.from_vectors(vectors, VOCAB, unk_id=1, oov_init="zeros")
    expected, found = build_matrix(VOCAB, vectors, pad_id=0, unk_id=1, oov_init="zeros")
    torch.testing.assert_close(emb.weight.detach(), torch.from_numpy(expected))
    assert found.tier[2:] == ["exact", "lower", "nfkc", "chars", "oov"]
    torch.testing.assert_close(emb.weight[3].detach(), torch.from_numpy(vectors.vector("paris")))
    mean = (vectors.vector("中") + vectors.vector("国")) / 2
    torch.testing.assert_close(emb.weight[5].detach(), torch.from_numpy(mean))


def test_fine_tune_trains_every_row(vectors):
    emb = TokenEmbedding.from_vectors(vectors, VOCAB, unk_id=1)
    before = emb.weight.detach().clone()
    _train(emb, torch.tensor([[2, 3, 5, 6, 1, 0]]))
    after = emb.weight.detach()
    for row in (1, 2, 3, 5, 6):
        assert not torch.equal(after[row], before[row])
    assert not after[0].any()


def test_freeze_all_trains_nothing(vectors):
    emb = TokenEmbedding.from_vectors(vectors, VOCAB, unk_id=1, freeze="all")
    assert not emb.weight.requires_grad
    before = emb.weight.detach().clone()
    _train(emb, torch.tensor([[2, 3, 5, 6, 1, 0]]))
    assert torch.equal(emb.weight.detach(), before)


def test_freeze_pretrained_trains_only_the_new_rows(vectors):
    emb = TokenEmbedding.from_vectors(vectors, VOCAB, unk_id=1, freeze="pretrained")
    assert emb.frozen_rows.tolist() == [False, False, True, True, True, True, False]
    before = emb.weight.detach().clone()
    _train(emb, torch.tensor([[2, 3, 4, 5, 6, 1, 0]]))
    after = emb.weight.detach()
    assert torch.equal(after[2:6], before[2:6])  # found in the vectors: kept
    assert not torch.equal(after[6], before[6]) and not torch.equal(after[1], before[1])  # new rows train
    assert not after[0].any()


def test_freeze_pretrained_with_an_aligned_matrix_needs_the_ids():
    matrix = torch.randn(5, 4)
    with pytest.raises(ValueError, match="pretrained_ids"):
        TokenEmbedding.from_vectors(matrix, freeze="pretrained")
    emb = TokenEmbedding.from_vectors(matrix, freeze="pretrained", pretrained_ids=[1, 2])
    assert emb.frozen_rows.tolist() == [False, True, True, False, False]


def test_bad_arguments(vectors):
    with pytest.raises(ValueError, match="freeze must be one of none, pretrained, all"):
        TokenEmbedding.from_vectors(torch.zeros(3, 2), freeze="yes")
    with pytest.raises(ValueError, match=r"aligned \(V, d\) matrix"):
        TokenEmbedding.from_vectors(torch.zeros(3))
    from scratchlm.errors import DataError

    with pytest.raises(DataError, match="project="):
        TokenEmbedding.from_vectors(vectors, VOCAB, embed_dim=4)
    emb = TokenEmbedding.from_vectors(vectors, VOCAB, embed_dim=4, project="pad-truncate")
    assert emb.embed_dim == 4


def test_scale_std_rescales_the_found_rows(vectors):
    emb = TokenEmbedding.from_vectors(vectors, VOCAB, scale_std=0.02, oov_init="zeros")
    found = emb.weight.detach()[[2, 3, 4, 5]]
    assert found.std().item() == pytest.approx(0.02, rel=0.05)
