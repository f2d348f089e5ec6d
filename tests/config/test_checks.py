"""config/checks.py: type conversion from YAML and --set text, strict keys with suggestions (nested
sections included), minimums and choices."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from scratchlm.config import (
    ModelConfig,
    PositionalConfig,
    build_section,
    check_choice,
    check_positive,
    coerce,
    unknown_key,
)
from scratchlm.errors import ConfigError


@pytest.mark.parametrize(
    ("value", "tp", "expected"),
    [
        ("20_000", int, 20000),
        (3.0, int, 3),
        ("3e-4", float, 3e-4),
        ("yes", bool, True),
        ("off", bool, False),
        ("null", int | None, None),
        ("~", float | None, None),
        ("7", int | None, 7),
        ("a, b ,c", list[str], ["a", "b", "c"]),
        ("", list[str], []),
        ("0.9,0.999", tuple[float, float], (0.9, 0.999)),
        (12, str, "12"),
    ],
)
def test_coerce_converts_to_the_declared_type(value, tp, expected):
    got = coerce("x.y", value, tp)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("value", "tp", "message"),
    [
        ("2.5", int, "x.y: expected an integer"),
        (True, int, "x.y: expected an integer"),
        ("fast", float, "x.y: expected a number"),
        ("2", bool, "x.y: expected true or false"),
        ({"a": 1}, str, "x.y: expected a string"),
        (3, list[str], "x.y: expected a list"),
        ("many", int | None, "x.y: expected an integer"),
    ],
)
def test_coerce_names_the_key_when_it_cannot(value, tp, message):
    with pytest.raises(ConfigError, match=message):
        coerce("x.y", value, tp)


def test_a_nested_section_is_read_from_a_mapping_with_strict_keys():
    pos = coerce("model.positional", {"kind": "rope", "rope_base": "500"}, PositionalConfig)
    assert pos == PositionalConfig(kind="rope", rope_base=500.0)
    assert coerce("model.positional", pos, PositionalConfig) is pos
    with pytest.raises(
        ConfigError, match=r"unknown config key 'model\.positional\.bse'; did you mean 'rope_base'"
    ):
        coerce("model.positional", {"bse": 1}, PositionalConfig)
    with pytest.raises(ConfigError, match=r"model\.positional is a section \(keys: kind, combine"):
        coerce("model.positional", 3, PositionalConfig)


def test_sections_given_as_mappings_to_the_constructor():
    m = ModelConfig(embed_dim=32, encoder={"kind": "lstm", "num_layers": "2"}, positional={"kind": "none"})
    assert (m.encoder.kind, m.encoder.num_layers, m.positional.kind) == ("lstm", 2, "none")
    with pytest.raises(
        ConfigError, match=r"unknown config key 'model\.encoder\.layers'; did you mean 'num_layers'"
    ):
        ModelConfig(encoder={"layers": 2})


@dataclass
class Inner:
    depth: int = 1


@dataclass
class Outer:
    width: int = 2
    inner: Inner = field(default_factory=Inner)


def test_unknown_key_suggests_own_keys_nested_keys_and_synonyms():
    err = str(unknown_key("s.", "widht", Outer))
    assert err.startswith("unknown config key 's.widht'; did you mean 'width'")
    assert err.endswith("(valid keys: width, inner)")
    assert "did you mean 'inner.depth'" in str(unknown_key("s.", "depht", Outer))
    # a name other libraries use: suggested first, under its dotted name when nested
    assert "did you mean 'encoder.num_layers'" in str(unknown_key("model.", "n_layers", ModelConfig))
    assert "did you mean 'embed_dim'" in str(unknown_key("model.", "d_model", ModelConfig))
    assert "did you mean 'b'" in str(unknown_key("", "bb", ["a", "b"]))
    assert "did you mean" not in str(unknown_key("", "zzz", ["a", "b"]))


def test_build_section_checks_every_key_before_building():
    assert build_section(Outer, {"width": "3", "inner": {"depth": 4}}, "s") == Outer(3, Inner(4))
    with pytest.raises(ConfigError, match=r"'s\.inner\.dpth'"):
        build_section(Outer, {"inner": {"dpth": 4}}, "s")


def test_minimum_and_choice():
    check_positive("a.b", None)
    check_positive("a.b", 0, minimum=0)
    with pytest.raises(ConfigError, match=r"a\.b=0 must be >= 1"):
        check_positive("a.b", 0)
    check_choice("a.c", "x", ("x", "y"))
    with pytest.raises(ConfigError, match=r"a\.c='z' is not one of x, y"):
        check_choice("a.c", "z", ("x", "y"))


def test_check_range_bounds_and_nan():
    from scratchlm.config.checks import check_range

    check_range("x", 0.5, 0, 1, high_open=True)
    check_range("x", None, 0)
    for bad in (float("nan"), float("inf"), 1.0, -0.1):
        with pytest.raises(ConfigError, match=r"x=.* must be a finite number in \[0, 1\)"):
            check_range("x", bad, 0, 1, high_open=True)
    with pytest.raises(ConfigError, match="x=0 must be a finite number > 0"):
        check_range("x", 0, 0, low_open=True)


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("bogus", "--device 'bogus': not a device"),
        ("cuda:99", "--device cuda:99"),
        ("meta", "scratchlm trains on cpu, cuda or mps"),
    ],
)
def test_check_device(device, message):
    from scratchlm.config.checks import check_device

    assert check_device("cpu") == "cpu"
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("[", r"\[")):
        check_device(device)
