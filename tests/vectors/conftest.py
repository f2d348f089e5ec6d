"""The vectors fixtures (``small``, ``write``): tests/vectors_helpers.py."""

from vectors_helpers import small, write  # noqa: F401
