"""Every ```bash block in README.md and docs/*.md runs as written, from the repository root.

The blocks of one page run in order in one shell (``set -euo pipefail``), with the project's venv
first on PATH, so a page can create a run in one block and evaluate it in the next. Long commands
live in ```text blocks, which are not run.

A translated page runs the same commands as its original: README.zh.md's blocks must equal
README.md's, which run once (the page trained the same two runs again, about 145 s).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([*ROOT.glob("docs/*.md"), ROOT / "README.md", ROOT / "README.zh.md"])
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)
TRANSLATIONS = {
    ROOT / "README.zh.md": ROOT / "README.md",
    ROOT / "docs" / "articles.zh.md": ROOT / "docs" / "articles.md",
}
"""translation -> original: the same commands, run once, with the original."""


def bash_blocks(page: Path) -> list[str]:
    return BLOCK.findall(page.read_text(encoding="utf-8")) if page.exists() else []


@pytest.mark.parametrize("page", list(TRANSLATIONS), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_translation_runs_the_commands_of_its_original(page: Path) -> None:
    original = TRANSLATIONS[page]
    assert bash_blocks(page) == bash_blocks(original), (
        f"{page.name}: its ```bash blocks differ from {original.name}'s; keep the commands the same "
        f"(only {original.name}'s are run)"
    )


@pytest.mark.parametrize(
    "page",
    [p for p in PAGES if bash_blocks(p) and p not in TRANSLATIONS],
    ids=lambda p: p.relative_to(ROOT).as_posix(),
)
def test_page_commands_run(page: Path, tmp_path: Path) -> None:
    script = "set -euo pipefail\n" + "\n".join(bash_blocks(page))
    runs = ROOT / "runs"
    before = set(runs.iterdir()) if runs.exists() else set()
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        CI="1",
        OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "2"),
    )
    try:
        proc = subprocess.run(
            ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == 0, (
            f"{page.name}: a documented command failed (exit {proc.returncode})\n"
            f"--- stdout (tail)\n{proc.stdout[-3000:]}\n--- stderr (tail)\n{proc.stderr[-3000:]}"
        )
    finally:
        # leave runs/ as it was: only what the page created, and names, is removed (another process, such
        # as `make demo`, may be writing its own run there meanwhile)
        if runs.exists():
            for p in set(runs.iterdir()) - before:
                if f"runs/{p.name}" in script:
                    shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
