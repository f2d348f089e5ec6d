"""``scratchlm.cli.args``: options made from config dataclasses (help from attribute docstrings, types,
defaults, choices, nested sections by dotted path), values back as ``--set`` strings or a dataclass,
clear errors for bad values and for a table that names no field; and the commands' own tables."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from typing import Literal

import pytest

from scratchlm.cli import args as cli_args
from scratchlm.cli.args import (
    ConfigOption,
    add_options,
    attribute_docs,
    build_section,
    config_value,
    field_spec,
    given,
    to_overrides,
    to_values,
)
from scratchlm.errors import ConfigError

KINDS = ("sinusoidal", "rope", "alibi")


def check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(allowed)}")


@dataclass
class Positional:
    """A nested section."""

    kind: str = "sinusoidal"
    """How positions are told: ``sinusoidal`` or ``rope``; 10% of readers skip this."""
    base: float = 10000.0
    """``kind: rope``: the frequency base."""
    scaling: Literal["none", "sqrt"] = "none"
    """Scaling of the table."""

    def __post_init__(self) -> None:
        check_choice("model.positional.kind", self.kind, KINDS)
        if self.base <= 1:
            raise ConfigError(f"model.positional.base={self.base} must be > 1")


@dataclass
class Model:
    heads: int = 4
    """Attention heads."""
    rank: int | None = None
    """Factorized rank (``null``: full)."""
    norm: str = field(default="pre", metadata={"choices": ("pre", "post")})
    """Where layers normalise."""
    pooling: str = "cls"
    """Sentence vector."""
    tied: bool = True
    """Tie the output to the embedding."""
    scale: bool = False
    """Multiply by sqrt(d)."""
    layers: list[str] = field(default_factory=lambda: ["a", "b"])
    """Layer names."""
    positional: Positional = field(default_factory=Positional)
    """The positional section."""

    def __post_init__(self) -> None:
        check_choice("model.pooling", self.pooling, ("cls", "mean"))
        if self.heads < 1:
            raise ConfigError(f"model.heads={self.heads} must be >= 1")


@dataclass
class Root:
    model: Model = field(default_factory=Model)


OPTIONS = (
    ConfigOption("model.positional.kind", "--kind"),
    ConfigOption("model.positional.base", "--base"),
    ConfigOption("model.positional.scaling"),
    ConfigOption("model.heads", "--heads", default=8),
    ConfigOption("model.rank"),
    ConfigOption("model.norm"),
    ConfigOption("model.pooling", help="how the sentence vector is made"),
    ConfigOption("model.tied"),
    ConfigOption("model.scale", note="For plots only."),
    ConfigOption("model.layers"),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="t")
    add_options(parser, OPTIONS, Root)
    return parser


def test_help_comes_from_the_attribute_docstrings():
    assert attribute_docs(Positional)["kind"].startswith("How positions are told: ``sinusoidal``")
    text = " ".join(_parser().format_help().split())
    # reST markup dropped, % kept (escaped for argparse), the default said
    assert (
        "How positions are told: sinusoidal or rope; 10% of readers skip this. (default: sinusoidal)" in text
    )
    assert "kind: rope: the frequency base. (default: 10000)" in text
    assert "--heads HEADS Attention heads. (default: 8)" in text  # the command's own default
    assert "--pooling {cls,mean} how the sentence vector is made (default: cls)" in text  # help replaced
    assert "--scale Multiply by sqrt(d). For plots only." in text  # a note added
    assert "--no-tied Turns off (on by default): Tie the output to the embedding." in text
    assert "Factorized rank (null: full)." in text


def test_types_defaults_and_flags():
    args = _parser().parse_args([])
    assert (args.kind, args.base, args.heads, args.rank, args.tied, args.scale) == (
        "sinusoidal", 10000.0, 8, None, True, False,
    )  # fmt: skip
    assert args.layers == ["a", "b"] and given(args) == set()
    args = _parser().parse_args(
        ["--base", "500", "--heads", "2", "--rank", "3", "--no-tied", "--scale", "--layers", "x", "y"]
    )
    assert args.base == 500.0 and isinstance(args.base, float)
    assert (args.heads, args.rank, args.tied, args.scale, args.layers) == (2, 3, False, True, ["x", "y"])
    assert given(args) == {"base", "heads", "rank", "tied", "scale", "layers"}


def test_choices_from_literal_metadata_and_the_class_checks():
    assert field_spec("model.positional.scaling", Root).choices == ("none", "sqrt")  # Literal
    assert field_spec("model.norm", Root).choices == ("pre", "post")  # field metadata
    assert field_spec("model.positional.kind", Root).choices == KINDS  # check_choice(..., KINDS)
    assert field_spec("model.pooling", Root).choices == ("cls", "mean")  # check_choice(..., (...))
    assert field_spec("model.heads", Root).choices is None
    parser = argparse.ArgumentParser()
    add_options(parser, [ConfigOption("model.positional.kind", "--kind", choices=("rope",))], Root)
    assert parser.parse_args(["--kind", "rope"]).kind == "rope"  # the command's own choices win


def test_nested_paths_back_to_overrides_and_dataclasses():
    args = _parser().parse_args(["--kind", "rope", "--heads", "2", "--no-tied", "--layers", "x", "y"])
    assert to_overrides(args, OPTIONS) == [
        "model.positional.kind=rope",
        "model.heads=2",
        "model.tied=false",
        "model.layers=x,y",
    ]  # only what was typed, in --set form
    assert to_values(args, OPTIONS)["model.positional.base"] == 10000.0
    model = build_section(args, OPTIONS, "model", Root)
    assert isinstance(model, Model) and isinstance(model.positional, Positional)
    assert (model.heads, model.tied, model.positional.kind, model.positional.base) == (
        2,
        False,
        "rope",
        10000.0,
    )
    positional = build_section(args, OPTIONS, "model.positional", Root, base=20.0)
    assert dataclasses.asdict(positional) == {"kind": "rope", "base": 20.0, "scaling": "none"}
    assert config_value(Root(), "model.positional.kind") == "sinusoidal"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--heads", "two"], "argument --heads: invalid int value: 'two'"),
        (["--base", "x"], "argument --base: invalid float value: 'x'"),
        (
            ["--kind", "rotary"],
            "argument --kind: invalid choice: 'rotary' (choose from 'sinusoidal', 'rope', 'alibi')",
        ),
        (["--scaling", "cube"], "invalid choice: 'cube'"),
    ],
)
def test_a_bad_value_is_a_clear_usage_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        _parser().parse_args(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_a_value_the_config_rejects_names_the_flag():
    with pytest.raises(ConfigError, match=r"^--heads 0 must be >= 1$"):
        build_section(_parser().parse_args(["--heads", "0"]), OPTIONS, "model", Root)
    with pytest.raises(ConfigError, match=r"^--base 0\.5 must be > 1$"):
        build_section(_parser().parse_args(["--base", "0.5"]), OPTIONS, "model", Root)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("model.head", "Model has no field 'head' (heads, rank,"),
        (
            "model.positional",
            "model.positional is a section (Positional); name one of its fields: kind, base",
        ),
        ("model.heads.x", "'heads' is a field, not a section of model"),
        ("optim.lr", "'optim' is not a field of Root (model)"),
    ],
)
def test_a_table_naming_no_field_says_what_is_there(path, message):
    with pytest.raises(ValueError) as exc:
        add_options(argparse.ArgumentParser(), [ConfigOption(path)], Root)
    assert message in str(exc.value)


def test_the_commands_tables_name_real_config_fields():
    """Every command's table against the real RunConfig: a config field that moved fails here first."""
    from scratchlm.cli import plot, tokenizer, vectors

    tables = [[plot.KIND], plot.PE_OPTIONS, [tokenizer.KIND], tokenizer.TRAIN_OPTIONS, vectors.TRAIN_OPTIONS]
    for option in (o for table in tables for o in table):
        spec = field_spec(option.path)
        assert spec.doc, f"{option.path} has no docstring to show in --help"
        cli_args.argparse_kwargs(option, spec)
    assert field_spec(plot.KIND.path).choices  # the positional kinds, from the config's own check


def test_real_help_texts(capsys):
    from scratchlm.cli import main

    with pytest.raises(SystemExit):
        main(["vectors", "train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--window WINDOW word2vec context window (tokens on each side). (default: 5)" in text
    # gensim's min_count default, not the recipe's 1
    assert "--min-count MIN_COUNT Tokens rarer than this in the corpus get no vector. (default: 5)" in text
