"""``POST /v1/generate`` on a tiny random causal LM: whole answers equal the task's own generation,
streamed server-sent events add up to them, concurrent requests are batched, bad options are 422 and
lengths past the model's positions 413."""

from __future__ import annotations

import asyncio
import json

import pytest

from generation_helpers import write_tiny_clm_run
from scratchlm.predict.sampling import GenerationOptions
from scratchlm.training.run_dir import load_run

pytest.importorskip("fastapi")


@pytest.fixture(scope="module")
def clm(tmp_path_factory):
    return load_run(write_tiny_clm_run(tmp_path_factory.mktemp("clm-serve")))


@pytest.fixture(scope="module")
def app(clm):
    from scratchlm.serve.app import ServeSettings, create_app

    return create_app(clm, ServeSettings(max_wait_ms=50))


@pytest.fixture(scope="module")
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


def _events(text: str) -> list:
    assert text.endswith("data: [DONE]\n\n")
    blocks = [b for b in text.split("\n\n") if b]
    return [json.loads(b.removeprefix("data: ")) for b in blocks[:-1]]


def test_generate_equals_the_task_and_the_stream_adds_up(clm, client):
    body = {"texts": ["这本书", "质量"], "max_new_tokens": 6, "temperature": 0.9, "top_k": 8, "seed": 5}
    r = client.post("/v1/generate", json=body)
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    options = GenerationOptions(max_new_tokens=6, temperature=0.9, top_k=8, seed=5)
    expected = clm.handler().generate(clm, body["texts"], options)
    assert results == expected
    r = client.post("/v1/generate", json={**body, "stream": True})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = _events(r.text)
    for i, result in enumerate(results):
        mine = [e["choices"][0] for e in events if e["choices"][0]["index"] == i]
        assert "".join(c["text"] for c in mine) == result["text"]
        assert [c["finish_reason"] for c in mine][-1] == result["finish_reason"]
        assert all(c["finish_reason"] is None for c in mine[:-1])


def test_concurrent_requests_are_batched(app, clm):
    import httpx

    async def main() -> list:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            before = app.state.batchers["generate"].batches
            bodies = [{"texts": [t], "max_new_tokens": 4} for t in ("这", "书写", "质量很")]
            answers = await asyncio.gather(*(c.post("/v1/generate", json=b) for b in bodies))
            return [a.json()["results"][0] for a in answers], app.state.batchers["generate"].batches - before

    results, batches = asyncio.run(main())
    assert batches < 3  # at least two of the three requests ran as one batch
    alone = [
        clm.handler().generate(clm, [t], GenerationOptions(max_new_tokens=4))[0]
        for t in ("这", "书写", "质量很")
    ]
    assert results == alone  # and batching changed nothing


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        ({"texts": ["这"], "top_p": 2}, 422, "top_p"),
        ({"texts": ["这"], "stop": [""]}, 422, "stop strings"),
        ({"texts": ["这"], "beam_size": 2}, 422, "beam_size"),
        ({"texts": ["这"], "max_new_tokens": 30}, 413, "positions"),
        ({"texts": ["这" * 30]}, 413, "positions"),
        ({"texts": ["这"], "temperature": "hot"}, 422, "temperature"),
    ],
)
def test_bad_generation_requests_are_4xx(client, error_of, body, status, needle):
    err = error_of(client.post("/v1/generate", json=body), status)
    assert needle in err["message"]
    if status == 413:
        assert err["code"] == "limit_exceeded" and err["limit"] == "max_seq_len" and err["max"] == 24


def test_the_page_of_a_generation_run_has_a_generation_box(client):
    page = client.get("/").text
    assert 'id="max-new"' in page and 'id="temperature"' in page and ">Generate</button>" in page
    assert 'const ENDPOINT = "generate"' in page
