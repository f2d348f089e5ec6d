"""What every task shares (tasks/base.py): the checks a task runs when it is made."""

from __future__ import annotations

import pytest

from cli_helpers import ROOT
from scratchlm.config import load_config
from scratchlm.errors import ConfigError
from scratchlm.tasks.registry import make_task


def test_packing_needs_a_pretraining_task():
    with pytest.raises(ConfigError, match="data.packing"):
        make_task(load_config(ROOT / "configs" / "tiny_test.yaml", ["data.packing=true"]))
