"""The try-it page (``GET /``): its HTML and script as rendered, and in a real headless browser.

The browser tests drive Debian's chromium with playwright; they need ``apt-get install chromium`` and
``pip install playwright`` (no browser download: they run the system's /usr/bin/chromium). Marked
slow: ``make test-all`` runs them, ``make test`` does not.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from scratchlm.serve.page import render_page


def test_names_and_labels_are_escaped():
    page = render_page("<b>run</b>", ["<i>", "ok"], needs_key=True)
    assert "<b>run</b>" not in page and "&lt;b&gt;run&lt;/b&gt;" in page and 'id="key"' in page
    assert 'id="key"' not in render_page("run", ["a", "b"], needs_key=False)


@pytest.mark.parametrize("endpoint", ["classify", "tag", "generate"])
def test_page_script_parses(endpoint, tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    page = render_page("run", ["B", "M", "E", "S"], needs_key=True, endpoint=endpoint)
    script = re.search(r"<script>(.*)</script>", page, re.S).group(1)
    (tmp_path / "page.js").write_text(script, encoding="utf-8")
    proc = subprocess.run([node, "--check", str(tmp_path / "page.js")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# --------------------------------------------------------------------------------------- in a browser
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        context.set_default_timeout(20_000)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def _screenshot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get("SCRATCHLM_SCREENSHOTS")  # a folder to keep them in, to look at by eye
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


@pytest.mark.slow
def test_type_a_text_and_see_the_prediction(run_dir, run, start_server, browser_page, tmp_path):
    proc, url = start_server(run_dir, "--max-chars", "60")
    page = browser_page
    page.goto(url + "/")
    assert run.path.name in page.title()
    text = "这本书写得太好了，强烈推荐！"
    page.fill("#text", text)
    page.click("#classify")
    result = page.locator(".result").first
    result.wait_for()
    label = result.get_attribute("data-label")
    assert label in run.labels
    probs = {
        row.get_attribute("data-label"): float(row.locator(".p").inner_text())
        for row in result.locator(".prob").all()
    }
    assert set(probs) == set(run.labels) and abs(sum(probs.values()) - 1) < 1e-3
    api = httpx.post(f"{url}/v1/classify", json={"texts": [text]}, timeout=10).json()["results"][0]
    assert label == api["label"]
    assert probs == pytest.approx(api["probabilities"], abs=1e-4)
    _screenshot(page, tmp_path, "page-result")

    # several texts, one per line, submitted with Ctrl+Enter
    page.check("#per-line")
    page.fill("#text", "很好\n\n很差\n一般")
    page.press("#text", "Control+Enter")
    page.wait_for_function("document.querySelectorAll('.result').length === 3")

    # an API error is shown as its message, and the page keeps working
    page.uncheck("#per-line")
    page.fill("#text", "长" * 61)
    page.click("#classify")
    page.locator("#error").wait_for()
    assert "max_chars" in page.locator("#error").inner_text()
    _screenshot(page, tmp_path, "page-error")
    page.fill("#text", "还行")
    page.click("#classify")
    page.locator(".result").first.wait_for()


@pytest.mark.slow
def test_page_with_an_api_key(run_dir, start_server, browser_page):
    proc, url = start_server(run_dir, "--api-key", "letmein")
    page = browser_page
    page.goto(url + "/")
    page.fill("#text", "很好")
    page.fill("#key", "wrong")
    page.click("#classify")
    page.locator("#error").wait_for()
    assert "API key" in page.locator("#error").inner_text()
    page.fill("#key", "letmein")
    page.click("#classify")
    page.locator(".result").first.wait_for()
