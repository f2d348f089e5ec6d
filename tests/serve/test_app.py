"""The assembled app (``create_app``): state, model description, OpenAPI, error handlers, batching."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from fastapi.testclient import TestClient

from scratchlm.predict.classify import classify_texts
from scratchlm.serve import engine
from scratchlm.serve.app import ServeSettings, create_app

TEXTS = ["这本书写得太好了，强烈推荐！", "质量很差，用了两天就坏了。"]


def test_state_on_the_app(run):
    settings = ServeSettings(max_batch=3)
    app = create_app(run, settings)
    assert app.state.run is run and app.state.settings is settings
    assert app.state.endpoints == ("classify", "embed")
    assert set(app.state.batchers) == {"classify", "embed", "tag"}
    assert app.state.batchers["classify"].max_batch == 3
    assert app.state.info["name"] == run.path.name


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


def test_openapi_operations_and_error_responses(client):
    """Operation ids come from the handlers' names: renaming one changes every generated client."""
    spec = client.get("/openapi.json").json()
    operations = {
        (path, method): op["operationId"] for path, ops in spec["paths"].items() for method, op in ops.items()
    }
    assert operations == {
        ("/healthz", "get"): "healthz_healthz_get",
        ("/v1/model", "get"): "get_model_v1_model_get",
        ("/v1/classify", "post"): "classify_v1_classify_post",
        ("/v1/embed", "post"): "embed_v1_embed_post",
        ("/v1/tag", "post"): "tag_v1_tag_post",
        ("/v1/generate", "post"): "generate_v1_generate_post",
    }
    assert set(spec["paths"]["/v1/classify"]["post"]["responses"]) == {
        "200",
        "400",
        "401",
        "408",
        "413",
        "422",
        "500",
        "503",
        "504",
    }
    assert "securitySchemes" not in spec.get("components", {})  # no key, no auth


def test_unknown_route_and_method(client, error_of):
    assert error_of(client.get("/v2/nothing"), 404)["code"] == "not_found"
    assert error_of(client.get("/v1/classify"), 405)["code"] == "method_not_allowed"


def test_model_failure_is_a_json_500_and_the_server_stays_up(run, monkeypatch, error_of, caplog):
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
        with caplog.at_level("ERROR", logger="scratchlm.serve"):
            err = error_of(c.post("/v1/classify", json={"texts": ["好"]}), 500)
        # the exception's text is for the log, never for the client
        assert "out of memory" not in err["message"] and "RuntimeError" not in err["message"]
        assert "out of memory" in caplog.text and "Traceback" in caplog.text
        assert c.post("/v1/classify", json={"texts": ["好"]}).status_code == 200


def test_closing_the_app_stops_its_batchers_and_a_new_client_starts_them_again(run):
    app = create_app(run)
    for _ in range(2):
        with TestClient(app) as c:
            assert c.post("/v1/classify", json={"texts": ["好"]}).status_code == 200
        assert all(b._worker is None for b in app.state.batchers.values())


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
        alone = classify_texts(run, [TEXTS[i % 2] + "!" * (i % 5)])[0]
        assert r["probabilities"] == pytest.approx(alone["probabilities"], abs=1e-5)


def test_model_info_holds_no_local_paths(run):
    info = create_app(run).state.info
    text = json.dumps(info)
    assert str(run.path.parent) not in text and "/" not in json.dumps(info["config"])
    assert info["config"]["data"]["dataset"] == "train.jsonl"  # the file's name only


def test_a_text_that_breaks_the_model_fails_only_its_own_request(run, monkeypatch, error_of):
    """The failing batch is run again text by text: its batch-mates get their answers."""
    real = engine.classify_texts

    def breaks_on_bomb(run_, texts, **kwargs):
        if any("炸" in t for t in texts):
            raise RuntimeError("cannot encode 炸")
        return real(run_, texts, **kwargs)

    monkeypatch.setattr(engine, "classify_texts", breaks_on_bomb)
    app = create_app(run, ServeSettings(max_batch=16, max_wait_ms=300))

    async def main():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            batched = await asyncio.gather(
                *(c.post("/v1/classify", json={"texts": t}) for t in (["好"], ["坏", "炸"], ["不错"]))
            )
            return batched, await c.post("/v1/classify", json={"texts": ["炸"]})

    batched, alone = asyncio.run(main())
    assert [r.status_code for r in batched] == [200, 422, 200]
    err = error_of(batched[1], 422)
    assert err["field"] == "texts.1" and "cannot encode" not in err["message"]
    # alone in its batch, nothing shows the text rather than the model is at fault: a 500
    assert "cannot encode" not in error_of(alone, 500)["message"]
