"""Tests mirror ``src/scratchlm`` one file to one file: ``tests/<pkg>/test_<name>.py`` tests
``src/scratchlm/<pkg>/<name>.py``. A test file whose source is gone (renamed, merged, deleted) is a stale
mirror and fails here; so does a module class in ``modules/`` that its test file never runs through the
shared harness (tests/harness.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "scratchlm"
TESTS = ROOT / "tests"

# The packages whose tests are mirrored so far; add a package here once its tests are.
MIRRORED = (
    "modules",
    "tokenizers",
    "data",
    "models",
    "viz",
    "vectors",
    "transplant",
    "config",
    "training",
    "tasks",
    "cli",
    "predict",
    "serve",
    "export",
    "experiments",
)

# Test files that still have no source of their name, each with the reason and who removes it. An entry
# whose file is gone fails too: delete the entry.
PENDING: dict[str, str] = {}


def _test_files(package: str) -> list[Path]:
    return sorted((TESTS / package).glob("test_*.py"))


@pytest.mark.parametrize("package", MIRRORED)
def test_every_test_file_has_a_source_file_of_its_name(package):
    assert (SRC / package).is_dir(), f"src/scratchlm/{package}/ does not exist"
    stale = [
        f"tests/{package}/{path.name}"
        for path in _test_files(package)
        if not (SRC / package / f"{path.name.removeprefix('test_')}").is_file()
        and f"{package}/{path.name}" not in PENDING
    ]
    assert not stale, (
        f"test files with no source file of that name under src/scratchlm/{package}/: {', '.join(stale)} "
        "(move their tests into the file of the module they test)"
    )


def test_pending_entries_still_exist():
    gone = [name for name in PENDING if not (TESTS / name).is_file()]
    assert not gone, f"delete these entries from PENDING in tests/test_layout.py: {', '.join(gone)}"


def _module_classes(path: Path) -> list[str]:
    """Classes defined in a modules/ source file that subclass nn.Module (directly or via one there)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    found: list[str] = []
    for name, node in classes.items():
        bases = {ast.unparse(base) for base in node.bases}
        if bases & {"nn.Module", "torch.nn.Module", "Module"} or bases & set(found):
            found.append(name)
    return found


@pytest.mark.parametrize(
    "source", sorted(p.name for p in (SRC / "modules").glob("*.py") if p.name != "__init__.py")
)
def test_every_module_class_goes_through_the_harness(source):
    classes = _module_classes(SRC / "modules" / source)
    if not classes:
        return  # functions only (decoding, fused_input)
    test_file = TESTS / "modules" / f"test_{source}"
    assert test_file.is_file(), (
        f"{source} defines {', '.join(classes)} but tests/modules/test_{source} is missing"
    )
    text = test_file.read_text(encoding="utf-8")
    assert "run_module_test(" in text, f"tests/modules/test_{source} does not use the module harness"
    missing = [name for name in classes if name not in text]
    assert not missing, f"tests/modules/test_{source} never builds {', '.join(missing)} (for run_module_test)"


def test_module_classes_are_found():
    # the check above cannot pass by finding nothing: the classes of a known file
    assert _module_classes(SRC / "modules" / "rnn.py") == [
        "RecurrentEncoder",
        "LSTMEncoder",
        "GRUEncoder",
        "RNNEncoder",
    ]
