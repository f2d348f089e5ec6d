"""Admission control (serve/guard.py): the Host check, the concurrency limit, the per-request deadline
(408 / 503 / 504 with Retry-After) and cancellation of the work of a client that hung up."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from scratchlm.serve import engine
from scratchlm.serve.app import ServeSettings, create_app
from scratchlm.serve.guard import default_allowed_hosts, host_of


@pytest.mark.parametrize(
    ("header", "host"),
    [("localhost:8000", "localhost"), ("[::1]:8000", "::1"), ("EXAMPLE.com", "example.com"), ("::1", "::1")],
)
def test_host_of(header, host):
    assert host_of(header) == host


def test_default_allowed_hosts():
    assert default_allowed_hosts("127.0.0.1") == ["127.0.0.1", "localhost", "::1"]
    assert default_allowed_hosts("10.0.0.5") == ["10.0.0.5", "localhost", "127.0.0.1", "::1"]
    assert default_allowed_hosts("0.0.0.0") is None  # every interface: clients use names it cannot know


def test_other_hosts_are_refused(run, error_of):
    """DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1 sends its own Host."""
    app = create_app(run, ServeSettings(allowed_hosts=["127.0.0.1", "localhost"]))
    with TestClient(app, base_url="http://localhost:8000") as c:
        assert c.post("/v1/classify", json={"texts": ["好"]}).status_code == 200
        r = c.post("/v1/classify", json={"texts": ["好"]}, headers={"host": "evil.example:8000"})
        assert "evil.example" in error_of(r, 400)["message"]
        assert error_of(c.get("/healthz", headers={"host": "evil.example"}), 400)["code"] == "invalid_host"


def _slow(monkeypatch, seconds: float) -> threading.Event:
    """classify_batch takes ``seconds``; the event is set when a batch starts."""
    started = threading.Event()
    real = engine.classify_batch

    def slow(*args):
        started.set()
        time.sleep(seconds)
        return real(*args)

    monkeypatch.setattr(engine, "classify_batch", slow)
    return started


async def _posts(app, bodies: list[dict], gap: float = 0.05) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=30) as c:
        tasks = []
        for body in bodies:
            tasks.append(asyncio.ensure_future(c.post("/v1/classify", json=body)))
            await asyncio.sleep(gap)
        return list(await asyncio.gather(*tasks))


def test_concurrency_limit_refuses_before_the_body(run, monkeypatch, error_of):
    _slow(monkeypatch, 0.5)
    app = create_app(run, ServeSettings(max_concurrency=1, max_wait_ms=0))
    first, second = asyncio.run(_posts(app, [{"texts": ["好"]}, {"texts": ["坏"]}]))
    assert first.status_code == 200
    err = error_of(second, 503)
    assert "max_concurrency=1" in err["message"] and second.headers["retry-after"] == "1"


def test_deadline_503_while_queued_504_while_running(run, monkeypatch, error_of):
    _slow(monkeypatch, 1.0)
    app = create_app(run, ServeSettings(timeout=0.4, max_batch=1, max_wait_ms=0))
    running, queued = asyncio.run(_posts(app, [{"texts": ["好"]}, {"texts": ["坏"]}]))
    assert error_of(running, 504)["code"] == "timeout" and running.headers["retry-after"] == "1"
    assert error_of(queued, 503)["code"] == "busy" and "--timeout" in queued.json()["error"]["message"]
    assert app.state.batchers["classify"].waiting == 0  # the timed-out texts left the queue


def test_slow_sender_gets_408(run, error_of):
    app = create_app(run, ServeSettings(timeout=0.3))

    async def trickle():
        yield b'{"texts": '
        await asyncio.sleep(1.0)
        yield b'["x"]}'

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await c.post("/v1/classify", content=trickle(), headers={"content-length": "16"})

    r = asyncio.run(main())
    assert "did not arrive within 0.3 s" in error_of(r, 408)["message"]


def test_work_of_a_client_that_hung_up_is_cancelled(run, monkeypatch):
    """A client disconnects while its texts wait behind a running batch: they never reach the model."""
    started = _slow(monkeypatch, 0.6)
    seen: list[str] = []
    real = engine.classify_batch

    def record(run_, max_padding, texts):
        seen.extend(texts)
        return real(run_, max_padding, texts)

    monkeypatch.setattr(engine, "classify_batch", record)
    app = create_app(run, ServeSettings(max_batch=1, max_wait_ms=0))

    async def call(text: str, hang_up_after: float | None) -> list[dict]:
        body = json.dumps({"texts": [text]}).encode()
        sent: list[dict] = []
        delivered = False

        async def receive():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            if hang_up_after is None:
                await asyncio.Event().wait()
            await asyncio.sleep(hang_up_after)
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": "/v1/classify", "raw_path": b"/v1/classify", "query_string": b"",
            "headers": [(b"host", b"test"), (b"content-type", b"application/json")],
            "client": ("127.0.0.1", 1), "server": ("test", 80), "root_path": "", "state": {},
        }  # fmt: skip
        await app(scope, receive, send)
        return sent

    async def main():
        first = asyncio.ensure_future(call("第一", hang_up_after=5))
        while not started.is_set():
            await asyncio.sleep(0.01)
        gone = await call("走了", hang_up_after=0.1)
        await first
        return gone

    gone = asyncio.run(main())
    assert gone[0]["status"] == 499
    assert "走了" not in seen and app.state.batchers["classify"].waiting == 0
