"""The checks every config section uses: known keys (an unknown one is an error that suggests the
closest valid ones), values converted to the declared type (from YAML or from ``--set`` text), a
number's minimum and a value's allowed choices.

A section is a dataclass; a field whose type is itself a dataclass is a nested section
(``model.positional``), read from a mapping with the same strict keys, its dotted path in every message.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from typing import Any

from scratchlm.errors import ConfigError


def check_positive(name: str, value: int | None, minimum: int = 1) -> None:
    if value is not None and value < minimum:
        raise ConfigError(f"{name}={value} must be >= {minimum}")


def check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(allowed)}")


def check_range(
    name: str,
    value: float | None,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    hint: str = "",
) -> None:
    """``value`` is a finite number within ``low``..``high`` (each bound closed unless ``*_open``);
    ``None`` passes (an optional field left out). NaN fails every comparison, so it is caught here."""
    if value is None:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "" if low is None else f"{'(' if low_open else '['}{low:g}"
        hi = "" if high is None else f"{high:g}{')' if high_open else ']'}"
        where = (
            f"in {lo}, {hi}"
            if low is not None and high is not None
            else (
                f"{'>' if low_open else '>='} {low:g}"
                if low is not None
                else f"{'<' if high_open else '<='} {high:g}"
            )
        )
        raise ConfigError(f"{name}={value} must be a finite number {where}{hint}")


def check_device(device: str) -> str:
    """``--device``: a device torch knows and this machine has (``cpu``, ``cuda``, ``cuda:1``, ``mps``),
    checked before a run writes anything."""
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"--device {device!r}: not a device; use cpu, cuda or cuda:N") from None
    if parsed.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigError(
                f"--device {device}: this machine has no CUDA device (torch {torch.__version__}); use cpu"
            )
        if parsed.index is not None and parsed.index >= count:
            raise ConfigError(
                f"--device {device}: this machine has {count} CUDA device(s), cuda:0..cuda:{count - 1}"
            )
    elif parsed.type == "mps" and not (torch.backends.mps.is_available()):
        raise ConfigError(f"--device {device}: MPS is not available on this machine; use cpu")
    elif parsed.type not in ("cpu", "cuda", "mps"):
        raise ConfigError(f"--device {device}: scratchlm trains on cpu, cuda or mps")
    return device


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
    "num_beams": "beam_size",
    "rope_theta": "rope_base",
    "theta": "rope_base",
}


def field_types(cls: type) -> dict[str, Any]:
    """``{field name: declared type}`` of a section dataclass, in declaration order."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def is_section(tp: Any) -> bool:
    """A field type that is a nested section (a dataclass), not a value."""
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _candidates(cls: type) -> dict[str, str]:
    """Names a typed key is compared with -> what to suggest: the section's own keys, and the keys of
    its nested sections under their dotted name (``num_layers`` -> ``encoder.num_layers``)."""
    own = field_types(cls)
    out: dict[str, str] = {}
    for name, tp in own.items():
        if is_section(tp):
            for inner in field_types(tp):
                out.setdefault(inner, f"{name}.{inner}")
    out.update({name: name for name in own})
    return out


def unknown_key(where: str, key: str, cls_or_valid: type | list[str]) -> ConfigError:
    """The error for ``where + key`` not being a key of ``cls`` (or of the ``valid`` names)."""
    if isinstance(cls_or_valid, list):
        names, valid = {k: k for k in cls_or_valid}, cls_or_valid
    else:
        names, valid = _candidates(cls_or_valid), list(field_types(cls_or_valid))
    close = [names[c] for c in difflib.get_close_matches(key, list(names), n=3, cutoff=0.5)]
    if SYNONYMS.get(key) in names:
        first = names[SYNONYMS[key]]
        close = [first] + [c for c in close if c != first]
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return ConfigError(f"unknown config key '{where}{key}'{hint} (valid keys: {', '.join(valid)})")


def _coerce_union(name: str, value: Any, args: tuple) -> Any:
    if value is None or (isinstance(value, str) and value.lower() in ("null", "none", "~")):
        if type(None) in args:
            return None
    errors = []
    for arg in args:
        if arg is type(None):
            continue
        try:
            return coerce(name, value, arg)
        except ConfigError as exc:
            errors.append(str(exc))
    raise ConfigError(errors[0] if errors else f"{name}: cannot use {value!r}")


def _coerce_number(name: str, value: Any, tp: type) -> Any:
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
    if isinstance(value, bool):
        raise ConfigError(f"{name}: expected a number, got {value!r}")
    try:
        number = float(value.replace("_", "") if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{name}: expected a number, got {value!r}") from None
    if not math.isfinite(number):  # nan, inf: every later check would pass or misfire silently
        raise ConfigError(f"{name}: expected a finite number, got {value!r}")
    return number


def coerce(name: str, value: Any, tp: Any) -> Any:
    """Convert ``value`` (from YAML or from a ``--set`` string) to the declared type ``tp``; a nested
    section (a dataclass type) from a mapping, with strict keys."""
    if is_section(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            keys = ", ".join(field_types(tp))
            raise ConfigError(f"{name} is a section (keys: {keys}), not a value: got {value!r}")
        return build_section(tp, value, name)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return _coerce_union(name, value, args)
    if origin in (list, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()] if value.strip() else []
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{name}: expected a list, got {value!r}")
        if origin is tuple:
            return tuple(coerce(name, v, a) for v, a in zip(value, args, strict=False))
        return [coerce(name, v, args[0] if args else str) for v in value]
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "no", "0", "off"):
            return False
        raise ConfigError(f"{name}: expected true or false, got {value!r}")
    if tp in (int, float):
        return _coerce_number(name, value, tp)
    if tp is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{name}: expected a string, got {value!r}")
        return str(value)
    return value


def build_section(cls: type, raw: dict[str, Any], section: str) -> Any:
    """``cls(**raw)`` with every key known (``section.key`` named in the error) and every value
    converted to its field's type."""
    types_ = field_types(cls)
    for key in raw:
        if key not in types_:
            raise unknown_key(f"{section}.", key, cls)
    kwargs = {k: coerce(f"{section}.{k}", v, types_[k]) for k, v in raw.items()}
    return cls(**kwargs)


def sections_from_mappings(obj: Any, section: str) -> None:
    """In ``__post_init__``: nested sections given as mappings become their dataclasses (so
    ``ModelConfig(encoder={"kind": "lstm"})`` works, with the same strict keys as YAML)."""
    for name, tp in field_types(type(obj)).items():
        value = getattr(obj, name)
        if is_section(tp) and not isinstance(value, tp):
            setattr(obj, name, coerce(f"{section}.{name}", value, tp))
