"""Transplant test fixtures (shared by tests/transplant/ and tests/cli/, imported by their conftest.py
files): a tiny random BERT-family directory (config.json, model.safetensors, vocab.txt) and a target
character tokenizer."""

from __future__ import annotations

import json

import pytest
import torch

SOURCE_VOCAB = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "the",
    "cat",
    "dog",
    "play",
    "##s",
    "##ing",
    "a",
    "b",
    "好",
    "人",
    "中",
    "国",
    "大",
    "小",
    "天",
]
HF_TINY = dict(
    vocab_size=len(SOURCE_VOCAB),
    hidden_size=16,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=32,
    max_position_embeddings=16,
    type_vocab_size=2,
    layer_norm_eps=1e-12,
    hidden_dropout_prob=0.0,
    attention_probs_dropout_prob=0.0,
    pad_token_id=0,
)


@pytest.fixture(scope="session")
def bert_dir(tmp_path_factory):
    transformers = pytest.importorskip("transformers")
    from scratchlm.io import save_tensors

    d = tmp_path_factory.mktemp("tiny_bert")
    torch.manual_seed(0)
    model = transformers.BertModel(transformers.BertConfig(**HF_TINY))
    save_tensors(d / "model.safetensors", model.state_dict())
    (d / "config.json").write_text(json.dumps({**HF_TINY, "model_type": "bert"}), encoding="utf-8")
    (d / "vocab.txt").write_text("\n".join(SOURCE_VOCAB) + "\n", encoding="utf-8")
    return d


@pytest.fixture(scope="session")
def char_tokenizer_dir(tmp_path_factory):
    from scratchlm.tokenizers import train_tokenizer

    d = tmp_path_factory.mktemp("char_tok")
    texts = ["好人中国大小天气很好", "A cat plays 猫狗", "天天好心情 中国人"] * 3
    train_tokenizer("char", texts).save(d)
    return d
