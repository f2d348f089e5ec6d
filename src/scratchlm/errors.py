"""Errors a user can act on. The CLI prints them as one line and exits non-zero; no traceback."""

from __future__ import annotations


class ScratchLMError(Exception):
    """Base class: the message says what is wrong and what to do."""


class ConfigError(ScratchLMError):
    """A config file, key or value is invalid."""


class DataError(ScratchLMError):
    """A data file or dataset is missing, unreadable or malformed (the message names file and line)."""


class RunDirError(ScratchLMError):
    """A directory is not a scratchlm run (or is incomplete)."""


class MissingExtraError(ScratchLMError):
    """An optional dependency is not installed; the message names the extra."""


def require(module: str, extra: str, purpose: str):
    """Import an optional dependency or raise a clear error naming the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"{purpose} needs the Python package {module!r}: pip install 'scratchlm[{extra}]'"
        ) from None
