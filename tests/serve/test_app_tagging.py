"""``POST /v1/tag`` and the page for a tagger: a tiny word segmenter trained on a slice of pd1998-cws
through the real CLI, served through FastAPI's TestClient; the answers equal ``scratchlm predict``'s."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from cli_helpers import ROOT, run_cli
from scratchlm.serve.app import ServeSettings, create_app
from scratchlm.tasks.tagging_units import tag_texts
from scratchlm.training.run_dir import load_run

TEXTS = ["中国人民银行今天宣布降息。", "他在北京大学读书"]


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
def client(tagger):
    with TestClient(create_app(tagger, ServeSettings(max_texts=4, max_chars=100))) as c:
        yield c


def test_tag_equals_the_offline_tagger(client, tagger):
    response = client.post("/v1/tag", json={"texts": TEXTS})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scheme"] == "bmes" and len(body["results"]) == 2
    expected = json.loads(json.dumps(tag_texts(tagger, TEXTS)))
    assert body["results"] == expected
    for text, result in zip(TEXTS, body["results"], strict=True):
        assert len(result["tags"]) == len(result["tokens"]) == len(text.replace(" ", ""))
        assert "".join(s["text"] for s in result["spans"]) == text  # segmentation covers the text
        assert result["output"].replace(" ", "") == text


def test_classify_and_embed_say_which_endpoint_fits(client):
    for endpoint in ("classify", "embed"):
        response = client.post(f"/v1/{endpoint}", json={"texts": ["好"]})
        assert response.status_code == 404
        err = response.json()["error"]
        assert err["code"] == "unsupported_endpoint" and "POST /v1/tag" in err["message"]
        assert err["supported"] == ["/v1/tag"]


def test_model_info_and_page(client):
    info = client.get("/v1/model").json()
    assert info["task"] == "tagging" and set(info["labels"]) == {"B", "M", "E", "S"}
    page = client.get("/").text
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
def test_bad_requests_are_json_errors(client, body, status):
    response = client.post("/v1/tag", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]


@pytest.mark.parametrize("task", ["classification", "tagging"])
def test_page_script_parses(task, tmp_path):
    import re
    import shutil
    import subprocess

    from scratchlm.serve.page import render_page

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    page = render_page("run", ["B", "M", "E", "S"], needs_key=True, task=task)
    script = re.search(r"<script>(.*)</script>", page, re.S).group(1)
    (tmp_path / "page.js").write_text(script, encoding="utf-8")
    proc = subprocess.run([node, "--check", str(tmp_path / "page.js")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
