"""Command-line options made from the config dataclasses: a setting is defined once, in its config class.

A command lists the config fields it exposes once, in a table of :class:`ConfigOption` (the field's
dotted path from :class:`~scratchlm.config.RunConfig`, e.g. ``data.min_freq`` or, inside a nested
section, ``model.positional.kind``; and the flag). :func:`add_options` makes each an argparse option:

- its type from the field's annotation (``int``, ``float``, ``str``, ``X | None``, ``list[X]``,
  ``Literal[...]``); a ``bool`` field becomes a flag: ``--name`` when it is false by default,
  ``--no-name`` when it is true;
- its default from the field's default, or the command's own when the command differs;
- its choices from the values the config allows: a ``Literal[...]`` annotation,
  ``field(metadata={"choices": ...})``, or the class's own ``check_choice("section.key", value, CHOICES)``;
- its ``--help`` from the field's attribute docstring (the string literal under the field, read from the
  class source with ``ast``, as jsonargparse does for litgpt's CLI), followed by the default.

After parsing, :func:`to_overrides` turns the options the user typed into ``--set`` strings
(``model.positional.kind=rope``), :func:`to_values` gives every option's value by path, and
:func:`build_section` builds the config dataclass (e.g. ``VectorsConfig``) so that its own checks run,
their errors naming the flag. When a field moves, the command's table changes by one line.

The config classes are read when a parser is built (their sources parsed once per file, no torch
imported): ``scratchlm --help`` stays fast.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import re
import sys
import textwrap
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scratchlm.errors import ConfigError

GIVEN = "_config_options_given"
"""Namespace attribute: the dests of the options typed on the command line (defaults are not)."""


class _Unset:
    def __repr__(self) -> str:
        return "<the config's>"


UNSET: Any = _Unset()


@dataclass(frozen=True)
class ConfigOption:
    """One command-line option that sets one config field."""

    path: str
    """The field's dotted path from ``RunConfig``: ``section.key`` or ``section.subsection.key``."""
    flag: str = ""
    """The option string, e.g. ``--kind`` (default: ``--`` and the field's name, ``_`` as ``-``; for a
    bool field that is true by default, ``--no-`` and the name)."""
    default: Any = UNSET
    """The command's default, when it is not the config's."""
    help: str = ""
    """Said instead of the field's docstring, when the command uses the field in its own way."""
    note: str = ""
    """Said after the docstring: what the command adds to the field's meaning."""
    choices: tuple | None = None
    """The allowed values, when the config declares none."""
    required: bool = False
    metavar: str | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def option_string(self, spec: FieldSpec) -> str:
        if self.flag:
            return self.flag
        negated = _base_type(spec.type)[0] is bool and self.default_for(spec) is True
        return "--" + ("no-" if negated else "") + self.name.replace("_", "-")

    def default_for(self, spec: FieldSpec) -> Any:
        return spec.default if self.default is UNSET else self.default

    @property
    def dest(self) -> str:
        """The namespace attribute: the flag's name (``--no-x`` stores ``x``), else the field's."""
        if not self.flag:
            return self.name
        name = self.flag.lstrip("-").replace("-", "_")
        return name[3:] if name.startswith("no_") else name


@dataclass(frozen=True)
class FieldSpec:
    """What the config says about one field."""

    path: str
    owner: type
    name: str
    type: Any
    default: Any
    doc: str
    choices: tuple | None


# ------------------------------------------------------------------------------- reading the config
def _run_config() -> type:
    from scratchlm.config import RunConfig

    return RunConfig


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@functools.cache
def _module_tree(filename: str) -> ast.Module:
    with open(filename, encoding="utf-8") as fh:
        return ast.parse(fh.read(), filename)


def _class_tree(cls: type) -> ast.ClassDef | None:
    """The class's definition in its module's source (parsed once per file), ``None`` without source."""
    filename = getattr(sys.modules.get(cls.__module__), "__file__", None)
    if not filename or not filename.endswith(".py"):  # e.g. defined in an interactive session
        return None
    body: list[ast.stmt] = _module_tree(filename).body
    node = None
    for part in cls.__qualname__.split("."):
        node = next((n for n in body if isinstance(n, ast.ClassDef) and n.name == part), None)
        if node is None:
            return None
        body = node.body
    return node


def _cleandoc(text: str) -> str:
    first, _, rest = text.strip("\n").partition("\n")
    return "\n".join(p for p in (first.strip(), textwrap.dedent(rest).strip()) if p)


@functools.cache
def attribute_docs(cls: type) -> dict[str, str]:
    """``{field: docstring}``: the string literal under each field, base classes first."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        tree = _class_tree(klass) if dataclasses.is_dataclass(klass) else None
        if tree is None:
            continue
        for node, after in zip(tree.body, tree.body[1:], strict=False):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = _cleandoc(after.value.value)
    return docs


@functools.cache
def checked_choices(cls: type) -> dict[str, tuple]:
    """``{field: allowed}`` from the class's ``check_choice("section.key", value, ALLOWED)`` calls
    (``ALLOWED`` a tuple literal or a name of the class's module)."""
    tree = _class_tree(cls)
    if tree is None:
        return {}
    names = vars(sys.modules[cls.__module__]) if cls.__module__ in sys.modules else {}
    found: dict[str, tuple] = {}
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "check_choice"
            and len(node.args) >= 3
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            continue
        allowed = node.args[2]
        if isinstance(allowed, ast.Name) and allowed.id in names:
            value = names[allowed.id]
        else:
            try:
                value = ast.literal_eval(allowed)
            except ValueError:
                continue
        found.setdefault(node.args[0].value.rsplit(".", 1)[-1], tuple(value))
    return found


def _base_type(tp: Any) -> tuple[Any, bool]:
    """``(element type, is a list)`` of an annotation, ``X | None`` unwrapped."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            tp = args[0]
    if typing.get_origin(tp) is list:
        (element,) = typing.get_args(tp) or (str,)
        return _base_type(element)[0], True
    return tp, False


def _declared_choices(cls: type, field: dataclasses.Field, tp: Any) -> tuple | None:
    base, _ = _base_type(tp)
    if typing.get_origin(base) is typing.Literal:
        return typing.get_args(base)
    if "choices" in field.metadata:
        return tuple(field.metadata["choices"])
    return checked_choices(cls).get(field.name)


def _field_default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def _is_section(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def section_class(path: str, root: type | None = None) -> type:
    """The dataclass of a section by dotted path (``""``: the root itself)."""
    cls = root or _run_config()
    for depth, part in enumerate(path.split(".") if path else []):
        fields = {f.name for f in dataclasses.fields(cls)}
        tp = _hints(cls).get(part) if part in fields else None
        if not _is_section(tp):
            where = ".".join(path.split(".")[:depth]) or cls.__name__
            what = "is a field, not a section" if part in fields else "is not a field"
            raise ValueError(f"{path}: {part!r} {what} of {where} ({', '.join(fields)})")
        cls = tp
    return cls


def field_spec(path: str, root: type | None = None) -> FieldSpec:
    """Type, default, docstring and allowed values of the field at ``path`` (e.g. ``data.min_freq``).

    A path that names no field, or names a whole section, is a ``ValueError`` that lists the fields
    there: a command's option table is out of date (a programming error, found by any CLI test)."""
    section, _, name = path.rpartition(".")
    cls = section_class(section, root)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if name not in fields:
        raise ValueError(f"{path}: {cls.__name__} has no field {name!r} ({', '.join(fields)})")
    tp = _hints(cls)[name]
    if _is_section(tp):
        inner = ", ".join(f.name for f in dataclasses.fields(tp))
        raise ValueError(f"{path} is a section ({tp.__name__}); name one of its fields: {inner}")
    field = fields[name]
    choices = _declared_choices(cls, field, tp)
    doc = attribute_docs(cls).get(name, "")
    return FieldSpec(path, cls, name, tp, _field_default(field), doc, choices)


# -------------------------------------------------------------------------------- argparse options
def help_text(doc: str) -> str:
    """A docstring as one line of ``--help``: reST markup dropped, ``%`` escaped for argparse."""
    text = re.sub(r"``([^`]*)``", r"\1", doc)
    text = re.sub(r":\w+:`~?([^`]*)`", lambda m: m.group(1).rsplit(".", 1)[-1], text)
    return " ".join(text.split()).replace("%", "%%")


def _shown(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return " ".join(map(str, value))
    return str(value)


class _Store(argparse.Action):
    """Stores the value, and records that it was typed."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values)
        namespace.__dict__.setdefault(GIVEN, set()).add(self.dest)


class _Flag(argparse.Action):
    """A bool field's flag: stores ``const`` (True for ``--x``, False for ``--no-x``)."""

    def __init__(self, option_strings, dest, const, default=None, required=False, help=None) -> None:
        super().__init__(
            option_strings, dest, nargs=0, const=const, default=default, required=required, help=help
        )

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, self.const)
        namespace.__dict__.setdefault(GIVEN, set()).add(self.dest)


def argparse_kwargs(option: ConfigOption, spec: FieldSpec) -> dict[str, Any]:
    """``add_argument`` keywords of one option (without the option string)."""
    default = option.default_for(spec)
    base, is_list = _base_type(spec.type)
    text = help_text(" ".join(t for t in (option.help or spec.doc, option.note) if t))
    kwargs: dict[str, Any] = {"dest": option.dest, "default": default, "required": option.required}
    if base is bool and not is_list:
        if default and text and not option.help:  # a --no-x flag: the docstring says what x does
            text = f"Turns off (on by default): {text}"
        return kwargs | {"action": _Flag, "const": not default, "help": text or None}
    choices = option.choices or spec.choices
    if typing.get_origin(base) is typing.Literal:
        base = type(typing.get_args(base)[0])
    if base not in (int, float, str):
        raise TypeError(f"{spec.path}: no command-line type for {spec.type!r}")
    if default is not None and not option.required:
        text = f"{text} (default: {_shown(default)})".strip()
    kwargs |= {"action": _Store, "type": base, "help": text or None}
    if is_list:
        kwargs["nargs"] = "+"
    if choices:
        kwargs["choices"] = choices
    if option.metavar:
        kwargs["metavar"] = option.metavar
    return kwargs


def add_options(
    parser: argparse.ArgumentParser, options: Sequence[ConfigOption], root: type | None = None
) -> None:
    """Add one argparse option per :class:`ConfigOption`, typed and documented by its config field."""
    for option in options:
        spec = field_spec(option.path, root)
        parser.add_argument(option.option_string(spec), **argparse_kwargs(option, spec))


def add_set_option(parser: argparse.ArgumentParser, help: str = "override a config value") -> None:
    """``--set SECTION.KEY=VALUE`` (repeatable): any config field, checked when the config is read."""
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help=help)


# -------------------------------------------------------------------------- values back to the config
def given(args: argparse.Namespace) -> set[str]:
    """The dests of the config options typed on the command line."""
    return set(getattr(args, GIVEN, ()))


def format_value(value: Any) -> str:
    """A value as ``--set`` writes it (``null``, ``true``/``false``, lists comma-separated)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return str(value)


def to_overrides(args: argparse.Namespace, options: Sequence[ConfigOption]) -> list[str]:
    """``["section.key=value", ...]`` for the options the user typed, in ``--set`` form."""
    typed = given(args)
    return [f"{o.path}={format_value(getattr(args, o.dest))}" for o in options if o.dest in typed]


def config_value(config: Any, path: str) -> Any:
    """The value at a dotted path of a config object (``config_value(cfg, "model.positional.kind")``)."""
    return functools.reduce(getattr, path.split("."), config)


def to_values(args: argparse.Namespace, options: Sequence[ConfigOption]) -> dict[str, Any]:
    """``{path: value}`` of every option, typed or default."""
    return {o.path: getattr(args, o.dest) for o in options}


def _build(cls: type, values: dict[str, Any]) -> Any:
    flat: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        head, dot, rest = key.partition(".")
        if dot:
            nested.setdefault(head, {})[rest] = value
        else:
            flat[key] = value
    hints = _hints(cls)
    return cls(**flat, **{name: _build(hints[name], inner) for name, inner in nested.items()})


def build_section(
    args: argparse.Namespace,
    options: Sequence[ConfigOption],
    section: str,
    root: type | None = None,
    **extra: Any,
) -> Any:
    """The config dataclass at ``section`` (e.g. ``"vectors"``) from the options under it (typed or
    default; ``extra``: more ``key=value`` by path inside the section), the rest at their defaults.
    Its checks run; an error names the flag (``--window 0 must be >= 1``)."""
    prefix = f"{section}."
    values = {o.path[len(prefix) :]: getattr(args, o.dest) for o in options if o.path.startswith(prefix)}
    try:
        return _build(section_class(section, root), values | extra)
    except ConfigError as exc:
        raise ConfigError(_name_flags(str(exc), args, options, root)) from None


def _name_flags(message: str, args, options: Sequence[ConfigOption], root: type | None) -> str:
    """``vectors.window=0 must be >= 1`` -> ``--window 0 must be >= 1``."""
    for o in options:
        value = getattr(args, o.dest)
        said = f"{o.option_string(field_spec(o.path, root))} {format_value(value)}"
        for written in dict.fromkeys((repr(value), format_value(value), str(value))):
            pattern = re.escape(f"{o.path}={written}") + r"(?![\w.])"
            message = re.sub(pattern, lambda _match, said=said: said, message)
    return message
