"""``scratchlm serve``: argument errors, and one real server on a loopback port."""

from __future__ import annotations

import socket

import pytest

from scratchlm.cli import main

pytest.importorskip("fastapi", reason="scratchlm serve needs pip install 'scratchlm[serve]'")
httpx = pytest.importorskip("httpx")


def test_real_server_answers_and_stops(run_dir, start_server):
    proc, url = start_server(run_dir, "--api-key", "k", "--max-batch", "4")
    try:
        r = httpx.post(
            f"{url}/v1/classify", json={"texts": ["很好", "很差"]}, headers={"X-API-Key": "k"}, timeout=10
        )
        assert r.status_code == 200 and len(r.json()["results"]) == 2
        assert httpx.post(f"{url}/v1/classify", json={"texts": ["很好"]}, timeout=10).status_code == 401
        assert (
            httpx.post(
                f"{url}/v1/classify", content=b"\xff", headers={"X-API-Key": "k"}, timeout=10
            ).status_code
            == 400
        )
        assert httpx.get(f"{url}/", timeout=10).status_code == 200
        # the default --allowed-hosts: the bound address and localhost, not any name (DNS rebinding)
        other = httpx.get(f"{url}/healthz", headers={"host": "rebound.example"}, timeout=10)
        assert other.status_code == 400 and other.json()["error"]["code"] == "invalid_host"
        local = httpx.get(url.replace("127.0.0.1", "localhost") + "/healthz", timeout=10)
        assert local.status_code == 200
    finally:
        out = proc.stop()
    assert f"serving {run_dir}" in out and "API key required" in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--max-batch", "0"], "--max-batch 0"),
        (["--port", "70000"], "--port 70000"),
        (["--max-wait-ms", "-1"], "--max-wait-ms"),
        (["--api-key", " "], "--api-key is empty"),
        (["--max-texts", "0"], "--max-texts 0"),
        (["--max-texts", "100", "--max-queue", "10"], "--max-texts 100 is more than --max-queue 10"),
        (["--timeout", "0"], "--timeout 0"),
        (["--timeout", "nan"], "--timeout nan"),
        (["--max-concurrency", "0"], "--max-concurrency 0"),
        (["--allowed-hosts", " , "], "--allowed-hosts is empty"),
    ],
)
def test_bad_options_exit_2_with_one_line(run_dir, capsys, argv, words):
    assert main(["serve", str(run_dir), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and words in err and "\n" not in err


def test_not_a_run(tmp_path, capsys):
    assert main(["serve", str(tmp_path / "nothing")]) == 2
    assert "no such run directory" in capsys.readouterr().err


def test_port_in_use(run_dir, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", str(run_dir), "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    for option in (
        "--host",
        "--port",
        "--max-batch",
        "--max-wait-ms",
        "--api-key",
        "--max-texts",
        "--max-chars",
        "--max-body-bytes",
        "--timeout",
        "--max-concurrency",
        "--max-connections",
        "--allowed-hosts",
    ):
        assert option in out
