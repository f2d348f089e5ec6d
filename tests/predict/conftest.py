"""Tiny random-weight runs (written in well under a second) that the prediction tests share."""

from __future__ import annotations

import pytest

from scratchlm.serve.synthetic import write_tiny_run, write_tiny_tagger_run
from scratchlm.training.run_dir import load_run


@pytest.fixture(scope="session")
def run(tmp_path_factory):
    """A classifier (Transformer encoder; its dropout, 0.1 by default, would change the outputs in train mode)."""
    return load_run(write_tiny_run(tmp_path_factory.mktemp("predict-run")))


@pytest.fixture(scope="session")
def tagger(tmp_path_factory):
    """A word segmenter with a CRF (BMES tags)."""
    return load_run(write_tiny_tagger_run(tmp_path_factory.mktemp("predict-tagger"), head="crf"))
