"""Configs written in an earlier layout keep loading: one table of rules, applied on read.

Every config scratchlm reads passes through :func:`migrate` (or, for one ``--set``, :func:`migrate_key`)
before its keys are checked: recipe YAML files, ``--set section.key=value``, the ``config.yaml`` of a run
directory and the config a checkpoint stores in its ``trainer.json`` (compared on ``--resume``). A load
that needed a rule logs one line naming each old -> new key (logger ``scratchlm.config``, level
WARNING). :func:`~scratchlm.config.dump_config` writes today's layout only, so every new file is in it.

A rule maps one dotted key (a value, never a whole section) to its name today, and optionally some of
its values to theirs. Rules run in table order on each key, so a later rule may rename again what an
earlier one produced. To rename a key or a value, add a line to :data:`RULES`; the tests in
tests/config/test_migrate.py run every rule.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scratchlm.config.data import OLD_TASK_NAMES
from scratchlm.errors import ConfigError

log = logging.getLogger("scratchlm.config")


@dataclass(frozen=True)
class Rule:
    """``old`` is read as ``new``; with ``values``, only those values, each read as its new value."""

    old: str
    """The dotted key as an earlier version wrote it (``model.rope_base``)."""
    new: str
    """The dotted key today (``model.positional.rope_base``); equal to ``old`` for a value rename."""
    values: Mapping[str, str] | None = None
    """Old value -> new value (``None``: any value, kept as it is). Other values of ``old`` are left alone
    when the key is unchanged, and keep their value under ``new`` otherwise."""

    def apply(self, key: str, value: Any) -> tuple[str, Any] | None:
        """``(new key, new value)``, or ``None`` when the rule does not touch this key and value."""
        if key != self.old:
            return None
        if self.values is not None and isinstance(value, str) and value in self.values:
            return self.new, self.values[value]
        return None if self.new == self.old else (self.new, value)


RULES: tuple[Rule, ...] = (
    # Each task has one name, the one its run.json records (issue #14): data.task: classify -> classification.
    Rule("data.task", "data.task", OLD_TASK_NAMES),
    # The model's optional parts became nested sections (issue #14). A value where a section now is
    # (``model.encoder: lstm``, ``model.positional: rope``) becomes that section's ``kind``.
    Rule("model.encoder", "model.encoder.kind"),
    Rule("model.num_layers", "model.encoder.num_layers"),
    Rule("model.num_heads", "model.encoder.num_heads"),
    Rule("model.ffn_dim", "model.encoder.ffn_dim"),
    Rule("model.attention_dropout", "model.encoder.attention_dropout"),
    Rule("model.norm_position", "model.encoder.norm_position"),
    Rule("model.rnn_hidden_dim", "model.encoder.rnn_hidden_dim"),
    Rule("model.bidirectional", "model.encoder.bidirectional"),
    Rule("model.positional", "model.positional.kind"),
    Rule("model.combine", "model.positional.combine"),
    Rule("model.combine_activation", "model.positional.combine_activation"),
    Rule("model.rope_base", "model.positional.rope_base"),
    Rule("model.rotary_fraction", "model.positional.rotary_fraction"),
    Rule("model.t5_num_buckets", "model.positional.num_buckets"),
    Rule("model.t5_max_distance", "model.positional.max_distance"),
    Rule("model.attention", "model.decoder.attention"),
    Rule("model.beam_size", "model.generation.beam_size"),
    Rule("model.length_penalty", "model.generation.length_penalty"),
    Rule("model.max_decode_len", "model.generation.max_new_tokens"),
)
"""Every rename since the first release, oldest first."""


def _describe(old: str, old_value: Any, new: str, new_value: Any) -> str:
    if old == new:
        return f"{old}: {old_value} -> {new_value}"
    if old_value == new_value:
        return f"{old} -> {new}"
    return f"{old}: {old_value} -> {new}: {new_value}"


def migrate_key(key: str, value: Any, rules: tuple[Rule, ...] = RULES) -> tuple[str, Any, list[str]]:
    """One dotted key and its value through every rule: ``(key, value, notes)``, a note per change."""
    notes = []
    for rule in rules:
        changed = rule.apply(key, value)
        if changed is not None:
            notes.append(_describe(key, value, *changed))
            key, value = changed
    return key, value, notes


def flatten(raw: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """``{"model": {"encoder": {"kind": "lstm"}}}`` -> ``[("model.encoder.kind", "lstm")]``: every value
    (anything but a mapping: lists and ``None`` too) under its dotted key."""
    out = []
    for key, value in raw.items():
        if isinstance(value, Mapping):
            out.extend(flatten(value, f"{prefix}{key}."))
        else:
            out.append((f"{prefix}{key}", value))
    return out


def set_dotted(out: dict[str, Any], key: str, value: Any) -> None:
    """``out[a][b][c] = value`` for ``key = "a.b.c"``, making the sections on the way."""
    *path, last = key.split(".")
    where = out
    for i, part in enumerate(path):
        inner = where.setdefault(part, {})
        if not isinstance(inner, dict):
            name = ".".join(path[: i + 1])
            raise ConfigError(f"{name} is a section (it holds {key}), not a value: got {inner!r}")
        where = inner
    where[last] = value


def migrate(raw: Mapping[str, Any], rules: tuple[Rule, ...] = RULES) -> tuple[dict[str, Any], list[str]]:
    """A config mapping in any earlier layout -> ``(today's layout, notes)``: a new mapping (``raw`` is
    not changed), and one ``old -> new`` note per key a rule changed. A key written twice, under its old
    and its new name, is an error naming both. Top-level entries that are not mappings are kept as they
    are (the loader reports them)."""
    out: dict[str, Any] = {}
    notes: list[str] = []
    origin: dict[str, str] = {}
    for section, body in raw.items():
        if not isinstance(body, Mapping):
            out[section] = body
            continue
        out[section] = {}
        for key, value in flatten(body, f"{section}."):
            new, value, changes = migrate_key(key, value, rules)
            if new in origin:
                raise ConfigError(f"{origin[new]} and {key} both set {new} (its name now); keep only {new}")
            origin[new] = key
            notes.extend(changes)
            set_dotted(out, new, value)
    return out, notes


def notify(notes: list[str], source: object = None) -> None:
    """The one line a load logs when rules changed keys (nothing when none did)."""
    if notes:
        where = f"{source}: " if source else ""
        unique = list(dict.fromkeys(notes))
        log.warning(
            "%sconfig keys of an earlier version, read as: %s (docs/configuration.md)",
            where,
            ", ".join(unique),
        )
