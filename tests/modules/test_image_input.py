"""ImageInputLayer: the module harness with each part; [CLS] first and position-free; positions follow the grid."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from harness import run_module_test
from scratchlm.modules.class_token import ClassToken
from scratchlm.modules.image_input import ImageInputLayer
from scratchlm.modules.patches import PatchEmbedding
from scratchlm.modules.positional_2d import LearnedPatchPositions, Sinusoidal2DPositionalEncoding


@pytest.mark.parametrize("cls", [True, False])
def test_module_harness(cls):
    run_module_test(
        lambda: ImageInputLayer(
            PatchEmbedding(1, 8, 2),
            LearnedPatchPositions(8, (4, 4)),
            class_token=ClassToken(8, init_std=0.02) if cls else None,
            norm=nn.LayerNorm(8),
        ),
        (torch.randn(2, 1, 8, 8),),
        expected_shape=(2, 16 + cls, 8),
    )


def test_positions_are_added_to_patches_and_cls_has_none():
    torch.manual_seed(0)
    patch = PatchEmbedding(1, 8, 2)
    layer = ImageInputLayer(patch, Sinusoidal2DPositionalEncoding(8), class_token=ClassToken(8)).eval()
    x = torch.randn(1, 1, 4, 6)
    out = layer(x)
    assert layer.num_prefix_tokens == 1 and layer.grid(x) == (2, 3)
    torch.testing.assert_close(out[0, 1:], patch(x)[0] + layer.positional.encodings(2, 3))
    assert torch.equal(out[0, 0], layer.class_token.token[0, 0])
