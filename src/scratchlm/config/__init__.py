"""Typed run configuration: dataclasses loaded from YAML, dotted ``--set`` overrides, strict keys.

A config has four sections, each a dataclass (defined in :mod:`scratchlm.config.sections` and, for
``model``, :mod:`scratchlm.config.model`; imported from here):

- ``data``       what to read and how to tokenize it (:class:`DataConfig`)
- ``model``      the input layer, the encoder and the head (:class:`ModelConfig`)
- ``train``      optimisation, schedule, checkpoints (:class:`TrainConfig`)
- ``vectors``    how to pretrain initial token vectors when ``model.init: word2vec`` (:class:`VectorsConfig`)

Unknown keys are errors that name the key and suggest the closest valid ones (no ``**kwargs`` sinks:
a typo never silently falls back to a default). Values from the command line are parsed to the
field's declared type.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scratchlm.config.model import POSITIONAL_KINDS, ModelConfig  # noqa: F401 (imported from here)
from scratchlm.config.sections import OLD_TASK_NAMES, TASK_NAMES, DataConfig, TrainConfig, VectorsConfig  # noqa: F401
from scratchlm.errors import ConfigError


@dataclass
class RunConfig:
    """A whole recipe: what ``scratchlm train CONFIG.yaml`` reads and what a run saves."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    vectors: VectorsConfig = field(default_factory=VectorsConfig)

    def __post_init__(self) -> None:
        if self.train.embedding_weight_decay and self.model.freeze_embedding_rows != "none":
            raise ConfigError(
                f"train.embedding_weight_decay={self.train.embedding_weight_decay} would shrink the rows that "
                f"model.freeze_embedding_rows={self.model.freeze_embedding_rows} keeps fixed; set one of them "
                "to 0 / none"
            )
        if self.model.vectors_vocab and self.data.tokenizer not in ("char", "jieba"):
            raise ConfigError(
                f"model.vectors_vocab applies to data.tokenizer char or jieba (a vocabulary of whole tokens); "
                f"a {self.data.tokenizer} vocabulary is trained, its pieces are not the vectors' words"
            )
        if self.data.packing and self.data.document_mask and self.model.encoder != "transformer":
            raise ConfigError(
                f"data.document_mask keeps attention inside each packed text, and model.encoder="
                f"{self.model.encoder} has no attention; set data.document_mask: false or use a transformer"
            )

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["train"]["betas"] = list(self.train.betas)
        return out


# ----------------------------------------------------------------------------------------------
# loading, overriding, saving


# names other libraries use for our fields: suggested first when a user types them
SYNONYMS = {
    "learning_rate": "lr",
    "hidden_size": "embed_dim",
    "d_model": "embed_dim",
    "dim": "embed_dim",
    "n_layers": "num_layers",
    "n_heads": "num_heads",
    "num_attention_heads": "num_heads",
    "intermediate_size": "ffn_dim",
    "max_length": "max_seq_len",
    "max_len": "max_seq_len",
    "num_epochs": "epochs",
    "warmup": "warmup_ratio",
    "clip": "grad_clip",
    "max_grad_norm": "grad_clip",
}


def _unknown_key(where: str, key: str, valid: list[str]) -> ConfigError:
    close = difflib.get_close_matches(key, valid, n=3, cutoff=0.5)
    if SYNONYMS.get(key) in valid:
        close = [SYNONYMS[key]] + [c for c in close if c != SYNONYMS[key]]
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return ConfigError(f"unknown config key '{where}{key}'{hint} (valid keys: {', '.join(valid)})")


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _coerce(name: str, value: Any, tp: Any) -> Any:
    """Convert ``value`` (from YAML or from a ``--set`` string) to the declared type ``tp``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in ("null", "none", "~")):
            if type(None) in args:
                return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(name, value, arg)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{name}: cannot use {value!r}")
    if origin in (list, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()] if value.strip() else []
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{name}: expected a list, got {value!r}")
        if origin is tuple:
            return tuple(_coerce(name, v, a) for v, a in zip(value, args, strict=False))
        return [_coerce(name, v, args[0] if args else str) for v in value]
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "no", "0", "off"):
            return False
        raise ConfigError(f"{name}: expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"{name}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.replace("_", ""))
            except ValueError:
                pass
        raise ConfigError(f"{name}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{name}: expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected a number, got {value!r}") from None
    if tp is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{name}: expected a string, got {value!r}")
        return str(value)
    return value


def _build_section(cls: type, raw: dict[str, Any], section: str) -> Any:
    types_ = _field_types(cls)
    for key in raw:
        if key not in types_:
            raise _unknown_key(f"{section}.", key, list(types_))
    kwargs = {k: _coerce(f"{section}.{k}", v, types_[k]) for k, v in raw.items()}
    return cls(**kwargs)


SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "model": ModelConfig,
    "train": TrainConfig,
    "vectors": VectorsConfig,
}


def config_from_dict(raw: dict[str, Any]) -> RunConfig:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"a config must be a mapping of sections ({', '.join(SECTIONS)}), got {type(raw).__name__}"
        )
    for key, value in raw.items():
        if key not in SECTIONS:
            raise _unknown_key("", key, list(SECTIONS))
        if value is not None and not isinstance(value, dict):
            raise ConfigError(f"config section {key!r} must be a mapping, got {value!r}")
    raw = _migrate_task_name(raw)
    return RunConfig(
        **{name: _build_section(cls, raw.get(name) or {}, name) for name, cls in SECTIONS.items()}
    )


def _migrate_task_name(raw: dict[str, Any]) -> dict[str, Any]:
    """``data.task`` as earlier versions spelled it (``classify``, ``tag``, ``mlm``, ``clm``) -> its name now."""
    data = raw.get("data") or {}
    old = data.get("task")
    if isinstance(old, str) and old in OLD_TASK_NAMES:
        new = OLD_TASK_NAMES[old]
        logging.getLogger("scratchlm.config").warning(
            "config: data.task=%s is now written data.task=%s (migrated)", old, new
        )
        raw = {**raw, "data": {**data, "task": new}}
    return raw


def parse_override(text: str) -> tuple[str, str, str]:
    """``"train.lr=3e-4"`` -> ``("train", "lr", "3e-4")`` with clear errors."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected section.key=value, e.g. --set train.lr=3e-4")
    dotted, value = text.split("=", 1)
    parts = dotted.strip().split(".")
    if len(parts) != 2 or not all(parts):
        raise ConfigError(
            f"--set {text!r}: the key must be section.key, e.g. train.lr (sections: {', '.join(SECTIONS)})"
        )
    section, key = parts
    if section not in SECTIONS:
        raise _unknown_key("", section, list(SECTIONS))
    if key not in _field_types(SECTIONS[section]):
        raise _unknown_key(f"{section}.", key, list(_field_types(SECTIONS[section])))
    return section, key, value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of the raw YAML mapping with ``section.key=value`` strings applied."""
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"a config must be a mapping of sections ({', '.join(SECTIONS)}), got {type(raw).__name__}"
        )
    for key, value in raw.items():
        if value is not None and not isinstance(value, dict):
            raise ConfigError(f"config section {key!r} must be a mapping of keys, got {value!r}")
    out = {k: dict(v or {}) for k, v in raw.items()}
    for text in overrides:
        section, key, value = parse_override(text)
        out.setdefault(section, {})[key] = value
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
        raise ConfigError(f"{path}{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    return raw or {}


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Read a YAML recipe, apply ``--set`` overrides, validate every key and value."""
    raw = apply_overrides(read_yaml(path), overrides or [])
    try:
        return config_from_dict(raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def dump_config(config: RunConfig) -> str:
    import yaml

    return yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True)
