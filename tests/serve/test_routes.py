"""The routes: ``/``, ``/healthz`` and ``/v1/*`` of a classifier (random weights) and of a word segmenter
trained on a slice of pd1998-cws through the real CLI; answers equal :mod:`scratchlm.predict`'s and
``scratchlm predict``'s."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from cli_helpers import ROOT, run_cli
from scratchlm.predict.classify import classify_texts
from scratchlm.serve.app import ServeSettings, create_app
from scratchlm.tasks.tagging_units import tag_texts
from scratchlm.training.run_dir import load_run

TEXTS = ["这本书写得太好了，强烈推荐！", "质量很差，用了两天就坏了。"]
TAG_TEXTS = ["中国人民银行今天宣布降息。", "他在北京大学读书"]


# -------------------------------------------------------------------------------------- classifier
def test_classify_matches_the_prediction_path(client, run):
    r = client.post("/v1/classify", json={"texts": TEXTS})
    assert r.status_code == 200
    body = r.json()
    assert body["model"] == run.path.name
    expected = classify_texts(run, TEXTS)
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
def test_other_tasks_get_a_clear_4xx(client, endpoint, error_of):
    for body in ({"texts": ["好"]}, {"nonsense": 1}):  # the endpoint is checked before the body
        err = error_of(client.post(f"/v1/{endpoint}", json=body), 404)
        assert err["code"] == "unsupported_endpoint"
        assert "/v1/classify" in err["message"] and err["supported"] == ["/v1/classify", "/v1/embed"]


def test_page(client, run):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<textarea" in r.text and 'id="classify"' in r.text and run.path.name in r.text
    assert 'id="key"' not in r.text


def test_healthz_counts_the_batchers_work(run):
    with TestClient(create_app(run)) as c:
        assert c.get("/healthz").json() == {
            "status": "ok",
            "model": run.path.name,
            "waiting": 0,
            "batches": 0,
            "texts": 0,
        }
        c.post("/v1/classify", json={"texts": TEXTS})
        c.post("/v1/embed", json={"texts": TEXTS[:1]})
        health = c.get("/healthz").json()
        assert health["texts"] == 3 and 2 <= health["batches"] <= 3


def test_api_key(run, error_of):
    app = create_app(run, ServeSettings(api_key="s3cret"))
    with TestClient(app) as c:
        assert error_of(c.post("/v1/classify", json={"texts": ["好"]}), 401)["code"] == "unauthorized"
        r = c.post("/v1/classify", json={"texts": ["好"]}, headers={"X-API-Key": "wrong"})
        assert "wrong" in error_of(r, 401)["message"]
        assert r.headers["www-authenticate"] == "Bearer"
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
        schemes = c.get("/openapi.json").json()["components"]["securitySchemes"]
        assert set(schemes) == {"HTTPBearer", "APIKeyHeader"}


def test_full_queue_is_a_503(run, error_of):
    """The queue is checked before the body is read; a request larger than the whole queue is still
    answered when nothing waits."""
    import asyncio

    import httpx

    app = create_app(run, ServeSettings(max_queue=1, max_batch=8, max_wait_ms=400))

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            first = asyncio.ensure_future(c.post("/v1/classify", json={"texts": ["好"]}))
            await asyncio.sleep(0.1)  # the first text waits for company (max_wait_ms)
            second = await c.post("/v1/classify", json={"texts": ["坏"]})
            return await first, second, await c.post("/v1/classify", json={"texts": ["好", "坏"]})

    first, second, large = asyncio.run(main())
    assert first.status_code == 200 and large.status_code == 200
    assert error_of(second, 503)["code"] == "busy" and second.headers["retry-after"] == "1"


# ------------------------------------------------------------------------------------------ tagger
@pytest.fixture(scope="module")
def tagger(tmp_path_factory):
    out = tmp_path_factory.mktemp("tagger") / "cws"
    sets = [
        "data.max_train_examples=200", "data.max_eval_examples=40", "data.max_seq_len=48",
        "model.embed_dim=24", "model.encoder.rnn_hidden_dim=24", "model.bigram_buckets=2000",
        "train.epochs=1", "train.batch_size=16", "train.save_every=50",
    ]  # fmt: skip
    args = [a for s in sets for a in ("--set", s)]
    proc = run_cli("train", str(ROOT / "configs" / "pd1998_cws.yaml"), *args, "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return load_run(out)


@pytest.fixture(scope="module")
def tagger_client(tagger):
    with TestClient(create_app(tagger, ServeSettings(max_texts=4, max_chars=100))) as c:
        yield c


def test_tag_equals_the_offline_tagger(tagger_client, tagger):
    response = tagger_client.post("/v1/tag", json={"texts": TAG_TEXTS})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scheme"] == "bmes" and len(body["results"]) == 2
    expected = json.loads(json.dumps(tag_texts(tagger, TAG_TEXTS)))
    assert body["results"] == expected
    for text, result in zip(TAG_TEXTS, body["results"], strict=True):
        assert len(result["tags"]) == len(result["tokens"]) == len(text.replace(" ", ""))
        assert "".join(s["text"] for s in result["spans"]) == text  # segmentation covers the text
        assert result["output"].replace(" ", "") == text


def test_classify_and_embed_say_which_endpoint_fits(tagger_client):
    for endpoint in ("classify", "embed"):
        response = tagger_client.post(f"/v1/{endpoint}", json={"texts": ["好"]})
        assert response.status_code == 404
        err = response.json()["error"]
        assert err["code"] == "unsupported_endpoint" and "POST /v1/tag" in err["message"]
        assert err["supported"] == ["/v1/tag"]


def test_tagger_model_info_and_page(tagger_client):
    info = tagger_client.get("/v1/model").json()
    assert info["task"] == "tagging" and set(info["labels"]) == {"B", "M", "E", "S"}
    page = tagger_client.get("/").text
    assert '"tag"' in page and ">Tag</button>" in page


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"texts": []}, 422),
        ({"texts": ["好"] * 5}, 413),
        ({"texts": ["长" * 101]}, 413),
        ({"texts": "中国"}, 422),
    ],
)
def test_bad_tag_requests_are_json_errors(tagger_client, body, status):
    response = tagger_client.post("/v1/tag", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]
