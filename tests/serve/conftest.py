"""A tiny random-weight run (written in well under a second) that the serving tests share."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scratchlm.serve.synthetic import write_tiny_run
from scratchlm.training.run_dir import load_run

try:  # the HTTP tests need the serve extra; the engine and predict tests do not
    import fastapi  # noqa: F401
    import httpx
except ImportError:
    collect_ignore = [
        "test_app.py",
        "test_routes.py",
        "test_requests.py",
        "test_page.py",
        "test_serve_cli.py",
    ]


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory) -> Path:
    return write_tiny_run(tmp_path_factory.mktemp("serve-run"))


@pytest.fixture(scope="session")
def run(run_dir):
    return load_run(run_dir)


@pytest.fixture(scope="module")
def client(run):
    """The classifier's app through FastAPI's TestClient, with small limits: 4 texts, 200 characters,
    4096 bytes."""
    from fastapi.testclient import TestClient

    from scratchlm.serve.app import ServeSettings, create_app

    app = create_app(run, ServeSettings(max_texts=4, max_chars=200, max_body_bytes=4096))
    with TestClient(app) as c:
        yield c


def _error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    err = response.json()["error"]
    assert err["code"] and err["message"] and "\n" not in err["message"]
    return err


@pytest.fixture
def error_of():
    """``error_of(response, status) -> the error object``, after checking the status, that the body is
    JSON and that the message is one line."""
    return _error_of


class ServerProcess(subprocess.Popen):
    def stop(self) -> str:
        """Stop the server (SIGTERM, then SIGKILL after 15 s); returns what it printed."""
        self.terminate()
        try:
            out, _ = self.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()
            out, _ = self.communicate()
        return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def start_server():
    """``start_server(run_dir, *args) -> (process, url)``: ``scratchlm serve`` on a free loopback port,
    returned once /healthz answers; every server still running at the end of the test is stopped."""
    started: list[ServerProcess] = []

    def start(run_dir: Path, *args: str) -> tuple[ServerProcess, str]:
        port = free_port()
        proc = ServerProcess(
            [
                sys.executable,
                "-m",
                "scratchlm",
                "serve",
                str(run_dir),
                "--port",
                str(port),
                "--log-level",
                "warning",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"the server exited with {proc.returncode}: {proc.stdout.read()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return proc, url
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("the server did not answer /healthz within 60 s")

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.stop()
