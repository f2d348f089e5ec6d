"""The image side of ``ablate``: shuffling patches is a permutation of blocks; the measure on a run; the
table and the whole ablation on a tiny grid."""

from __future__ import annotations

import torch

from scratchlm.experiments.ablate_images import measure, shuffle_patches


def test_shuffle_moves_whole_patches():
    x = torch.arange(2 * 4 * 6.0).reshape(2, 4, 6)
    y = shuffle_patches(x, 2, torch.Generator().manual_seed(1))

    def blocks(t):
        return sorted(t[:, r : r + 2, c : c + 2].flatten().tolist() for r in (0, 2) for c in (0, 2, 4))

    assert blocks(x) == blocks(y) and not torch.equal(x, y)


def test_measure_and_tiny_ablation(tiny_image_run, tmp_path):
    from cli_helpers import ROOT
    from conftest import TINY_IMAGE_SETS
    from scratchlm.experiments.ablate import ablate

    assert 0.0 <= measure(tiny_image_run)["shuffled_test_accuracy"] <= 1.0
    sets = [s for s in TINY_IMAGE_SETS if not s.startswith("train.epochs")] + ["train.epochs=1"]
    result = ablate(
        ROOT / "configs" / "digits_vit.yaml",
        ["model.positional.kind=none,rope_2d"],
        seeds=1,
        out=tmp_path / "abl",
        sets=sets,
    )
    assert "test acc, patches shuffled" in result["table"]
    assert all(r["shuffled_test_accuracy"] is not None for r in result["runs"])
    assert (tmp_path / "abl" / "ablation.png").is_file()
