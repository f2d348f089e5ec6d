"""The HTTP API through FastAPI's TestClient and httpx's ASGI transport (no sockets)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from fastapi.testclient import TestClient

from scratchlm.serve import engine
from scratchlm.serve.app import ServeSettings, create_app
from scratchlm.serve.page import render_page

TEXTS = ["这本书写得太好了，强烈推荐！", "质量很差，用了两天就坏了。"]


@pytest.fixture(scope="module")
def client(run):
    app = create_app(run, ServeSettings(max_texts=4, max_chars=200, max_body_bytes=4096))
    with TestClient(app) as c:
        yield c


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    err = response.json()["error"]
    assert err["code"] and err["message"] and "\n" not in err["message"]
    return err


def test_classify_matches_the_engine(client, run):
    r = client.post("/v1/classify", json={"texts": TEXTS})
    assert r.status_code == 200
    body = r.json()
    assert body["model"] == run.path.name
    expected = engine.classify_texts(run, TEXTS)
    for got, want in zip(body["results"], expected, strict=True):
        assert got["label"] == want["label"]
        assert got["probabilities"] == pytest.approx(want["probabilities"], abs=1e-5)
        assert set(got) == {"label", "score", "probabilities", "truncated"}


def test_embed_pooled_and_tokens(client, run):
    r = client.post("/v1/embed", json={"texts": TEXTS})
    assert r.status_code == 200
    body = r.json()
    assert body["pooling"] == run.config.model.pooling and body["dim"] == run.config.model.embed_dim
    assert len(body["results"]) == 2 and "token_vectors" not in body["results"][0]
    r = client.post(
        "/v1/embed", json={"texts": TEXTS[:1], "tokens": True, "pooling": "mean_max", "normalize": True}
    )
    res = r.json()["results"][0]
    assert r.json()["dim"] == 2 * run.config.model.embed_dim
    assert res["tokens"][0] == "[CLS]" and len(res["token_vectors"]) == len(res["tokens"]) == len(
        res["offsets"]
    )


@pytest.mark.parametrize("endpoint", ["tag", "generate"])
def test_other_tasks_get_a_clear_4xx(client, endpoint):
    for body in ({"texts": ["好"]}, {"nonsense": 1}):
        err = error_of(client.post(f"/v1/{endpoint}", json=body), 404)
        assert err["code"] == "unsupported_endpoint"
        assert "/v1/classify" in err["message"] and err["supported"] == ["/v1/classify", "/v1/embed"]


def test_health_model_docs(client, run):
    assert client.get("/healthz").json()["status"] == "ok"
    info = client.get("/v1/model").json()
    assert info["labels"] == run.labels and info["task"] == "classification"
    assert info["endpoints"] == ["/v1/classify", "/v1/embed"]
    assert info["config"]["model"]["embed_dim"] == run.config.model.embed_dim
    assert {"trained_with", "serving"} <= set(info["versions"]) and "torch" in info["versions"]["serving"]
    assert info["limits"] == {"max_texts": 4, "max_chars": 200, "max_body_bytes": 4096}
    spec = client.get("/openapi.json").json()
    for path in ("/v1/classify", "/v1/embed", "/v1/tag", "/v1/generate"):
        schema = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert "texts" in schema["properties"]
    assert "/healthz" in spec["paths"] and "/v1/model" in spec["paths"]
    assert "swagger" in client.get("/docs").text.lower()


def test_page(client, run):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<textarea" in r.text and 'id="classify"' in r.text and run.path.name in r.text
    assert 'id="key"' not in r.text
    page = render_page("<b>run</b>", ["<i>", "ok"], needs_key=True)
    assert "<b>run</b>" not in page and "&lt;b&gt;run&lt;/b&gt;" in page and 'id="key"' in page


BAD = [
    # (body bytes or json, status, code, words the message must hold)
    (b"{bad json", 400, "invalid_json", "line 1 column 2"),
    (b"", 400, "invalid_json", "empty"),
    (b'{"texts": ["\xff\xfe"]}', 400, "invalid_encoding", "UTF-8"),
    ([1, 2], 422, "invalid_request", "JSON object"),
    ("texts", 422, "invalid_request", "JSON object"),
    ({"texts": "not a list"}, 422, "invalid_request", "texts"),
    ({"texts": [1, "x"]}, 422, "invalid_request", "texts.0"),
    ({"texts": [None]}, 422, "invalid_request", "texts.0"),
    ({"texts": []}, 422, "invalid_request", "empty"),
    ({"texts": ["ok", "  "]}, 422, "invalid_request", "texts.1"),
    ({"text": ["ok"]}, 422, "invalid_request", "did you mean 'texts'"),
    ({"texts": ["a"] * 5}, 413, "limit_exceeded", "max_texts"),
    ({"texts": ["a" * 201]}, 413, "limit_exceeded", "max_chars"),
    ({"texts": ["a"] * 3 + ["好" * 190] * 1}, 200, None, ""),
    (b'{"texts": ["' + b"a" * 5000 + b'"]}', 413, "limit_exceeded", "max_body_bytes"),
]


@pytest.mark.parametrize(("body", "status", "code", "words"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_requests_get_json_errors(client, body, status, code, words):
    if isinstance(body, bytes):
        r = client.post("/v1/classify", content=body, headers={"content-type": "application/json"})
    else:
        r = client.post("/v1/classify", json=body)
    if status == 200:
        assert r.status_code == 200
        return
    err = error_of(r, status)
    assert err["code"] == code and words in err["message"]
    if status == 413:
        assert err["limit"] in err["message"] and err["max"] > 0
    assert client.post("/v1/classify", json={"texts": ["还在"]}).status_code == 200  # the server stays up


@pytest.mark.parametrize(
    "body",
    [
        {"texts": ["x"], "tokens": "yes"},
        {"texts": ["x"], "pooling": "median"},
        {"texts": ["x"], "normalize": 1},
    ],
)
def test_bad_embed_options(client, body):
    err = error_of(client.post("/v1/embed", json=body), 422)
    assert next(iter(set(body) - {"texts"})) in err["message"]


def test_streamed_body_over_the_limit(client):
    def chunks():
        for _ in range(10):
            yield b"x" * 1000

    err = error_of(client.post("/v1/classify", content=chunks()), 413)
    assert "max_body_bytes" in err["message"]


def test_unknown_route_and_method(client):
    assert error_of(client.get("/v2/nothing"), 404)["code"] == "not_found"
    assert error_of(client.get("/v1/classify"), 405)["code"] == "method_not_allowed"


def test_api_key(run):
    app = create_app(run, ServeSettings(api_key="s3cret"))
    with TestClient(app) as c:
        assert error_of(c.post("/v1/classify", json={"texts": ["好"]}), 401)["code"] == "unauthorized"
        r = c.post("/v1/classify", json={"texts": ["好"]}, headers={"X-API-Key": "wrong"})
        assert "wrong" in error_of(r, 401)["message"]
        assert error_of(c.get("/v1/model"), 401)
        assert (
            c.post("/v1/classify", json={"texts": ["好"]}, headers={"X-API-Key": "s3cret"}).status_code == 200
        )
        assert (
            c.post(
                "/v1/embed", json={"texts": ["好"]}, headers={"Authorization": "Bearer s3cret"}
            ).status_code
            == 200
        )
        assert c.get("/healthz").status_code == 200  # liveness needs no key
        assert 'id="key"' in c.get("/").text


def test_model_failure_is_a_json_500_and_the_server_stays_up(run, monkeypatch):
    app = create_app(run)
    calls = {"n": 0}
    real = engine.classify_texts

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("out of memory, say")
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "classify_texts", flaky)
    with TestClient(app, raise_server_exceptions=False) as c:
        err = error_of(c.post("/v1/classify", json={"texts": ["好"]}), 500)
        assert "out of memory" in err["message"]
        assert c.post("/v1/classify", json={"texts": ["好"]}).status_code == 200


def test_full_queue_is_a_503(run):
    app = create_app(run, ServeSettings(max_queue=1))
    with TestClient(app) as c:
        r = c.post("/v1/classify", json={"texts": ["好", "坏"]})
        assert error_of(r, 503)["code"] == "busy" and r.headers["retry-after"] == "1"


async def _concurrent(app, n: int) -> list[dict]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        responses = await asyncio.gather(
            *(c.post("/v1/classify", json={"texts": [TEXTS[i % 2] + "!" * (i % 5)]}) for i in range(n))
        )
    assert all(r.status_code == 200 for r in responses)
    return [r.json()["results"][0] for r in responses]


@pytest.mark.parametrize("max_batch", [1, 8])
def test_concurrent_requests_are_micro_batched(run, max_batch):
    app = create_app(run, ServeSettings(max_batch=max_batch, max_wait_ms=20))
    results = asyncio.run(_concurrent(app, 40))
    batcher = app.state.batchers["classify"]
    assert batcher.items == 40
    if max_batch == 1:
        assert batcher.batches == 40
    else:
        assert batcher.batches <= 40 // 8 + 3
    for i, r in enumerate(results):
        alone = engine.classify_texts(run, [TEXTS[i % 2] + "!" * (i % 5)])[0]
        assert r["probabilities"] == pytest.approx(alone["probabilities"], abs=1e-5)


def test_request_json_is_utf8_with_unicode(client):
    body = json.dumps({"texts": ["😀 emoji and 中文"]}, ensure_ascii=True).encode()
    assert client.post("/v1/classify", content=body).status_code == 200
