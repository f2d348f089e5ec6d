"""docs/configuration.md lists every config key (nested sections included) with its current type,
default and docstring: regenerate it with ``python scripts/config_reference.py``."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_page_is_up_to_date():
    sys.path.insert(0, str(ROOT / "scripts"))
    import config_reference

    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert config_reference.update(page) == page, "run: python scripts/config_reference.py"


def test_every_nested_section_has_its_table():
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for title in (
        "### `model.encoder` (EncoderConfig)",
        "### `model.positional` (PositionalConfig)",
        "### `model.decoder` (DecoderConfig)",
        "### `model.generation` (GenerationConfig)",
    ):
        assert title in page
