"""The masked LM: tied output matrix, projection only at predicted positions, same parts as the classifier."""

from __future__ import annotations

import torch

from scratchlm.config import ModelConfig
from scratchlm.models import TextClassifier
from scratchlm.models.masked_lm import IGNORE, MaskedLanguageModel

CFG = ModelConfig(
    embed_dim=16,
    encoder={"num_layers": 1, "num_heads": 2, "ffn_dim": 32, "attention_dropout": 0.0},
    dropout=0.0,
    embedding_dropout=0.0,
)


def test_tied_head_and_masked_positions_only():
    model = MaskedLanguageModel(CFG, vocab_size=30, max_seq_len=8)
    ids = torch.randint(5, 30, (2, 8))
    mask = torch.ones_like(ids, dtype=torch.bool)
    targets = torch.full_like(ids, IGNORE)
    targets[0, 3], targets[1, 5] = 7, 9
    logits = model(ids, mask, targets)
    assert logits.shape == (2, 30)  # two predicted positions, not 2 x 8
    # no separate output matrix: the only (V, d) parameter is the token embedding
    big = [n for n, p in model.named_parameters() if p.shape == (30, 16)]
    assert big == ["input.token_embedding.embedding.weight"]
    # the head's projection is the embedding: logits equal transform(h) @ E^T + bias
    h = model.encode(ids, mask)[targets != IGNORE]
    head = model.mlm_head
    x = head.norm(torch.nn.functional.gelu(head.transform(h)))
    torch.testing.assert_close(logits, x @ model.token_embedding.weight.T + head.bias)
    model.loss(ids, mask, targets).backward()
    assert model.token_embedding.weight.grad[7].abs().sum() > 0  # output side reaches the embedding


def test_same_input_layer_and_encoder_keys_as_the_classifier():
    mlm = MaskedLanguageModel(CFG, vocab_size=30, max_seq_len=8)
    clf = TextClassifier(CFG, vocab_size=30, num_classes=2, max_seq_len=8)
    body = lambda sd: {k: v.shape for k, v in sd.items() if k.startswith(("input.", "encoder."))}  # noqa: E731
    assert body(mlm.state_dict()) == body(clf.state_dict())
