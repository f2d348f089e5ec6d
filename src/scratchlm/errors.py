"""Errors a user can act on. The CLI prints them as one line and exits non-zero; no traceback."""

from __future__ import annotations


class ScratchLMError(Exception):
    """Base class: the message says what is wrong and what to do."""


class ConfigError(ScratchLMError):
    """A config file, key or value is invalid."""


class LimitError(ConfigError):
    """A request goes past a limit of the model (a prompt longer than its positions): ``limit`` names
    the limit, ``max`` its value (the server answers 413 with both)."""

    def __init__(self, message: str, *, limit: str, max: int):
        super().__init__(message)
        self.limit, self.max = limit, max


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
