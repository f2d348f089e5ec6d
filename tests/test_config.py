"""Typed config: YAML, --set overrides parsed to field types, strict keys with suggestions."""

from __future__ import annotations

import pytest

from scratchlm.config import apply_overrides, config_from_dict, dump_config, load_config, read_yaml
from scratchlm.errors import ConfigError


def test_overrides_are_parsed_to_the_field_type(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("train:\n  epochs: 2\nmodel:\n  embed_dim: 64\n  num_heads: 4\n")
    cfg = load_config(
        f,
        [
            "train.lr=3e-4",
            "train.max_steps=null",
            "train.length_bucketing=false",
            "vectors.corpus=train,pd1998-text",
            "train.betas=0.9,0.999",
            "data.max_seq_len=1_024",
            "train.max_steps=7",
        ],
    )
    assert cfg.train.lr == 3e-4 and isinstance(cfg.train.lr, float)
    assert cfg.train.max_steps == 7 and cfg.train.epochs == 2
    assert cfg.train.length_bucketing is False
    assert cfg.vectors.corpus == ["train", "pd1998-text"]
    assert cfg.train.betas == (0.9, 0.999)
    assert cfg.data.max_seq_len == 1024
    assert load_config(f, ["train.max_steps=null"]).train.max_steps is None


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("train.lrr=1", "did you mean 'lr'"),
        ("train.learning_rate=1", "did you mean 'lr'"),
        ("model.embed_dims=8", "did you mean 'embed_dim'"),
        ("modle.embed_dim=8", "did you mean 'model'"),
        ("train.epochs=two", "train.epochs: expected an integer"),
        ("train.epochs=0", "train.epochs=0 must be >= 1"),
        ("model.num_heads=5", "divisible"),
        ("model.positional=rope", "model.positional='rope' is not one of"),
        ("data.truncation=both", "data.truncation"),
        ("train.length_bucketing=maybe", "expected true or false"),
        ("lr=1", "the key must be section.key"),
    ],
)
def test_bad_keys_and_values_name_the_problem(tmp_path, override, needle):
    f = tmp_path / "c.yaml"
    f.write_text("{}\n")
    with pytest.raises(ConfigError) as exc:
        load_config(f, [override])
    assert needle in str(exc.value)


def test_unknown_key_in_yaml_and_invalid_yaml_name_the_file(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("model:\n  pooling: mean\n  embed_dimm: 3\n")
    with pytest.raises(ConfigError, match=r"c.yaml: unknown config key 'model.embed_dimm'"):
        load_config(f)
    g = tmp_path / "g.yaml"
    g.write_text("model:\n  pooling: [mean\n")
    with pytest.raises(ConfigError, match=r"g.yaml:\d+: invalid YAML"):
        read_yaml(g)
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")


def test_dump_round_trips():
    cfg = config_from_dict(apply_overrides({}, ["model.pooling=mean_max", "train.ema_decay=0.99"]))
    import yaml

    again = config_from_dict(yaml.safe_load(dump_config(cfg)))
    assert again == cfg
