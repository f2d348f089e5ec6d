"""config/migrate.py: every key of an earlier version keeps loading (recipe YAML, --set, a run's
config.yaml, the config in a checkpoint's trainer.json), with one notice per load; the rule table's
value renames and chaining; old and new name of one key together is an error."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest
import yaml
from safetensors.torch import load_file

from cli_helpers import ROOT, TINY
from scratchlm.config import RULES, Rule, apply_overrides, config_from_dict, dump_config, load_config, migrate
from scratchlm.config.migrate import flatten, migrate_key, set_dotted
from scratchlm.errors import ConfigError, RunDirError

FIXTURE = Path(__file__).parent / "fixtures" / "seq2seq_config_before_sections.yaml"

# an old key with a value it accepts, and any new keys the value needs (rnn_hidden_dim: a recurrent encoder)
OLD_VALUES = {
    "model.encoder": ("lstm", {}),
    "model.num_layers": (2, {}),
    "model.num_heads": (2, {}),
    "model.ffn_dim": (64, {}),
    "model.attention_dropout": (0.2, {}),
    "model.norm_position": ("post", {}),
    "model.rnn_hidden_dim": (32, {"model.encoder.kind": "lstm"}),
    "model.bidirectional": (False, {"model.encoder.kind": "gru"}),
    "model.positional": ("rope", {}),
    "model.combine": ("concat", {}),
    "model.combine_activation": ("gelu", {"model.positional.combine": "concat"}),
    "model.rope_base": (500.0, {"model.positional.kind": "rope"}),
    "model.rotary_fraction": (0.5, {"model.positional.kind": "rope"}),
    "model.t5_num_buckets": (16, {"model.positional.kind": "t5_bias"}),
    "model.t5_max_distance": (64, {"model.positional.kind": "t5_bias"}),
    "model.attention": ("luong_dot", {}),
    "model.beam_size": (2, {}),
    "model.length_penalty": (0.5, {}),
    "model.max_decode_len": (20, {}),
}
KEY_RULES = [r for r in RULES if r.values is None]
VALUE_RENAMES = [(r, old, new) for r in RULES if r.values for old, new in r.values.items()]


def _get(cfg, dotted: str):
    for part in dotted.split("."):
        cfg = getattr(cfg, part)
    return cfg


def _nested(pairs: dict) -> dict:
    out: dict = {}
    for key, value in pairs.items():
        set_dotted(out, key, value)
    return out


def old_layout(raw: dict) -> dict:
    """A config mapping in today's layout written back as the version before the nested sections
    wrote it (every rule undone, the keys added since left out); checked against a real file of that
    version below."""
    back = {r.new: r.old for r in KEY_RULES}
    values = {(r.new, new): old for r, old, new in VALUE_RENAMES}
    old = {back.get(k, k): values.get((k, v), v) if isinstance(v, str) else v for k, v in flatten(raw)}
    return _nested({k: v for k, v in old.items() if k not in ADDED_SINCE})


ADDED_SINCE = (
    "model.input_dim",
    "model.encoder.activation",
    "model.encoder.unique_layers",
    "train.loggers",
    "data.shards",
    "train.optimizer",
    "train.momentum",
    "train.deterministic",
    "data.image_size",
    "data.image_mode",
    "model.patches.size",
    "model.patches.embedding",
    "model.patches.cls_token",
    "model.lexicon.source",
    "model.lexicon.max_len",
    "model.lexicon.groups",
    "model.lexicon.min_freq",
)
"""Keys that version did not have (left out of its files; the tests keep them at their defaults)."""


def _notices(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "scratchlm.config"]


def test_every_old_key_has_a_sample_and_a_rule():
    assert set(OLD_VALUES) == {r.old for r in KEY_RULES}
    assert len({r.new for r in KEY_RULES}) == len(KEY_RULES)  # no two old keys land on one new key


# ---------------------------------------------------------------------- each rule, each way in


@pytest.mark.parametrize("rule", KEY_RULES, ids=lambda r: r.old)
def test_old_key_in_a_recipe(rule, tmp_path, caplog):
    value, needs = OLD_VALUES[rule.old]
    f = tmp_path / "old.yaml"
    f.write_text(yaml.safe_dump(_nested({rule.old: value, **needs})), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="scratchlm.config"):
        cfg = load_config(f)
    assert _get(cfg, rule.new) == value
    (notice,) = _notices(caplog)
    assert (
        notice.startswith(f"{f}: config keys of an earlier version") and f"{rule.old} -> {rule.new}" in notice
    )


@pytest.mark.parametrize("rule", KEY_RULES, ids=lambda r: r.old)
def test_old_key_in_set(rule, tmp_path, caplog):
    value, needs = OLD_VALUES[rule.old]
    f = tmp_path / "new.yaml"
    f.write_text(yaml.safe_dump(_nested(needs)), encoding="utf-8")
    text = str(value).lower() if isinstance(value, bool) else str(value)
    with caplog.at_level(logging.WARNING, logger="scratchlm.config"):
        cfg = load_config(f, [f"{rule.old}={text}"])
    assert _get(cfg, rule.new) == value
    (notice,) = _notices(caplog)
    assert f"{rule.old} -> {rule.new}" in notice


@pytest.mark.parametrize("rule", KEY_RULES, ids=lambda r: r.old)
def test_old_key_in_a_run_config_yaml(rule, tmp_path, caplog):
    from scratchlm.training.run_dir import read_run_config

    value, needs = OLD_VALUES[rule.old]
    new = config_from_dict(_nested({rule.new: value, **needs}))
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(old_layout(new.to_dict()), sort_keys=False))
    with caplog.at_level(logging.WARNING, logger="scratchlm.config"):
        assert read_run_config(tmp_path) == new
    (notice,) = _notices(caplog)
    assert f"{rule.old} -> {rule.new}" in notice


@pytest.mark.parametrize("rule", KEY_RULES, ids=lambda r: r.old)
def test_old_key_in_a_checkpoint_config(rule, tmp_path):
    from scratchlm.training.checkpoint import check_config

    value, needs = OLD_VALUES[rule.old]
    cfg = config_from_dict(_nested({rule.new: value, **needs}))
    trainer = tmp_path / "trainer.json"
    trainer.write_text(json.dumps({"step": 2, "config": old_layout(cfg.to_dict())}))
    check_config(tmp_path, cfg)  # the same config under its old names: no difference
    other = config_from_dict(_nested(needs))
    with pytest.raises(RunDirError, match=f"{rule.new}: .* in the checkpoint, .* in config.yaml"):
        check_config(tmp_path, other)


@pytest.mark.parametrize(
    ("rule", "old", "new"), VALUE_RENAMES, ids=lambda v: str(v) if isinstance(v, str) else ""
)
def test_old_value_everywhere(rule, old, new, tmp_path, caplog):
    from scratchlm.training.checkpoint import check_config
    from scratchlm.training.run_dir import read_run_config

    f = tmp_path / "old.yaml"
    f.write_text(yaml.safe_dump(_nested({rule.old: old})), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="scratchlm.config"):
        from_yaml = load_config(f)
        from_set = load_config(tmp_path / "old.yaml", [f"{rule.old}={old}"])
    assert _get(from_yaml, rule.new) == _get(from_set, rule.new) == new
    assert len(_notices(caplog)) == 2 and all(f"{rule.old}: {old} -> {new}" in n for n in _notices(caplog))
    (tmp_path / "config.yaml").write_text(f.read_text(encoding="utf-8"))
    assert read_run_config(tmp_path) == from_yaml
    (tmp_path / "trainer.json").write_text(json.dumps({"config": old_layout(from_yaml.to_dict())}))
    check_config(tmp_path, from_yaml)


# ------------------------------------------------------------------ a real file of the earlier version


def test_a_config_yaml_of_the_earlier_version_loads_with_one_notice_naming_every_rule(caplog):
    raw = yaml.safe_load(FIXTURE.read_text(encoding="utf-8"))
    with caplog.at_level(logging.WARNING, logger="scratchlm.config"):
        cfg = config_from_dict(raw)
    (notice,) = _notices(caplog)
    for rule in KEY_RULES:
        assert f"{rule.old} -> {rule.new}" in notice
    expected = load_config(
        ROOT / "configs" / "cmudict_g2p.yaml",
        [
            "model.positional.rope_base=5000",
            "model.positional.rotary_fraction=0.5",
            "model.positional.num_buckets=16",
            "model.positional.max_distance=64",
            "model.generation.max_new_tokens=20",
            "vectors.workers=2",  # that version's default, written into its file; today's is 1
            "model.embed_dim=64",  # that version's recipe; today's is wider
            "model.encoder.rnn_hidden_dim=128",
            "train.epochs=6",
        ],
    )
    assert cfg == expected
    # the helper these tests use to write old files reproduces that version's keys and values exactly
    assert old_layout(cfg.to_dict()) == raw
    # written again, it is in today's layout: no notice
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="scratchlm.config"):
        assert config_from_dict(yaml.safe_load(dump_config(cfg))) == cfg
    assert not _notices(caplog)


# ------------------------------------------------------------------------------------ the table


def test_a_value_where_a_section_now_is_becomes_its_kind_and_keeps_the_sections_other_keys(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("model:\n  positional:\n    rope_base: 500\n  encoder:\n    num_layers: 2\n")
    cfg = load_config(f, ["model.positional=rope", "model.encoder=gru", "model.positional.kind=none"])
    assert (cfg.model.positional.kind, cfg.model.positional.rope_base) == ("none", 500.0)  # later --set wins
    assert (cfg.model.encoder.kind, cfg.model.encoder.num_layers) == ("gru", 2)


def test_old_and_new_name_of_one_key_in_one_file_is_an_error(tmp_path):
    f = tmp_path / "both.yaml"
    f.write_text("model:\n  num_layers: 2\n  encoder:\n    num_layers: 3\n")
    with pytest.raises(ConfigError) as exc:
        load_config(f)
    assert str(exc.value) == (
        f"{f}: model.num_layers and model.encoder.num_layers both set model.encoder.num_layers (its name "
        "now); keep only model.encoder.num_layers"
    )
    with pytest.raises(ConfigError, match="model.beam_size and model.generation.beam_size both set"):
        config_from_dict({"model": {"beam_size": 2, "generation": {"beam_size": 3}}})
    # an override is not a conflict: it replaces what the file says, under either name
    g = tmp_path / "new.yaml"
    g.write_text("model:\n  encoder:\n    num_layers: 3\n")
    assert load_config(g, ["model.num_layers=2"]).model.encoder.num_layers == 2


def test_new_layout_loads_without_a_notice(caplog):
    with caplog.at_level(logging.WARNING, logger="scratchlm.config"):
        config_from_dict({"model": {"encoder": {"kind": "lstm"}, "positional": {"kind": "none"}}})
        apply_overrides({}, ["model.encoder.num_layers=2"])
    assert not _notices(caplog)


def test_value_renames_and_chained_rules():
    rules = (
        Rule("data.task", "data.task", {"classify": "classification", "tag": "tagging"}),
        Rule("model.pos", "model.positional"),
        Rule("model.positional", "model.positional.kind"),
    )
    out, notes = migrate({"data": {"task": "tag"}, "model": {"pos": "rope"}}, rules)
    assert out == {"data": {"task": "tagging"}, "model": {"positional": {"kind": "rope"}}}
    assert notes == [
        "data.task: tag -> tagging",
        "model.pos -> model.positional",
        "model.positional -> model.positional.kind",
    ]
    assert migrate({"data": {"task": "mlm"}}, rules) == ({"data": {"task": "mlm"}}, [])  # other values kept
    assert migrate_key("data.task", "classify", rules) == (
        "data.task",
        "classification",
        ["data.task: classify -> classification"],
    )
    both = Rule("model.old", "model.new", {"a": "b"})
    assert both.apply("model.old", "a") == ("model.new", "b")
    assert both.apply("model.old", "c") == ("model.new", "c")
    assert both.apply("model.other", "a") is None


def test_migrate_leaves_its_input_alone_and_keeps_what_it_does_not_know():
    raw = {"model": {"num_layers": 2, "pooling": "mean"}, "train": None, "extra": 3}
    out, notes = migrate(raw)
    assert raw == {"model": {"num_layers": 2, "pooling": "mean"}, "train": None, "extra": 3}
    assert out == {"model": {"encoder": {"num_layers": 2}, "pooling": "mean"}, "train": None, "extra": 3}
    assert notes == ["model.num_layers -> model.encoder.num_layers"]


# ------------------------------------------------------------------------- runs of the earlier version


def _to_old_run(run_dir: Path) -> None:
    """Rewrite a run's config.yaml (and its checkpoints' stored configs) as the earlier version wrote them."""
    raw = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    (run_dir / "config.yaml").write_text(yaml.safe_dump(old_layout(raw), sort_keys=False), encoding="utf-8")
    for trainer in run_dir.glob("checkpoints/*/trainer.json"):
        state = json.loads(trainer.read_text(encoding="utf-8"))
        state["config"] = old_layout(state["config"])
        trainer.write_text(json.dumps(state), encoding="utf-8")


@pytest.mark.parametrize("kind", ["classifier", "tagger"])
def test_an_old_run_evaluates_and_predicts_the_same(kind, tmp_path, capsys, caplog):
    from scratchlm.cli import main
    from scratchlm.serve.synthetic import write_tiny_run, write_tiny_tagger_run

    if kind == "classifier":
        run_dir = write_tiny_run(tmp_path, positional={"kind": "rope"}, encoder={"num_layers": 2})
        evaluate = ["eval", str(run_dir), "--split", "dev", "--json"]
    else:
        run_dir = write_tiny_tagger_run(tmp_path, head="crf")
        evaluate = None  # the tiny tagger reads pd1998-cws, too large to evaluate here
    texts = ["这本书写得太好了", "质量很差，用了两天就坏了。"]

    def outputs() -> list[str]:
        assert main(["predict", str(run_dir), *texts, "--json"]) == 0
        got = [capsys.readouterr().out]
        if evaluate:
            assert main(evaluate) == 0
            got.append(capsys.readouterr().out)
        return got

    before = outputs()
    _to_old_run(run_dir)
    assert "num_layers" in yaml.safe_load((run_dir / "config.yaml").read_text())["model"]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="scratchlm.config"):
        assert outputs() == before
    assert _notices(caplog) and all("-> model.encoder.kind" in n for n in _notices(caplog))


def test_an_old_run_resumes_from_its_checkpoint(tmp_path, caplog):
    from scratchlm.training.loop import train

    out = tmp_path / "run"
    sets = [
        "train.max_steps=4",
        "train.save_every=2",
        "data.max_train_examples=64",
        "data.max_eval_examples=16",
        "train.num_threads=1",
        "train.progress=false",
        "model.positional.kind=rope",
    ]
    train(load_config(TINY, sets), out)
    reference = load_file(str(out / "model.safetensors"))
    shutil.rmtree(out / "checkpoints" / "step-000004")  # as if stopped after step 2
    _to_old_run(out)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="scratchlm.config"):
        train(None, out, resume=True)
    assert any("model.positional -> model.positional.kind" in n for n in _notices(caplog))
    resumed = load_file(str(out / "model.safetensors"))
    assert reference.keys() == resumed.keys()
    for key in reference:
        assert (reference[key] == resumed[key]).all(), key
