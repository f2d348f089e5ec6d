"""model.init: a pretraining run -> its tokenizer and exactly its input layer + encoder tensors; strict
checks; freezing (the layer-wise learning rates themselves: tests/training/test_optim.py)."""

from __future__ import annotations

import pytest
import torch

from cli_helpers import ROOT
from scratchlm.config import load_config
from scratchlm.errors import ConfigError
from scratchlm.io import load_tensors
from scratchlm.tokenizers import load_tokenizer
from scratchlm.training.finetune import pretrained_tokenizer
from scratchlm.training.init import init_embeddings
from scratchlm.training.loop import train
from scratchlm.training.run_dir import build_model

SMALL = [
    "model.embed_dim=32",
    "model.encoder.num_layers=2",
    "model.encoder.num_heads=2",
    "model.encoder.ffn_dim=64",
]
SMALL += ["model.positional.kind=learned", "model.embedding_norm=layernorm", "data.max_seq_len=64"]


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    root = tmp_path_factory.mktemp("pre")
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(f"这本书写得很好，第{i}次推荐" for i in range(300)), encoding="utf-8")
    cfg = load_config(
        ROOT / "configs" / "pd1998_mlm.yaml",
        [f"data.corpus={corpus}", *SMALL, "data.whole_word_mask=false", "train.max_steps=6"]
        + ["train.batch_size=16", "train.num_threads=1", "train.progress=false"],
    )
    train(cfg, root / "run")
    return root / "run"


def _finetune_cfg(run, *more):
    return load_config(
        ROOT / "configs" / "tiny_test.yaml",
        [*SMALL, "model.bigram_buckets=0", f"model.init={run}", *more],
    )


def test_loads_exactly_the_pretrained_tensors(pretrained, tmp_path):
    cfg = _finetune_cfg(pretrained, "data.task=classification")
    tokenizer = pretrained_tokenizer(cfg)
    assert tokenizer.vocab.tokens == load_tokenizer(pretrained / "tokenizer").vocab.tokens
    model = build_model(cfg, len(tokenizer.vocab), 2, 0, ["negative", "positive"])
    head_before = model.head.proj.weight.clone()
    report = init_embeddings(model, cfg, tokenizer, [], tmp_path)
    saved = load_tensors(pretrained / "model.safetensors")
    body = {k: v for k, v in model.state_dict().items() if k.startswith(("input.", "encoder."))}
    assert report["tensors"] == len(body) and len(body) > 10
    for key, value in body.items():
        assert torch.equal(value, saved[key]), key
    assert torch.equal(model.head.proj.weight, head_before)  # the head is not the MLM's


def test_shape_and_key_mismatch_lists_them(pretrained, tmp_path):
    cfg = _finetune_cfg(
        pretrained, "data.task=classification", "model.encoder.ffn_dim=48", "model.encoder.num_layers=3"
    )
    tokenizer = pretrained_tokenizer(cfg)
    model = build_model(cfg, len(tokenizer.vocab), 2, 0)
    with pytest.raises(ConfigError) as err:
        init_embeddings(model, cfg, tokenizer, [], tmp_path)
    msg = str(err.value)
    assert "missing from the run: encoder.layers.2." in msg
    assert "encoder.layers.0.feed_forward.up.weight (64, 32) there, (48, 32) here" in msg
    assert "encoder.ffn_dim: 64 there, 48 here" in msg and "encoder.num_layers: 2 there, 3 here" in msg


def test_finetune_run_with_frozen_embeddings_and_bottom_layer(pretrained, tmp_path):
    cfg = _finetune_cfg(
        pretrained,
        "model.freeze_embeddings=true",
        "model.freeze_layers=1",
        "train.layer_lr_decay=0.8",
        "train.max_steps=5",
        "data.max_train_examples=200",
        "data.max_eval_examples=50",
        "train.num_threads=1",
    )
    train(cfg, tmp_path / "ft")
    saved = load_tensors(pretrained / "model.safetensors")
    tuned = load_tensors(tmp_path / "ft" / "model.safetensors")
    frozen = [k for k in saved if k.startswith(("input.token_embedding.", "encoder.layers.0."))]
    assert all(torch.equal(saved[k], tuned[k]) for k in frozen)
    assert not torch.equal(
        saved["encoder.layers.1.feed_forward.up.weight"], tuned["encoder.layers.1.feed_forward.up.weight"]
    )
    assert (tmp_path / "ft" / "tokenizer" / "vocab.txt").read_text() == (
        pretrained / "tokenizer" / "vocab.txt"
    ).read_text()


def test_a_character_pair_table_is_added_at_zero_and_changes_nothing(pretrained, tmp_path):
    """A run without pairs fine-tunes into a model with them: the table starts at zero, so the model
    computes exactly what the model without it computes; any other missing tensor is still an error."""
    outputs, head = {}, None
    for buckets in (0, 1000):
        cfg = _finetune_cfg(pretrained, "data.task=classification", f"model.bigram_buckets={buckets}")
        tokenizer = pretrained_tokenizer(cfg)
        model = build_model(cfg, len(tokenizer.vocab), 2, 0, ["negative", "positive"])
        report = init_embeddings(model, cfg, tokenizer, [], tmp_path)
        head = head or model.head.state_dict()
        model.head.load_state_dict(head)  # the same (fresh) head in both
        ids = torch.tensor([tokenizer.encode("这本书写得很好，推荐").ids])
        model.eval()
        with torch.no_grad():
            outputs[buckets] = model(ids, ids != 0)
        if buckets:
            assert report["added_at_zero"] == ["input.bigram_embedding.embedding.weight"]
            assert not model.input.bigram_embedding.embedding.weight.any()
            bucket_ids = model.input.bigram_embedding.bucket_ids(ids)
            assert bucket_ids[0, :-1].gt(0).all()  # the pairs really are looked up
    torch.testing.assert_close(outputs[1000], outputs[0], rtol=0, atol=0)


def test_a_checkpoint_folder_as_model_init_names_the_two_commands(tmp_path):
    from scratchlm.training.finetune import pretraining_run

    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(
        ConfigError,
        match=r"is a Hugging Face checkpoint folder; make it a model directory first: scratchlm tokenizer import .* --strategy exact",
    ):
        pretraining_run(str(tmp_path))
