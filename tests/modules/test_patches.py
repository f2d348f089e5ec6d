"""PatchEmbedding: the module harness for both ways, the two ways equal on the same weights, the patch order,
a clear error for image sides that are not multiples of the patch size."""

from __future__ import annotations

import pytest
import torch

from harness import run_module_test
from scratchlm.modules.patches import PatchEmbedding


@pytest.mark.parametrize("kind", ["conv", "unfold"])
def test_module_harness(kind):
    run_module_test(
        lambda: PatchEmbedding(3, 16, 4, kind=kind),
        (torch.randn(2, 3, 8, 12),),
        expected_shape=(2, 6, 16),  # (8/4) x (12/4) patches
        num_trainable=16 * 3 * 4 * 4 + 16,
    )


def test_conv_and_unfold_give_the_same_vectors_from_the_same_weights():
    torch.manual_seed(0)
    conv = PatchEmbedding(3, 32, 4, kind="conv")
    unfold = PatchEmbedding(3, 32, 4, kind="unfold")
    unfold.load_state_dict(conv.state_dict())
    x = torch.randn(5, 3, 16, 8)
    torch.testing.assert_close(conv(x), unfold(x), atol=1e-5, rtol=1e-5)


def test_patches_are_row_major_and_each_sees_only_its_pixels():
    emb = PatchEmbedding(1, 1, 2, kind="conv")
    with torch.no_grad():
        emb.weight.fill_(1.0)  # each output = the sum of the patch's pixels
        emb.bias.zero_()
    x = torch.arange(16.0).reshape(1, 1, 4, 4)
    # patches (0,0): 0+1+4+5, (0,1): 2+3+6+7, (1,0): 8+9+12+13, (1,1): 10+11+14+15
    assert emb(x)[0, :, 0].tolist() == [10.0, 18.0, 42.0, 50.0]
    unfold = PatchEmbedding(1, 1, 2, kind="unfold")
    unfold.load_state_dict(emb.state_dict())
    assert unfold(x)[0, :, 0].tolist() == [10.0, 18.0, 42.0, 50.0]


def test_sides_not_multiple_of_the_patch_are_refused():
    emb = PatchEmbedding(1, 8, 4)
    with pytest.raises(ValueError, match="multiple of 4"):
        emb(torch.randn(1, 1, 8, 6))
    with pytest.raises(ValueError, match=r"expected pixels \(b, 1, H, W\)"):
        emb(torch.randn(1, 3, 8, 8))
    with pytest.raises(ValueError, match="unknown patch embedding"):
        PatchEmbedding(1, 8, 4, kind="linear")
