"""A whole run configuration (:class:`RunConfig`): its four sections, read from YAML with strict keys,
dotted ``--set`` overrides, and written back as YAML.

Loading goes raw mapping -> :func:`~scratchlm.config.migrate.migrate` (keys of earlier versions read
under their new names, one notice per load) -> each section's dataclass (unknown keys are errors with
suggestions, values converted to the declared types, each section's checks) -> :class:`RunConfig`'s
checks across sections.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scratchlm.config.checks import build_section, field_types, is_section, unknown_key
from scratchlm.config.data import DataConfig
from scratchlm.config.migrate import migrate, migrate_key, notify, set_dotted
from scratchlm.config.model import ModelConfig
from scratchlm.config.train import TrainConfig
from scratchlm.config.vectors import VectorsConfig
from scratchlm.errors import ConfigError


@dataclass
class RunConfig:
    """A whole recipe: what ``scratchlm train CONFIG.yaml`` reads and what a run saves."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    vectors: VectorsConfig = field(default_factory=VectorsConfig)

    def __post_init__(self) -> None:
        """Checks across sections that hold for every task (a task's own checks run when it is made,
        :mod:`scratchlm.tasks`)."""
        m, d = self.model, self.data
        if self.train.embedding_weight_decay and m.freeze_embedding_rows != "none":
            raise ConfigError(
                f"train.embedding_weight_decay={self.train.embedding_weight_decay} would shrink the rows that "
                f"model.freeze_embedding_rows={m.freeze_embedding_rows} keeps fixed; set one of them "
                "to 0 / none"
            )
        if m.vectors_vocab and d.tokenizer not in ("char", "jieba"):
            raise ConfigError(
                f"model.vectors_vocab applies to data.tokenizer char or jieba (a vocabulary of whole tokens); "
                f"a {d.tokenizer} vocabulary is trained, its pieces are not the vectors' words"
            )
        if d.packing and d.document_mask and m.encoder.kind != "transformer":
            raise ConfigError(
                f"data.document_mask keeps attention inside each packed text, and model.encoder.kind="
                f"{m.encoder.kind} has no attention; set data.document_mask: false or use a transformer"
            )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (nested sections as nested mappings), as ``config.yaml`` and ``trainer.json`` hold it."""
        out = dataclasses.asdict(self)
        out["train"]["betas"] = list(self.train.betas)
        return out


# ----------------------------------------------------------------------------------------------
# loading, overriding, saving

SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "model": ModelConfig,
    "train": TrainConfig,
    "vectors": VectorsConfig,
}


def _as_sections(raw: Any, *, known_only: bool = True) -> dict[str, Any]:
    """``raw`` checked to be a mapping of sections, each a mapping (or empty)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"a config must be a mapping of sections ({', '.join(SECTIONS)}), got {type(raw).__name__}"
        )
    for key, value in raw.items():
        if known_only and key not in SECTIONS:
            raise unknown_key("", key, list(SECTIONS))
        if value is not None and not isinstance(value, dict):
            raise ConfigError(f"config section {key!r} must be a mapping of keys, got {value!r}")
    return raw


def config_from_dict(raw: dict[str, Any] | None, *, source: object = None) -> RunConfig:
    """A :class:`RunConfig` from a mapping of sections (YAML as read), in today's layout or an earlier
    one (``source``, when given, names where it came from in the one-line notice)."""
    raw, notes = migrate(_as_sections(raw))
    notify(notes, source)
    return RunConfig(
        **{name: build_section(cls, raw.get(name) or {}, name) for name, cls in SECTIONS.items()}
    )


def _check_dotted(text: str, section: str, parts: list[str]) -> None:
    """``section.parts...`` names one value (not a section) of the config, else an error."""
    cls, where = SECTIONS[section], f"{section}."
    for i, part in enumerate(parts):
        types_ = field_types(cls)
        if part not in types_:
            raise unknown_key(where, part, cls)
        tp, last = types_[part], i == len(parts) - 1
        if is_section(tp) and last:
            keys = ", ".join(f"{where}{part}.{k}" for k in field_types(tp))
            raise ConfigError(f"--set {text!r}: {where}{part} is a section; set one of its keys ({keys})")
        if not is_section(tp) and not last:
            raise ConfigError(f"--set {text!r}: {where}{part} is a value, not a section")
        if is_section(tp):
            cls, where = tp, f"{where}{part}."


def _parse_override(text: str) -> tuple[str, str, str, list[str]]:
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected section.key=value, e.g. --set train.lr=3e-4")
    dotted, value = text.split("=", 1)
    parts = dotted.strip().split(".")
    if len(parts) < 2 or not all(parts):
        raise ConfigError(
            f"--set {text!r}: the key must be section.key, e.g. train.lr or model.positional.kind "
            f"(sections: {', '.join(SECTIONS)})"
        )
    if parts[0] not in SECTIONS:
        raise unknown_key("", parts[0], list(SECTIONS))
    dotted, value, notes = migrate_key(".".join(parts), value)
    section, *parts = dotted.split(".")
    _check_dotted(text, section, parts)
    return section, ".".join(parts), value, notes


def parse_override(text: str) -> tuple[str, str, str]:
    """``"train.lr=3e-4"`` -> ``("train", "lr", "3e-4")``; a nested key stays dotted:
    ``"model.positional.kind=rope"`` -> ``("model", "positional.kind", "rope")``. Keys of earlier versions
    come back under their new names; unknown keys are errors with suggestions."""
    section, key, value, _notes = _parse_override(text)
    return section, key, value


def apply_overrides(
    raw: dict[str, Any] | None, overrides: list[str], *, source: object = None
) -> dict[str, Any]:
    """Return a copy of the raw YAML mapping, in today's layout, with ``section.key=value`` strings
    applied (values stay strings until :func:`config_from_dict`). Logs one notice when ``raw`` or an
    override used keys of an earlier version."""
    try:
        out, notes = migrate(_as_sections(raw, known_only=False))
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}" if source else str(exc)) from None
    for text in overrides:
        section, key, value, more = _parse_override(text)
        notes.extend(more)
        if not isinstance(out.get(section), dict):
            out[section] = {}
        set_dotted(out[section], key, value)
    notify(notes, source)
    return out


def read_yaml(path: str | Path) -> dict[str, Any]:
    import yaml

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, expected a YAML config file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())  # one line, whatever YAML says
        raise ConfigError(f"{path}{where}: invalid YAML ({problem})") from None
    return raw or {}


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Read a YAML recipe, apply ``--set`` overrides, validate every key and value."""
    raw = apply_overrides(read_yaml(path), overrides or [], source=path)
    try:
        return config_from_dict(raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def dump_config(config: RunConfig) -> str:
    """The YAML of ``config`` in today's layout, every key of every section."""
    import yaml

    return yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True)
