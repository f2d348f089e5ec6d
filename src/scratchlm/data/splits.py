"""The fixed split rule every built-in dataset uses (../shared/DATA.md), so numbers compare everywhere.

``h = int(sha1(key.encode("utf-8")).hexdigest(), 16) % 10``; ``h == 0`` -> test, ``h == 1`` -> dev,
otherwise train.
"""

from __future__ import annotations

import hashlib

SPLITS = ("train", "dev", "test")


def split_of(key: str | bytes) -> str:
    """``key``: a text (hashed as UTF-8) or raw bytes (an image's pixels)."""
    h = int(hashlib.sha1(key if isinstance(key, bytes) else key.encode("utf-8")).hexdigest(), 16) % 10
    return "test" if h == 0 else "dev" if h == 1 else "train"
