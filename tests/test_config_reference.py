"""docs/configuration.md lists every config key with its current type, default and docstring."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_configuration_page_is_up_to_date():
    sys.path.insert(0, str(ROOT / "scripts"))
    import config_reference

    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert config_reference.update(page) == page, "run: python scripts/config_reference.py"
