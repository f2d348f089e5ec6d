"""Model summary: totals equal the model's own count; the main parts have rows; a factorized embedding's
row names its factors and what they save."""

from __future__ import annotations

import re

import torch

from scratchlm.config import ModelConfig
from scratchlm.models import TextClassifier
from scratchlm.viz.summary import summarize


def _model(**kw):
    cfg = ModelConfig(embed_dim=16, num_layers=2, num_heads=2, ffn_dim=32, **kw)
    return TextClassifier(cfg, vocab_size=50, num_classes=3, max_seq_len=20)


def _count(line: str) -> int:
    return int(line.rsplit(None, 1)[-1].replace(",", ""))


def test_total_params_equals_the_model_count():
    model = _model(bigram_buckets=40)
    text = summarize(model, torch.tensor([[2, 5, 6, 7]]))
    total = next(line for line in text.splitlines() if line.startswith("Total params:"))
    assert _count(total) == sum(p.numel() for p in model.parameters())
    trainable = next(line for line in text.splitlines() if line.startswith("Trainable params:"))
    assert _count(trainable) == sum(p.numel() for p in model.parameters())
    assert "Non-trainable params: 0" in text


def test_non_trainable_parameters_are_counted_apart():
    model = _model()
    model.token_embedding.weight.requires_grad_(False)
    text = summarize(model, torch.tensor([[2, 5]]))
    frozen = model.token_embedding.weight.numel()
    assert f"Non-trainable params: {frozen:,}" in text
    total = sum(p.numel() for p in model.parameters())
    assert f"Trainable params: {total - frozen:,}" in text


def test_rows_for_input_encoder_head_with_their_counts_and_shapes():
    model = _model()
    ids = torch.tensor([[2, 5, 6, 7, 8], [2, 3, 0, 0, 0]])
    text = summarize(model, ids)
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^(\S+) \((\w+)\)\s+(\S.*?)\s+([\d,]+)$", line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3), int(m.group(4).replace(",", "")))
    for name in ("input", "encoder", "head"):
        assert name in rows, text
        assert rows[name][2] == sum(p.numel() for p in getattr(model, name).parameters())
    assert rows["input"][0] == "InputLayer" and rows["head"][0] == "ClassificationHead"
    assert rows["encoder"][1] == "(2, 5, 16)"
    assert rows["head"][1] == "(2, 3)"
    assert "Output: (2, 3) for input (2, 5)" in text
    # depth-2 rows are indented under their parent; nothing deeper at the default max_depth
    assert re.search(r"^  encoder\.layers\.0 \(TransformerEncoderLayer\)", text, re.M)
    assert not re.search(r"encoder\.layers\.0\.attention", text)


def test_summary_leaves_training_mode_unchanged():
    model = _model()
    model.train()
    summarize(model, torch.tensor([[2, 3]]))
    assert model.training
    model.eval()
    summarize(model, torch.tensor([[2, 3]]))
    assert not model.training


def test_factorized_embedding_row_and_its_saving():
    V, D = 3000, 64
    cfg = ModelConfig(embed_dim=D, num_heads=2, num_layers=1, ffn_dim=32, embedding_rank=8)
    model = TextClassifier(cfg, vocab_size=V, num_classes=2, max_seq_len=16)
    dense = TextClassifier(
        ModelConfig(embed_dim=D, num_heads=2, num_layers=1, ffn_dim=32),
        vocab_size=V,
        num_classes=2,
        max_seq_len=16,
    )
    count = sum(p.numel() for p in model.parameters())
    assert sum(p.numel() for p in dense.parameters()) - count == V * D - (V * 8 + 8 * D)
    table = summarize(model, torch.randint(5, V, (2, 8)))
    saved = V * D - (V * 8 + 8 * D)
    assert f"input.token_embedding: factorized token embedding: A {V} x 8 + B 8 x {D}" in table
    assert f"saves {saved:,}" in table
    assert f"{V * 8 + 8 * D:>14,}" in table  # the row of input.token_embedding
