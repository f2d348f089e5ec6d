"""Strict conversion (models/hf_convert.py), tested by parity: every family, saved by transformers in every
layout, gives scratchlm's post-LN encoder the same hidden states as transformers' (fp32, 1e-4); and a
scratchlm model written back as each family loads in ``AutoModel.from_pretrained`` with equal outputs."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from hf_helpers import FAMILIES, LAYOUTS, batch, checkpoint_dir, hf_hidden_states, reference_model
from scratchlm.config import ModelConfig
from scratchlm.errors import DataError
from scratchlm.models import TextClassifier
from scratchlm.models.hf_convert import export_family, hf_config, hf_to_scratchlm, scratchlm_to_hf
from scratchlm.models.hf_families import FAMILIES as FAMILY_MAPS
from scratchlm.models.hf_layouts import read_checkpoint

transformers = pytest.importorskip("transformers")


def _ours(conv) -> TextClassifier:
    cfg = ModelConfig(**conv.fields)
    model = TextClassifier(
        cfg, vocab_size=conv.vocab_size, num_classes=2, max_seq_len=conv.max_positions, pad_id=conv.pad_id
    )
    missing, unexpected = model.load_state_dict(conv.state, strict=False)
    assert not unexpected and all(k.startswith("head.") for k in missing)
    return model.eval()


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_and_layout_gives_transformers_hidden_states(tmp_path_factory, family, layout):
    folder = checkpoint_dir(tmp_path_factory, family, layout)
    ck = read_checkpoint(folder)
    conv = hf_to_scratchlm(ck.state, ck.config, where=str(folder))
    assert conv.family.name == ("roberta" if family == "xlm-roberta" else family)
    ours = _ours(conv)
    ids, mask = batch(conv.vocab_size, conv.pad_id)
    want = hf_hidden_states(reference_model(family, layout), ids, mask)
    with torch.no_grad():
        got = ours.encode(ids, mask)
    torch.testing.assert_close(got[mask], want[mask], atol=1e-4, rtol=1e-4)
    if layout in ("legacy", "bin"):  # the pretraining heads are read, listed, not used
        assert conv.unused


@pytest.mark.parametrize("family", ["bert", "roberta", "albert", "distilbert", "electra"])
def test_export_loads_in_automodel_with_equal_outputs(tmp_path_factory, tmp_path, family):
    from safetensors.torch import save_file

    conv = hf_to_scratchlm(*_read(tmp_path_factory, family))
    ours = _ours(conv)
    with torch.no_grad():  # not the checkpoint's own numbers: the export must carry what the model has
        for p in ours.parameters():
            p.add_(torch.randn_like(p) * 0.02)
    fam = export_family(ours.cfg, "auto" if family in ("bert", "albert", "electra") else family)
    assert fam.name == family
    config = hf_config(
        fam, ours.cfg, vocab_size=conv.vocab_size, max_positions=conv.max_positions, pad_id=conv.pad_id
    )
    (tmp_path / "config.json").write_text(json.dumps(config))
    save_file(scratchlm_to_hf(ours.state_dict(), fam, config), str(tmp_path / "model.safetensors"))
    hf = transformers.AutoModel.from_pretrained(str(tmp_path)).eval()
    assert type(hf).__name__ == fam.architecture
    ids, mask = batch(conv.vocab_size, conv.pad_id)
    with torch.no_grad():
        want = ours.encode(ids, mask)
    torch.testing.assert_close(hf_hidden_states(hf, ids, mask)[mask], want[mask], atol=1e-4, rtol=1e-4)
    back = hf_to_scratchlm(dict(hf.state_dict()), config)  # and read again: the same tensors
    assert all(torch.equal(back.state[k], v) for k, v in ours.state_dict().items() if k in back.state)


def _read(tmp_path_factory, family, layout="safetensors"):
    ck = read_checkpoint(checkpoint_dir(tmp_path_factory, family, layout))
    return ck.state, ck.config


def test_a_config_that_does_not_match_the_tensors(tmp_path_factory):
    state, config = _read(tmp_path_factory, "bert")
    with pytest.raises(DataError) as exc:
        hf_to_scratchlm(state, {**config, "intermediate_size": 48}, where="ckpt")
    message = str(exc.value)
    assert message.startswith(
        "ckpt does not match its config.json: shapes: encoder.layer.0.intermediate.dense.weight is (64, 32), config.json makes (48, 32)"
    )
    assert "\n" not in message
    with pytest.raises(
        DataError, match=r"missing: encoder.layer.2.attention.output.LayerNorm.bias, .* \(\+10 more\)"
    ):
        hf_to_scratchlm(state, {**config, "num_hidden_layers": 3}, where="ckpt")
    renamed = {
        k.replace("encoder.layer.1.output.dense", "encoder.layer.1.out.proj"): v for k, v in state.items()
    }
    with pytest.raises(
        DataError,
        match=r"is not the bert encoder .*missing: encoder.layer.1.output.dense.bias, .* \| unexpected: encoder.layer.1.out.proj.bias",
    ):
        hf_to_scratchlm(renamed, config, where="ckpt")


def test_a_model_no_family_reproduces_is_refused():
    cfg = ModelConfig(embed_dim=32, encoder={"num_heads": 4}, positional={"kind": "learned"})
    with pytest.raises(
        DataError, match=r"not a bert encoder.*model.encoder.norm_position='pre' \(needs 'post'\)"
    ):
        hf_config(FAMILY_MAPS["bert"], cfg, vocab_size=10, max_positions=8)
    post = ModelConfig(
        embed_dim=32, encoder={"num_heads": 4, "norm_position": "post"}, positional={"kind": "learned"},
        embedding_norm="layernorm", num_token_types=2,
    )  # fmt: skip
    with pytest.raises(DataError, match=r"model.num_token_types=2 \(DistilBERT has none\)"):
        hf_config(FAMILY_MAPS["distilbert"], post, vocab_size=10, max_positions=8)
    with pytest.raises(DataError, match="ALBERT always projects"):
        hf_config(FAMILY_MAPS["albert"], post, vocab_size=10, max_positions=8)
    same = dataclasses.replace(post, input_dim=32)  # a projection between equal widths: ALBERT's only
    with pytest.raises(DataError, match="ELECTRA projects only between different widths"):
        hf_config(FAMILY_MAPS["electra"], same, vocab_size=10, max_positions=8)
    assert export_family(same).name == "albert" and export_family(post).name == "bert"
