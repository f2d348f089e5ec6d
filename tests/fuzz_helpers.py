"""What the fuzz tests share (importable as ``fuzz_helpers``): how many cases each runs, and damage done to
files.

Every fuzzer runs ``SCRATCHLM_FUZZ_EXAMPLES`` cases: 100 by default (``make test``), 1,000 in ``make
test-all``, which sets the variable. No example database: each run draws new cases (a failure prints the
case and the seed to replay it with ``--hypothesis-seed``).
"""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("SCRATCHLM_FUZZ_EXAMPLES", "100"))


def fuzz(examples: int | None = None) -> settings:
    """Hypothesis settings of a fuzz test: ``EXAMPLES`` cases, no deadline (2 shared cores), no database."""
    return settings(
        max_examples=examples or EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


@st.composite
def damage(draw, data: bytes) -> bytes:
    """``data`` as a disk, a crash or a hand edit leaves it: cut short, bytes overwritten, bytes inserted,
    emptied, or replaced by other bytes."""
    kind = draw(st.sampled_from(["cut", "flip", "insert", "empty", "replace"]))
    if kind == "cut":
        return data[: draw(st.integers(0, max(0, len(data) - 1)))]
    if kind == "empty":
        return b""
    if kind == "replace":
        return draw(st.binary(max_size=200))
    at = draw(st.integers(0, max(0, len(data) - 1)))
    junk = draw(st.binary(min_size=1, max_size=16))
    if kind == "flip":
        return data[:at] + junk + data[at + len(junk) :]
    return data[:at] + junk + data[at:]


def damage_file(draw, path: Path) -> str:
    """Damage ``path`` in place (one of :func:`damage`'s ways); returns what was done, for the message."""
    before = path.read_bytes()
    after = draw(damage(before))
    path.write_bytes(after)
    return f"{path.name}: {len(before)} -> {len(after)} bytes"
