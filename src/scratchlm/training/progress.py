"""Progress bars and logging set-up shared by the commands."""

from __future__ import annotations

import logging
import os
import sys


def progress_enabled(requested: bool) -> bool:
    """Bars only where a person watches: a terminal, and not in CI."""
    return requested and sys.stderr.isatty() and not os.environ.get("CI")


def progress(
    iterable=None, *, total: int | None = None, desc: str = "", enabled: bool = True, unit: str = "it"
):
    from tqdm.auto import tqdm

    return tqdm(
        iterable,
        total=total,
        desc=desc,
        disable=not progress_enabled(enabled),
        unit=unit,
        dynamic_ncols=True,
        leave=False,
    )


def setup_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
