"""Checkpoint folder layouts (models/hf_layouts.py): every layout a tiny transformers model is saved in
reads to the same tensors, and each folder that is not one says what is wrong in one line."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from hf_helpers import checkpoint_dir
from scratchlm.errors import DataError
from scratchlm.models.hf_layouts import legacy_renamed, load_bin, read_checkpoint


def _one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "layout, read_as",
    [
        ("safetensors", "model.safetensors"),
        ("legacy", "model.safetensors"),
        ("bin", "pytorch_model.bin"),
        ("sharded", "safetensors shards"),
        ("sentence-transformers", "sentence-transformers (mean pooling, normalized), model.safetensors"),
    ],
)
def test_every_layout_reads(tmp_path_factory, layout, read_as):
    ck = read_checkpoint(checkpoint_dir(tmp_path_factory, "bert", layout))
    assert read_as in ck.layout
    assert ck.config["model_type"] == "bert"
    assert not any(k.endswith((".gamma", ".beta")) for k in ck.state)
    prefixed = layout in ("legacy", "bin")  # BertForPreTraining: bert. prefix and cls.* heads
    assert any(k.startswith("bert.") for k in ck.state) == prefixed
    assert any(k.startswith("cls.") for k in ck.state) == prefixed
    assert (ck.renamed > 0) == (layout == "legacy")
    assert (ck.pooling, ck.normalize) == (
        ("mean", True) if layout == "sentence-transformers" else (None, False)
    )


def test_sharded_reads_the_same_tensors_as_one_file(tmp_path_factory):
    one = read_checkpoint(checkpoint_dir(tmp_path_factory, "bert", "safetensors")).state
    sharded = read_checkpoint(checkpoint_dir(tmp_path_factory, "bert", "sharded")).state
    assert one.keys() == sharded.keys()
    assert all(torch.equal(one[k], sharded[k]) for k in one)


def test_legacy_names():
    state, n = legacy_renamed({"a.LayerNorm.gamma": 1, "a.LayerNorm.beta": 2, "a.dense.weight": 3})
    assert state == {"a.LayerNorm.weight": 1, "a.LayerNorm.bias": 2, "a.dense.weight": 3} and n == 2


def test_a_bin_that_needs_pickle_code_is_refused(tmp_path):
    import numpy as np

    path = tmp_path / "pytorch_model.bin"
    torch.save({"w": torch.zeros(2), "extra": np.zeros(2)}, path)  # numpy: not a weights-only object
    with pytest.raises(DataError) as exc:
        load_bin(path)
    assert "needs pickle code to load" in _one_line(exc)
    torch.save({"state_dict": {"w": torch.ones(2)}}, path)
    assert torch.equal(load_bin(path)["w"], torch.ones(2))


def test_folders_that_are_not_checkpoints(tmp_path_factory, tmp_path):
    with pytest.raises(DataError, match="not a directory") as exc:
        read_checkpoint(tmp_path / "nothing")
    _one_line(exc)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(
        DataError, match=r"not a checkpoint folder: none of model.safetensors.*\(it has notes.txt\)"
    ):
        read_checkpoint(tmp_path)
    (tmp_path / "tf_model.h5").write_bytes(b"")
    with pytest.raises(DataError, match="only tf_model.h5 weights"):
        read_checkpoint(tmp_path)
    src = checkpoint_dir(tmp_path_factory, "bert", "sharded")
    broken = tmp_path / "broken"
    shutil.copytree(src, broken)
    shard = sorted(broken.glob("model-0000*.safetensors"))[-1]
    shard.unlink()
    with pytest.raises(DataError, match=f"1 of .* shards missing: {shard.name}") as exc:
        read_checkpoint(broken)
    _one_line(exc)
    (broken / "config.json").unlink()
    with pytest.raises(DataError, match="no config.json"):
        read_checkpoint(broken)


def test_sentence_transformers_pooling_it_cannot_reproduce(tmp_path_factory, tmp_path):
    folder = tmp_path / "st"
    shutil.copytree(checkpoint_dir(tmp_path_factory, "bert", "sentence-transformers"), folder)
    cfg = folder / "1_Pooling" / "config.json"
    pooling = json.loads(cfg.read_text())
    cfg.write_text(
        json.dumps({**pooling, "pooling_mode_mean_tokens": False, "pooling_mode_mean_sqrt_len_tokens": True})
    )
    with pytest.raises(DataError, match="pooling mean_sqrt_len_tokens; scratchlm pools cls, mean") as exc:
        read_checkpoint(folder)
    _one_line(exc)
    cfg.write_text(json.dumps({**pooling, "pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}))
    assert read_checkpoint(folder).pooling == "cls"


def test_a_pre_zip_bin_is_read_without_mmap(tmp_path):
    path = tmp_path / "pytorch_model.bin"
    torch.save({"w": torch.arange(3.0)}, path, _use_new_zipfile_serialization=False)  # torch < 1.6's format
    assert torch.equal(load_bin(path)["w"], torch.arange(3.0))


def test_an_older_sentence_transformers_folder_with_0_transformer(tmp_path_factory, tmp_path):
    src = checkpoint_dir(tmp_path_factory, "bert", "sentence-transformers")
    folder = tmp_path / "st"
    shutil.copytree(src, folder)
    inner = folder / "0_Transformer"
    inner.mkdir()
    for name in ("config.json", "model.safetensors", "vocab.txt", "tokenizer.json", "tokenizer_config.json"):
        (folder / name).rename(inner / name)
    modules = json.loads((folder / "modules.json").read_text())
    modules[0]["path"] = "0_Transformer"
    (folder / "modules.json").write_text(json.dumps(modules))
    ck = read_checkpoint(folder)
    assert ck.directory == inner and ck.pooling == "mean" and ck.normalize
