"""The lab page (``GET /lab``): its HTML as rendered, its script, and in a real headless browser.

The browser test drives Debian's chromium with playwright (``make setup-browser``: ``apt-get install
chromium``, ``pip install playwright``; no browser download) and is marked slow: ``make test-all`` runs
it. It starts ``scratchlm lab`` on two runs (``SCRATCHLM_LAB_RUNS``: two run directories separated by a
space; by default two tiny random-weight runs, sinusoidal positions and RoPE), types a text, waits for
each panel and checks what it shows against the JSON API. With ``SCRATCHLM_SCREENSHOTS=DIR`` it keeps
its screenshots in DIR; docs/input_layer.md shows the ones made with::

    SCRATCHLM_LAB_RUNS="runs/demo-zh-sentiment runs/lab-random-init" SCRATCHLM_SCREENSHOTS=docs/images \\
        .venv/bin/python -m pytest -m slow tests/serve/test_lab_page.py
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from lab_helpers import write_lab_runs
from scratchlm.serve.lab_page import asset, render_lab_page

TEXT = "ＷＩＦＩ信号很好，价格１２０元。"


def test_the_config_cannot_close_the_script_element():
    page = render_lab_page([{"name": "</script><b>x"}], needs_key=False)
    config = re.search(r"window\.LAB = (.*?);</script>", page).group(1)
    assert "</script><b>" not in config and json.loads(config)["runs"][0]["name"] == "</script><b>x"
    assert "&lt;/script&gt;&lt;b&gt;x" in page.split("</title>")[0]


def test_the_root_path_prefixes_every_url():
    page = render_lab_page([{"name": "r"}], needs_key=True, root="/tools")
    assert 'href="/tools/lab/static/lab.css"' in page and 'src="/tools/lab/static/lab.js"' in page
    assert json.loads(re.search(r"window\.LAB = (.*?);</script>", page).group(1))["needsKey"] is True


def test_lab_script_parses(tmp_path):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    (tmp_path / "lab.js").write_text(asset("lab.js"), encoding="utf-8")
    proc = subprocess.run([node, "--check", str(tmp_path / "lab.js")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# --------------------------------------------------------------------------------------- in a browser
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"]


@pytest.fixture
def lab_server(tmp_path):
    """``(url, run names)`` of ``scratchlm lab`` on two runs, stopped at the end."""
    given = os.environ.get("SCRATCHLM_LAB_RUNS", "").split()
    if given:
        paths = [Path(p) for p in given]
    else:
        runs = write_lab_runs(tmp_path / "runs")
        paths = [runs["sinusoidal"], runs["rope"]]
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scratchlm",
            "lab",
            *map(str, paths),
            "--port",
            str(port),
            "--max-chars",
            "60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, f"scratchlm lab exited: {proc.stdout.read()}"
            assert time.monotonic() < deadline, "scratchlm lab did not answer within 90 s"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url, [p.name for p in paths]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def browser(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium, or make setup-browser)")
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="playwright is not installed (pip install playwright, or make setup-browser)",
    )
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=FLAGS,
            viewport={"width": 1400, "height": 900},
        )
        context.set_default_timeout(60_000)
        page = context.pages[0] if context.pages else context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            yield page, errors
        finally:
            context.close()


def _keep(page, tmp_path: Path, name: str, *selectors: str) -> None:
    """A screenshot of the region holding ``selectors`` (the whole page when none), kept in
    ``SCRATCHLM_SCREENSHOTS`` when set."""
    path = tmp_path / f"{name}.png"
    if selectors:  # page coordinates of the region, whatever the scroll
        boxes = [
            page.locator(s).evaluate(
                "e => { const b = e.getBoundingClientRect(); return [b.top + scrollY, b.bottom + scrollY]; }"
            )
            for s in selectors
        ]
        top, bottom = max(0, min(b[0] for b in boxes) - 12), max(b[1] for b in boxes) + 12
        page.screenshot(
            path=str(path), full_page=True, clip={"x": 0, "y": top, "width": 1400, "height": bottom - top}
        )
    else:
        page.screenshot(path=str(path), full_page=True)
    keep = os.environ.get("SCRATCHLM_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / path.name)


def _api(url: str, path: str, body: dict) -> dict:
    r = httpx.post(f"{url}/lab/api/{path}", json=body, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


def _check_panels(page, reports: dict[str, dict]) -> None:
    """Each panel shows, for each run, what the API answered."""
    for name, rep in reports.items():
        cell = f'[data-run="{name}"]'
        shown = page.locator(f"#panel-normalization {cell} [data-role=normalized]").inner_text()
        assert shown.endswith(rep["normalization"]["normalized"])
        assert page.locator(f"#panel-normalization {cell} mark.changed").count() == len(
            rep["normalization"]["changes"]
        )
        for tok in rep["tokenizations"]:
            row = page.locator(f'#panel-tokens {cell} .tokrow[data-kind="{tok["kind"]}"]')
            assert row.locator(".chip").count() == len(tok["tokens"])
            assert row.locator(".chip.unk").count() == tok["unk"]
        pos = rep["positions"]
        chips = page.locator(f"#panel-positions {cell} .chip.pos")
        assert chips.count() == len(pos["ids"])
        assert [c.locator(".i").inner_text() for c in chips.all()] == [
            "UNK" if unk else str(i) for i, unk in zip(pos["ids"], pos["unk"], strict=True)
        ]
        parts = page.locator(f"#panel-input {cell} .part")
        assert parts.count() == len(rep["input"]["parts"])
        widths = parts.locator("canvas").evaluate_all("cs => cs.map(c => [c.width, c.height])")
        assert widths == [[len(p["rows"][0]), len(p["rows"])] for p in rep["input"]["parts"]]
        layers = rep["attention"].get("layers")
        heads = page.locator(f"#panel-attention {cell} .heads figure")
        assert heads.count() == (sum(len(layer) for layer in layers) if layers else 0)
        if rep["prediction"]["kind"] == "label":
            label = page.locator(f"#panel-prediction {cell} .pred-label").get_attribute("data-label")
            assert label == rep["prediction"]["label"]
            assert page.locator(f"#panel-prediction {cell} .prob").count() == len(
                rep["prediction"]["probabilities"]
            )


@pytest.mark.slow
def test_type_a_text_and_see_every_panel(lab_server, browser, tmp_path):
    url, names = lab_server
    page, errors = browser
    page.goto(url + "/lab")
    assert all(n in page.title() for n in names)
    page.fill("#text", TEXT)
    page.click("#show")
    for panel in (
        "normalization",
        "tokens",
        "positions",
        "input",
        "attention",
        "pooled",
        "prediction",
        "neighbours",
    ):
        page.locator(f"#panel-{panel}[data-ready=true]").wait_for()
    reports = {n: _api(url, "inspect", {"run": n, "text": TEXT}) for n in names}
    _check_panels(page, reports)
    _keep(page, tmp_path, "lab_text_tokens", ".top", "#panel-positions")

    # a second text, then a click on a token: its neighbours in every run that reads it there
    page.fill("#text", "信号很差，价格太贵。")
    page.press("#text", "Control+Enter")
    page.wait_for_function(
        "document.querySelector('#panel-normalization [data-role=normalized]').textContent.includes('信号很差')"
    )
    position = 2  # [CLS] 信 号: the character 号
    page.locator(f'#panel-positions [data-run="{names[0]}"] .chip.pos[data-position="{position}"]').click()
    page.locator(f"#panel-neighbours[data-position='{position}']").wait_for()
    for name in names:
        want = _api(
            url,
            "neighbours",
            {"run": name, "text": "信号很差，价格太贵。", "position": position, "texts": [TEXT]},
        )
        cell = f'#panel-neighbours [data-run="{name}"]'
        got = page.locator(f"{cell} [data-role=static] .prob").evaluate_all(
            "rs => rs.map(r => r.dataset.token)"
        )
        assert got == [n["token"] for n in want["static"]]
        got = page.locator(f"{cell} [data-role=contextual] .prob").evaluate_all(
            "rs => rs.map(r => [r.dataset.token, +r.dataset.text])"
        )
        assert got == [[n["token"], n["text"]] for n in want["contextual"]]
    assert page.locator(".chip.selected").count() >= 1
    assert not errors, errors

    _keep(page, tmp_path, "lab_input_layer", "#panel-input")
    _keep(page, tmp_path, "lab_attention_prediction", "#panel-attention", "#panel-prediction")
    _keep(page, tmp_path, "lab_neighbours", "#panel-neighbours")

    # an error from the API is shown as its message, and the page keeps working
    page.fill("#text", "长" * 61)
    page.click("#show")
    page.locator("#error:not([hidden])").wait_for()
    assert "max_chars" in page.locator("#error").inner_text()
    page.fill("#text", "还行")
    page.click("#show")
    page.locator("#error[hidden]").wait_for(state="attached")
    page.wait_for_function(
        "document.querySelector('#panel-normalization [data-role=normalized]').textContent.includes('还行')"
    )
    assert not errors, errors
