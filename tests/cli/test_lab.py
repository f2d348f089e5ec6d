"""``scratchlm lab``: argument errors, and one real lab on a loopback port printing its URL."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from cli_helpers import cli, cli_env
from lab_helpers import write_lab_runs

pytest.importorskip("fastapi", reason="scratchlm lab needs pip install 'scratchlm[serve]'")
httpx = pytest.importorskip("httpx")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return write_lab_runs(tmp_path_factory.mktemp("lab-cli"))


def test_the_lab_prints_its_url_and_serves_two_runs(runs):
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scratchlm",
            "lab",
            str(runs["sinusoidal"]),
            str(runs["tagger"]),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=cli_env(),
    )
    try:
        line = proc.stdout.readline()
        url = f"http://127.0.0.1:{port}/lab"
        assert line.strip().endswith(f"open {url}"), line
        deadline = time.monotonic() + 60
        while True:
            try:
                page = httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and proc.poll() is None, "the lab did not answer"
                time.sleep(0.2)
        assert page.status_code == 200 and '"name": "tagger"' in page.text
        r = httpx.post(url + "/api/inspect", json={"run": "tagger", "text": "很好"}, timeout=30)
        assert r.json()["prediction"]["kind"] == "tags"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--port", "0"], "--port 0"),
        (["--max-chars", "0"], "--max-chars 0"),
        (["--threads", "0"], "--threads 0"),
    ],
)
def test_bad_options_are_one_line_errors(capsys, runs, argv, words):
    status, _, err = cli(capsys, "lab", str(runs["rope"]), *argv)
    assert status == 2 and words in err and len(err.strip().splitlines()) == 1


def test_no_run_and_no_demo_run_says_what_to_do(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, _, err = cli(capsys, "lab")
    assert status == 2 and "make demo" in err
    status, _, err = cli(capsys, "lab", str(tmp_path / "missing"))
    assert status == 2 and "no such run directory" in err
