"""/v1/classify on an image run: base64 JSON and multipart bodies give the same answer as `predict`; bad
images, bad bodies and too many images get JSON errors; text bodies are refused."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

fastapi = pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from scratchlm.serve.app import ServeSettings, create_app  # noqa: E402
from scratchlm.training.run_dir import load_run  # noqa: E402


@pytest.fixture(scope="module")
def image_client(tiny_image_run):
    with TestClient(create_app(load_run(tiny_image_run), ServeSettings(max_texts=3))) as client:
        yield client


def _png(value: int = 128, size: int = 8) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((size, size), value, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def test_json_and_multipart_agree_with_predict(image_client, tiny_image_run, tmp_path):
    png = _png(200)
    (tmp_path / "a.png").write_bytes(png)
    run = load_run(tiny_image_run)
    [want] = run.handler().predict(run, [str(tmp_path / "a.png")], 4)
    by_json = image_client.post("/v1/classify", json={"images": [base64.b64encode(png).decode()]})
    by_form = image_client.post("/v1/classify", files={"image": ("a.png", png, "image/png")})
    data_url = "data:image/png;base64," + base64.b64encode(png).decode()
    one = image_client.post("/v1/classify", json={"image": data_url})
    for r in (by_json, by_form, one):
        assert r.status_code == 200, r.text
        [got] = r.json()["results"]
        assert got["label"] == want["label"] and got["score"] == pytest.approx(want["score"], abs=1e-5)
    assert image_client.get("/v1/model").json()["endpoints"] == ["/v1/classify"]


@pytest.mark.parametrize(
    "kwargs, status, code",
    [
        ({"json": {"images": ["bm90IGFuIGltYWdl"]}}, 400, "invalid_image"),
        ({"json": {"images": ["%%%"]}}, 400, "invalid_image"),
        ({"json": {"texts": ["hello"]}}, 422, "invalid_request"),
        ({"json": {"images": []}}, 422, "invalid_request"),
        ({"files": {"f": ("x.png", b"garbage", "image/png")}}, 400, "invalid_image"),
    ],
)
def test_bad_requests(image_client, kwargs, status, code):
    r = image_client.post("/v1/classify", **kwargs)
    assert r.status_code == status and r.json()["error"]["code"] == code, r.text


def test_too_many_images(image_client):
    many = [base64.b64encode(_png()).decode()] * 4
    r = image_client.post("/v1/classify", json={"images": many})
    assert r.status_code == 413 and "max_texts is 3" in r.json()["error"]["message"]
