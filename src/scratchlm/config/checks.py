"""The two checks every config section uses: a number's minimum and a value's allowed choices."""

from __future__ import annotations

from scratchlm.errors import ConfigError


def check_positive(name: str, value: int | None, minimum: int = 1) -> None:
    if value is not None and value < minimum:
        raise ConfigError(f"{name}={value} must be >= {minimum}")


def check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(allowed)}")
