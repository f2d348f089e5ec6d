"""The lab's tiny runs (tests/lab_helpers.py), written once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab_helpers import write_lab_runs
from scratchlm.training.run_dir import load_run


@pytest.fixture(scope="session")
def lab_runs(tmp_path_factory) -> dict[str, Path]:
    return write_lab_runs(tmp_path_factory.mktemp("lab-runs"))


@pytest.fixture(scope="session")
def loaded(lab_runs):
    """name -> LoadedRun."""
    return {name: load_run(path) for name, path in lab_runs.items()}
