"""config/run.py: a whole RunConfig from YAML, --set overrides parsed to field types (nested keys
dotted), strict keys with suggestions, checks across sections, and dump_config's round trip."""

from __future__ import annotations

import dataclasses
import logging

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import fuzz_helpers
from cli_helpers import ROOT
from scratchlm.config import (
    DataConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
    apply_overrides,
    config_from_dict,
    dump_config,
    load_config,
    parse_override,
    read_yaml,
)
from scratchlm.errors import ConfigError


def _yaml(tmp_path, text, name="run.yaml"):
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return f


# ----------------------------------------------------------------------------------- the recipes


@pytest.mark.parametrize("recipe", sorted((ROOT / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_recipe_loads_in_todays_layout(recipe, caplog):
    with caplog.at_level(logging.WARNING, logger="scratchlm.config"):
        cfg = load_config(recipe)
    assert not caplog.records, "the recipe uses keys of an earlier version"
    assert config_from_dict(yaml.safe_load(dump_config(cfg))) == cfg


def test_the_seq2seq_recipe_reads_its_nested_sections():
    cfg = load_config(ROOT / "configs" / "cmudict_g2p.yaml")
    assert (cfg.data.task, cfg.data.dataset, cfg.model.encoder.kind) == ("seq2seq", "cmudict-g2p", "lstm")
    assert (cfg.model.decoder.attention, cfg.model.generation.beam_size) == ("luong_general", 3)


# -------------------------------------------------------------------------------------- loading


def test_yaml_values_land_in_their_sections_and_defaults_fill_the_rest(tmp_path):
    f = _yaml(
        tmp_path,
        "data:\n  dataset: my.jsonl\n  max_seq_len: 64\n"
        "model:\n  embed_dim: 32\n  encoder:\n    num_heads: 2\n  positional:\n    kind: rope\n  pooling: mean\n"
        "train:\n  lr: 0.005\n  betas: [0.8, 0.9]\n  ema_decay: 0.99\n",
    )
    cfg = load_config(f)
    assert isinstance(cfg, RunConfig)
    assert cfg.data.dataset == "my.jsonl" and cfg.data.max_seq_len == 64
    assert cfg.model.embed_dim == 32 and cfg.model.encoder.num_heads == 2 and cfg.model.pooling == "mean"
    assert cfg.model.positional.kind == "rope"
    assert cfg.train.lr == 0.005 and cfg.train.betas == (0.8, 0.9) and cfg.train.ema_decay == 0.99
    # untouched fields keep the dataclass defaults, inside nested sections too
    assert cfg.model.encoder.num_layers == ModelConfig().encoder.num_layers
    assert cfg.model.positional.rope_base == 10000.0
    assert cfg.train.epochs == TrainConfig().epochs
    assert cfg.data.truncation == DataConfig().truncation == "end"


def test_empty_yaml_gives_the_defaults(tmp_path):
    assert load_config(_yaml(tmp_path, "")) == RunConfig()
    assert load_config(_yaml(tmp_path, "model:\n", "b.yaml")) == RunConfig()
    assert load_config(_yaml(tmp_path, "model:\n  encoder: {}\n", "c.yaml")) == RunConfig()


def test_unknown_key_in_yaml_and_invalid_yaml_name_the_file(tmp_path):
    f = _yaml(tmp_path, "model:\n  pooling: mean\n  embed_dimm: 3\n", "c.yaml")
    with pytest.raises(ConfigError, match=r"c.yaml: unknown config key 'model.embed_dimm'"):
        load_config(f)
    f = _yaml(tmp_path, "model:\n  encoder:\n    num_layer: 3\n", "n.yaml")
    with pytest.raises(ConfigError, match=r"n.yaml: unknown config key 'model.encoder.num_layer'"):
        load_config(f)
    g = _yaml(tmp_path, "model:\n  pooling: [mean\n", "g.yaml")
    with pytest.raises(ConfigError, match=r"g.yaml:\d+: invalid YAML"):
        read_yaml(g)
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("yaml_text", "key", "suggestion"),
    [
        ("train:\n  lrr: 0.1\n", "train.lrr", "'lr'"),
        ("model:\n  embed_dims: 8\n", "model.embed_dims", "'embed_dim'"),
        ("model:\n  generation:\n    beam: 8\n", "model.generation.beam", "'beam_size'"),
    ],
)
def test_unknown_yaml_key_names_file_key_and_suggestion(tmp_path, yaml_text, key, suggestion):
    f = _yaml(tmp_path, yaml_text)
    with pytest.raises(ConfigError) as exc:
        load_config(f)
    msg = str(exc.value)
    assert str(f) in msg and f"'{key}'" in msg
    assert suggestion in msg.split("did you mean", 1)[1].split("?")[0]


def test_invalid_yaml_names_file_and_line(tmp_path):
    f = _yaml(tmp_path, "train:\n  epochs: 2\n\tlr: 3\n", name="broken.yaml")
    with pytest.raises(ConfigError) as exc:
        load_config(f)
    assert f"{f}:3: invalid YAML" in str(exc.value)
    g = _yaml(tmp_path, "train:\n  epochs: 2\n  lr: [1\n", name="open.yaml")
    with pytest.raises(ConfigError) as exc:
        read_yaml(g)
    assert f"{g}:4" in str(exc.value)


@pytest.mark.parametrize("text", ["- a\n- b\n", "train: 3\n"])
def test_non_mapping_yaml_is_a_config_error(tmp_path, text):
    with pytest.raises(ConfigError, match="mapping"):
        load_config(_yaml(tmp_path, text))


def test_not_utf8_yaml(tmp_path):
    bad = tmp_path / "latin.yaml"
    bad.write_bytes(b"train:\n  lr: \xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        read_yaml(bad)


def test_unknown_section_is_an_error_with_suggestion(tmp_path):
    with pytest.raises(ConfigError) as exc:
        load_config(_yaml(tmp_path, "modle:\n  embed_dim: 8\n"))
    assert "'modle'" in str(exc.value) and "'model'" in str(exc.value)
    with pytest.raises(ConfigError, match="'trian'"):
        apply_overrides({}, ["trian.lr=1"])
    with pytest.raises(ConfigError, match="'optimizer'"):
        config_from_dict({"optimizer": {"lr": 1}})
    with pytest.raises(ConfigError, match="must be a mapping"):
        config_from_dict({"train": 3})


# ---------------------------------------------------------------------------------- --set overrides


def test_overrides_are_parsed_to_the_field_type(tmp_path):
    f = _yaml(tmp_path, "train:\n  epochs: 2\nmodel:\n  embed_dim: 64\n  encoder:\n    num_heads: 4\n")
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
            "model.encoder.num_layers=2",
            "model.positional.rope_base=5e5",
        ],
    )
    assert cfg.train.lr == 3e-4 and isinstance(cfg.train.lr, float)
    assert cfg.train.max_steps == 7 and cfg.train.epochs == 2
    assert cfg.train.length_bucketing is False
    assert cfg.vectors.corpus == ["train", "pd1998-text"]
    assert cfg.train.betas == (0.9, 0.999)
    assert cfg.data.max_seq_len == 1024
    assert cfg.model.encoder.num_layers == 2 and cfg.model.encoder.num_heads == 4  # the file's value kept
    assert cfg.model.positional.rope_base == 5e5
    assert load_config(f, ["train.max_steps=null"]).train.max_steps is None


@pytest.mark.parametrize(
    ("override", "getter", "expected", "typ"),
    [
        ("train.epochs=7", lambda c: c.train.epochs, 7, int),
        ("train.batch_size=16", lambda c: c.train.batch_size, 16, int),
        ("train.lr=0.25", lambda c: c.train.lr, 0.25, float),
        ("train.lr=1e-2", lambda c: c.train.lr, 0.01, float),
        ("train.weight_decay=0", lambda c: c.train.weight_decay, 0.0, float),
        ("train.progress=false", lambda c: c.train.progress, False, bool),
        ("train.progress=no", lambda c: c.train.progress, False, bool),
        ("model.freeze_embeddings=true", lambda c: c.model.freeze_embeddings, True, bool),
        ("model.freeze_embeddings=1", lambda c: c.model.freeze_embeddings, True, bool),
        ("vectors.corpus=a.txt, b.txt ,c.txt", lambda c: c.vectors.corpus, ["a.txt", "b.txt", "c.txt"], list),
        ("train.betas=0.5,0.75", lambda c: c.train.betas, (0.5, 0.75), tuple),
        ("train.max_steps=null", lambda c: c.train.max_steps, None, type(None)),
        ("train.max_steps=None", lambda c: c.train.max_steps, None, type(None)),
        ("train.max_steps=12", lambda c: c.train.max_steps, 12, int),
        ("train.early_stopping_patience=null", lambda c: c.train.early_stopping_patience, None, type(None)),
        ("data.max_vocab_size=100", lambda c: c.data.max_vocab_size, 100, int),
        ("model.vectors_std=0.5", lambda c: c.model.vectors_std, 0.5, float),
        ("data.dataset=some/file.csv", lambda c: c.data.dataset, "some/file.csv", str),
        ("model.encoder.bidirectional=false", lambda c: c.model.encoder.bidirectional, False, bool),
        ("model.generation.max_new_tokens=9", lambda c: c.model.generation.max_new_tokens, 9, int),
        (
            "model.generation.max_new_tokens=null",
            lambda c: c.model.generation.max_new_tokens,
            None,
            type(None),
        ),
    ],
)
def test_set_string_is_parsed_to_the_field_type(tmp_path, override, getter, expected, typ):
    f = _yaml(tmp_path, "train:\n  max_steps: 5\n  early_stopping_patience: 2\n")
    if "bidirectional" in override:
        f = _yaml(tmp_path, "model:\n  encoder:\n    kind: lstm\n", "lstm.yaml")
    cfg = load_config(f, [override])
    value = getter(cfg)
    assert value == expected
    assert type(value) is typ
    # the same through apply_overrides + config_from_dict
    assert getter(config_from_dict(apply_overrides(read_yaml(f), [override]))) == expected


def test_parse_override_returns_the_dotted_key():
    assert parse_override("train.lr=3e-4") == ("train", "lr", "3e-4")
    assert parse_override("model.positional.kind=rope") == ("model", "positional.kind", "rope")
    assert parse_override(" model.encoder.num_layers =2") == ("model", "encoder.num_layers", "2")
    assert parse_override("data.dataset=a=b.csv") == ("data", "dataset", "a=b.csv")


def test_apply_overrides_copies_and_keeps_raw_strings():
    raw = {"train": {"epochs": 2}, "model": {"encoder": {"kind": "lstm"}}}
    out = apply_overrides(raw, ["train.lr=0.5", "model.encoder.num_layers=1", "model.positional.kind=none"])
    assert raw == {"train": {"epochs": 2}, "model": {"encoder": {"kind": "lstm"}}}  # input not mutated
    assert out == {
        "train": {"epochs": 2, "lr": "0.5"},
        "model": {"encoder": {"kind": "lstm", "num_layers": "1"}, "positional": {"kind": "none"}},
    }
    # later overrides of the same key win
    assert apply_overrides({}, ["train.lr=1", "train.lr=2"])["train"]["lr"] == "2"


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("train.lrr=1", "did you mean 'lr'"),
        ("train.learning_rate=1", "did you mean 'lr'"),
        ("model.embed_dims=8", "did you mean 'embed_dim'"),
        ("modle.embed_dim=8", "did you mean 'model'"),
        (
            "model.encoder.num_layer=2",
            "unknown config key 'model.encoder.num_layer'; did you mean 'num_layers'",
        ),
        ("model.positional.kind.x=1", "model.positional.kind is a value, not a section"),
        (
            "model.generation=3",
            "model.generation is a section; set one of its keys (model.generation.beam_size",
        ),
        ("train.epochs=two", "train.epochs: expected an integer"),
        ("train.epochs=0", "train.epochs=0 must be >= 1"),
        ("model.encoder.num_heads=5", "divisible"),
        ("model.positional.kind=rotary", "model.positional.kind='rotary' is not one of"),
        ("data.truncation=both", "data.truncation"),
        ("train.length_bucketing=maybe", "expected true or false"),
        ("lr=1", "the key must be section.key"),
        ("model.=1", "the key must be section.key"),
        ("train.lr", "expected section.key=value"),
    ],
)
def test_bad_keys_and_values_name_the_problem(tmp_path, override, needle):
    f = _yaml(tmp_path, "{}\n", "c.yaml")
    with pytest.raises(ConfigError) as exc:
        load_config(f, [override])
    assert needle in str(exc.value)


@pytest.mark.parametrize(
    ("override", "key", "suggestion"),
    [
        ("train.lrr=1", "train.lrr", "'lr'"),
        ("model.embed_dims=8", "model.embed_dims", "'embed_dim'"),
        ("model.d_model=8", "model.d_model", "'embed_dim'"),
        ("model.n_heads=8", "model.n_heads", "'encoder.num_heads'"),
        ("data.max_len=8", "data.max_len", "'max_seq_len'"),
        ("model.positional.theta=8", "model.positional.theta", "'rope_base'"),
    ],
)
def test_unknown_override_key_names_the_key_and_a_close_match(override, key, suggestion):
    with pytest.raises(ConfigError) as exc:
        apply_overrides({}, [override])
    msg = str(exc.value)
    assert f"'{key}'" in msg
    assert "did you mean" in msg and suggestion in msg.split("did you mean", 1)[1].split("?")[0]


def test_bool_field_rejects_non_bool_and_int_rejects_float_text():
    with pytest.raises(ConfigError, match="expected true or false"):
        config_from_dict(apply_overrides({}, ["train.progress=2"]))
    with pytest.raises(ConfigError, match=r"train\.epochs: expected an integer"):
        config_from_dict(apply_overrides({}, ["train.epochs=2.5"]))
    with pytest.raises(ConfigError, match=r"train\.lr: expected a number"):
        config_from_dict(apply_overrides({}, ["train.lr=fast"]))
    with pytest.raises(ConfigError, match=r"model\.encoder\.num_layers: expected an integer"):
        config_from_dict(apply_overrides({}, ["model.encoder.num_layers=many"]))


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("model.embed_dim=30", "model.embed_dim=30 must be divisible by model.encoder.num_heads=4"),
        ("model.dropout=1.0", "model.dropout"),
        ("model.positional.kind=rotary", "model.positional.kind='rotary' is not one of sinusoidal"),
        ("model.pooling=first", "model.pooling='first' is not one of cls, mean, max, mean_max"),
        ("data.truncation=left", "data.truncation='left' is not one of end, start, middle"),
        ("train.schedule=step", "train.schedule='step'"),
    ],
)
def test_invalid_values_are_rejected_with_the_field_name_after_the_file(tmp_path, override, needle):
    f = _yaml(tmp_path, "{}\n")
    with pytest.raises(ConfigError) as exc:
        load_config(f, [override])
    assert needle in str(exc.value)
    assert str(exc.value).startswith(str(f))


def test_embed_dim_divisibility_from_yaml(tmp_path):
    f = _yaml(tmp_path, "model:\n  embed_dim: 10\n  encoder:\n    num_heads: 3\n")
    with pytest.raises(ConfigError, match="divisible"):
        load_config(f)
    assert load_config(f, ["model.encoder.num_heads=5"]).model.encoder.num_heads == 5


# --------------------------------------------------------------------------- checks across sections


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {
                "data": {"task": "masked_lm", "packing": True},
                "model": {"encoder": {"kind": "lstm"}, "positional": {"kind": "none"}},
            },
            "data.document_mask keeps attention inside each packed text, and model.encoder.kind=lstm",
        ),
        (
            {"data": {"tokenizer": "bpe"}, "model": {"init": "glove-6b-50d", "vectors_vocab": 10}},
            "model.vectors_vocab applies to data.tokenizer char or jieba",
        ),
        (
            {
                "model": {"init": "glove-6b-50d", "freeze_embedding_rows": "pretrained"},
                "train": {"embedding_weight_decay": 0.1},
            },
            "would shrink the rows",
        ),
    ],
)
def test_checks_across_sections(raw, message):
    with pytest.raises(ConfigError) as exc:
        config_from_dict(raw)
    assert message in str(exc.value)


def test_embedding_weight_decay_only_with_no_frozen_rows():
    with pytest.raises(ConfigError, match="would shrink the rows"):
        config_from_dict(
            {
                "model": {"init": "glove-6b-50d", "freeze_embedding_rows": "pretrained"},
                "train": {"embedding_weight_decay": 0.01},
            }
        )
    assert isinstance(config_from_dict({"train": {"embedding_weight_decay": 0.01}}), RunConfig)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            {"data": {"task": "seq2seq", "max_seq_len": 16}, "model": {"generation": {"max_new_tokens": 20}}},
            "model.generation.max_new_tokens=20 must be <= data.max_seq_len - 1 = 15",
        ),
        (
            {"data": {"task": "seq2seq"}, "model": {"positional": {"kind": "alibi"}}},
            "model.positional.kind=alibi is an encoder-only bias",
        ),
        (
            {
                "data": {"task": "seq2seq"},
                "model": {"encoder": {"num_layers": 0}, "positional": {"kind": "learned"}},
            },
            "needs model.encoder.num_layers >= 1",
        ),
        (
            {"data": {"task": "seq2seq"}, "model": {"encoder": {"norm_position": "post"}}},
            "decoder is pre-LN; use pre",
        ),
        (
            {
                "data": {"task": "causal_lm"},
                "model": {"encoder": {"kind": "gru"}, "positional": {"kind": "none"}},
            },
            "needs model.encoder.kind: transformer",
        ),
    ],
)
def test_the_tasks_checks_name_nested_keys(raw, message):
    """A task's own checks run when the task is made (:mod:`scratchlm.tasks`); they name the keys by
    their dotted path too."""
    from scratchlm.tasks.registry import make_task

    cfg = config_from_dict(raw)  # each section is fine on its own
    with pytest.raises(ConfigError) as exc:
        make_task(cfg)
    assert message in str(exc.value)


# ------------------------------------------------------------------------------------ round trip


def test_dump_round_trips():
    cfg = config_from_dict(apply_overrides({}, ["model.pooling=mean_max", "train.ema_decay=0.99"]))
    assert config_from_dict(yaml.safe_load(dump_config(cfg))) == cfg


def test_dump_config_writes_the_nested_layout_and_round_trips_non_default_values(tmp_path):
    cfg = config_from_dict(
        apply_overrides(
            {},
            [
                "data.max_seq_len=77",
                "data.truncation=middle",
                "data.max_vocab_size=null",
                "model.embed_dim=48",
                "model.encoder.num_heads=3",
                "model.positional.kind=learned",
                "model.bigram_buckets=1000",
                "model.generation.beam_size=2",
                "train.betas=0.85,0.95",
                "train.max_steps=9",
                "train.schedule=cosine",
                "vectors.corpus=x.txt,y.txt",
            ],
        )
    )
    text = dump_config(cfg)
    raw = yaml.safe_load(text)
    assert raw["train"]["betas"] == [0.85, 0.95]  # a plain YAML list, not a python tuple tag
    assert raw["model"]["encoder"]["num_heads"] == 3 and raw["model"]["positional"]["kind"] == "learned"
    assert raw["model"]["generation"] == {"beam_size": 2, "length_penalty": 1.0, "max_new_tokens": None}
    assert "num_heads" not in raw["model"] and "beam_size" not in raw["model"]
    again = config_from_dict(raw)
    assert again == cfg
    assert again.train.betas == (0.85, 0.95)
    # also through a file
    f = tmp_path / "dumped.yaml"
    f.write_text(text, encoding="utf-8")
    assert load_config(f) == cfg
    assert dataclasses.asdict(load_config(f).model) == dataclasses.asdict(cfg.model)


# -- model.vectors_vocab (tests/training/test_init.py has what it does) -----------------------------
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (["model.vectors_vocab=100"], "model.init=normal has none"),
        (["model.vectors_vocab=-1"], "model.vectors_vocab=-1 must be >= 0"),
        (
            ["model.init=glove-6b-50d", "model.vectors_vocab=100", "data.tokenizer=bpe"],
            "model.vectors_vocab applies to data.tokenizer char or jieba",
        ),
    ],
)
def test_vectors_vocab_bad_settings_are_named(changes, message):
    with pytest.raises(ConfigError, match=message):
        load_config("configs/tiny_test.yaml", overrides=changes)


# ------------------------------------------------------------------------------------------- fuzzing
def _fuzz_keys() -> list[str]:
    """Every dotted key of a config (nested sections included), and some that are not."""
    from scratchlm.config import SECTIONS
    from scratchlm.config.checks import field_types, is_section

    keys = []
    for section, cls in SECTIONS.items():
        for name, tp in field_types(cls).items():
            if is_section(tp):
                keys += [f"{section}.{name}.{inner}" for inner in field_types(tp)]
            keys.append(f"{section}.{name}")
    return keys + ["train", "train.", ".lr", "train.lr.x", "nosuch.key", "model.encoder", "data.task.x"]


_VALUES = st.one_of(
    st.sampled_from(
        ["nan", "-inf", "1e400", "-1", "0", "1", "0.5", "true", "null", "~", "[", "{a: 1}", "1,2", "0.9,1.5",
         "", " ", "１２", "1_000", "ｃｈａｒ", "\x00", "9" * 5000, "char", "rope", "transformer"]
    ),
    st.text(max_size=12),
    st.integers().map(str),
    st.floats().map(repr),
)  # fmt: skip


@fuzz_helpers.fuzz()
@given(sets=st.lists(st.tuples(st.sampled_from(_fuzz_keys()), _VALUES), max_size=4))
def test_fuzz_set_values_only_config_errors(sets):
    """Any ``--set`` values: a RunConfig or a ConfigError, never another exception."""
    from scratchlm.config import apply_overrides, config_from_dict

    try:
        config_from_dict(apply_overrides({}, [f"{k}={v}" for k, v in sets]))
    except ConfigError as exc:
        assert "\n" not in str(exc), str(exc)  # one line, as the CLI prints it


_YAML_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8),
    st.sampled_from(["char", "rope", "zh-reviews", "classification", "nan", ".inf", "1e999"]),
)  # fmt: skip
_YAML = st.recursive(
    _YAML_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(_fuzz_keys() + ["lr", "epochs", "kind", "x"]), inner, max_size=3),
    ),
    max_leaves=12,
)


@fuzz_helpers.fuzz()
@given(
    raw=st.one_of(
        st.dictionaries(st.sampled_from(["data", "model", "train", "vectors", "x"]), _YAML, max_size=4),
        _YAML,
    ),
    text=st.one_of(
        st.none(), st.text(max_size=60), st.binary(max_size=60).map(lambda b: b.decode("latin-1"))
    ),
)
def test_fuzz_config_files_only_config_errors(tmp_path_factory, raw, text):
    """Any YAML file (structured, or any text at all): a RunConfig or a ConfigError."""
    import yaml

    from scratchlm.config import load_config

    path = tmp_path_factory.mktemp("fuzz") / "c.yaml"
    if text is None:
        path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load_config(path)
    except ConfigError as exc:
        assert "\n" not in str(exc), str(exc)  # one line, as the CLI prints it
