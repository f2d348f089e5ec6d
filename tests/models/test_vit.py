"""The ViT classifier: every positional kind builds and runs; the encoder, pooling and head are the text
classifier's own classes; rope_2d sits in every attention module; a learned table runs at another image
size (resampled); without positions (and with [CLS]) the output ignores the patch order."""

from __future__ import annotations

import pytest
import torch

from scratchlm.config import ModelConfig
from scratchlm.models.classifier import TextClassifier
from scratchlm.models.vit import ImageClassifier
from scratchlm.modules.rotary_2d import Rotary2DEmbedding


def _cfg(kind: str, **patches) -> ModelConfig:
    return ModelConfig(
        embed_dim=16,
        encoder={"num_layers": 2, "num_heads": 2, "ffn_dim": 32},
        positional={"kind": kind},
        patches={"size": 2, **patches},
        dropout=0.0,
        embedding_dropout=0.0,
    )


@pytest.mark.parametrize("kind", ["none", "learned", "sinusoidal_2d", "learned_2d", "rope_2d"])
@pytest.mark.parametrize("embedding", ["conv", "unfold"])
def test_every_kind_runs_and_trains(kind, embedding):
    model = ImageClassifier(_cfg(kind, embedding=embedding), channels=3, image_size=8, num_classes=5)
    logits = model(torch.randn(4, 3, 8, 8))
    assert logits.shape == (4, 5)
    logits.sum().backward()
    assert model.input.patch_embedding.weight.grad.abs().sum() > 0


def test_reuses_the_text_classifiers_encoder_pooling_and_head():
    cfg = _cfg("rope_2d")
    vit = ImageClassifier(cfg, channels=1, image_size=8, num_classes=3)
    text = TextClassifier(cfg, vocab_size=50, num_classes=3, max_seq_len=16)
    assert type(vit.encoder) is type(text.encoder) and type(vit.head) is type(text.head)
    assert vit.pool is text.pool
    rotations = {id(layer.attention.pos_embeddings) for layer in vit.encoder.layers}
    assert rotations == {id(vit.rope)} and isinstance(vit.rope, Rotary2DEmbedding)


@pytest.mark.parametrize("kind", ["learned", "learned_2d", "sinusoidal_2d", "rope_2d"])
def test_runs_at_another_image_size(kind):
    model = ImageClassifier(_cfg(kind), channels=1, image_size=8, num_classes=3).eval()
    assert model(torch.randn(2, 1, 12, 12)).shape == (2, 3)  # a 6x6 grid for a model built at 4x4


def test_without_positions_the_patch_order_does_not_matter():
    torch.manual_seed(0)
    model = ImageClassifier(_cfg("none"), channels=1, image_size=4, num_classes=3).eval()
    x = torch.randn(1, 1, 4, 4)
    swapped = x.clone()
    swapped[..., :2, :2], swapped[..., 2:, 2:] = x[..., 2:, 2:], x[..., :2, :2]  # two patches exchanged
    torch.testing.assert_close(model(x), model(swapped), atol=1e-5, rtol=1e-5)
    positioned = ImageClassifier(_cfg("sinusoidal_2d"), channels=1, image_size=4, num_classes=3).eval()
    assert not torch.allclose(positioned(x), positioned(swapped), atol=1e-4)
