"""The search space of ``scratchlm tune``: ``--space section.key=SPEC`` per config field, where SPEC is

- ``loguniform:LOW:HIGH``  a float drawn on a log scale (learning rates, weight decay);
- ``uniform:LOW:HIGH``     a float drawn uniformly (dropout);
- ``int:LOW:HIGH``         an integer in [LOW, HIGH];
- ``V1,V2,...``            one of the values (categorical: sizes, kinds), checked by the config as a
  ``--set`` value would be.

Keys are any config field by dotted path, named and checked the way ``--set`` and ``ablate --grid`` do.
"""

from __future__ import annotations

from dataclasses import dataclass

from scratchlm.config import apply_overrides, config_from_dict, parse_override
from scratchlm.errors import ConfigError

KINDS = ("loguniform", "uniform", "int")


@dataclass(frozen=True)
class Dimension:
    """One tuned field: ``kind`` is ``loguniform``, ``uniform``, ``int`` or ``choice``."""

    key: str
    kind: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def suggest(self, trial) -> str:
        """The trial's value, as the ``--set`` string the config reads."""
        if self.kind == "choice":
            return trial.suggest_categorical(self.key, list(self.choices))
        if self.kind == "int":
            return str(trial.suggest_int(self.key, int(self.low), int(self.high)))
        return repr(trial.suggest_float(self.key, self.low, self.high, log=self.kind == "loguniform"))


def _range(spec: str, key: str, kind: str, parts: list[str]) -> Dimension:
    if len(parts) != 2:
        raise ConfigError(f"--space {spec!r}: {kind} needs LOW:HIGH, e.g. {key}={kind}:1e-4:3e-3")
    try:
        low, high = (int(p) for p in parts) if kind == "int" else (float(p) for p in parts)
    except ValueError:
        raise ConfigError(
            f"--space {spec!r}: LOW and HIGH must be {'integers' if kind == 'int' else 'numbers'}"
        ) from None
    if not low < high:
        raise ConfigError(f"--space {spec!r}: LOW must be below HIGH")
    if kind == "loguniform" and low <= 0:
        raise ConfigError(f"--space {spec!r}: loguniform needs LOW > 0")
    return Dimension(key, kind, low, high)


def parse_space(specs: list[str]) -> list[Dimension]:
    """``["train.lr=loguniform:1e-4:3e-3", "model.embed_dim=64,128"]`` -> the dimensions, each key once."""
    dims: dict[str, Dimension] = {}
    for spec in specs:
        section, key, raw = parse_override(spec)  # names an unknown key and suggests close ones
        dotted = f"{section}.{key}"
        if dotted in dims:
            raise ConfigError(f"--space {dotted} is given twice")
        head, *rest = raw.split(":")
        if head in KINDS:
            dims[dotted] = _range(spec, dotted, head, rest)
            continue
        values = [v.strip() for v in raw.split(",")]
        if not raw.strip() or any(not v for v in values) or len(set(values)) != len(values):
            raise ConfigError(
                f"--space {spec!r}: give {' / '.join(f'{k}:LOW:HIGH' for k in KINDS)} or distinct "
                f"comma-separated values, e.g. {dotted}=a,b"
            )
        dims[dotted] = Dimension(dotted, "choice", choices=tuple(values))
    if not dims:
        raise ConfigError("tune needs at least one --space section.key=SPEC")
    return list(dims.values())


def check_space(raw: dict, dims: list[Dimension], sets: list[str]) -> None:
    """Every categorical value and both ends of every range must be a value the config accepts."""
    for dim in dims:
        probes = dim.choices or (str(int(dim.low) if dim.kind == "int" else dim.low),
                                 str(int(dim.high) if dim.kind == "int" else dim.high))  # fmt: skip
        for value in probes:
            try:
                config_from_dict(apply_overrides(raw, [*sets, f"{dim.key}={value}"]))
            except ConfigError as exc:
                raise ConfigError(f"--space {dim.key}={value}: {exc}") from None
