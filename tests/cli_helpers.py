"""Helpers shared by tests: the CLI as a user runs it, in a subprocess or in this process (importable as
``cli_helpers``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "configs" / "tiny_test.yaml"


def cli_env() -> dict[str, str]:
    return dict(os.environ, CI="1", OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")


def run_cli(
    *args: str, input: str | None = None, cwd: Path = ROOT, timeout: int = 600
) -> subprocess.CompletedProcess:
    """``python -m scratchlm ARGS`` as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "scratchlm", *args],
        cwd=cwd,
        env=cli_env(),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """``scratchlm ARGS`` in this process (saves a torch import per command): (exit status, stdout,
    stderr), read from pytest's ``capsys``."""
    from scratchlm.cli import main

    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err
