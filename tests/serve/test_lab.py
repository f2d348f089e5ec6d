"""The lab's JSON API (``/lab/api/*``) and page routes, through FastAPI's TestClient, on the tiny runs of
tests/lab_helpers.py: what each endpoint answers, and that bad input gets a 4xx naming the field."""

from __future__ import annotations

import pytest

from lab_helpers import tiny_seq2seq, write_lab_runs
from scratchlm.serve.app import ServeSettings, create_app
from scratchlm.serve.lab import LabState
from scratchlm.serve.lab_app import create_lab_app
from scratchlm.training.run_dir import load_run
from scratchlm.viz.lab_report import lab_report
from scratchlm.viz.neighbours import contextual_neighbours, static_neighbours


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    paths = write_lab_runs(tmp_path_factory.mktemp("lab-api"))
    return {name: load_run(path) for name, path in paths.items()}


@pytest.fixture(scope="module")
def lab(runs):
    from fastapi.testclient import TestClient

    settings = ServeSettings(max_chars=40, max_texts=3, max_body_bytes=4096)
    with TestClient(create_lab_app(list(runs.values()), settings)) as c:
        yield c


def test_runs_lists_every_run_in_order(lab, runs):
    got = lab.get("/lab/api/runs").json()["runs"]
    assert [r["name"] for r in got] == list(runs)
    assert got[1]["positional"] == "rope" and got[3]["task"] == "tagging"


@pytest.mark.parametrize("name", ["sinusoidal", "rope", "concat", "tagger", "causal-lm"])
def test_inspect_answers_the_report_of_the_run(lab, runs, name):
    r = lab.post("/lab/api/inspect", json={"run": name, "text": "这本书写得太好了"})
    assert r.status_code == 200, r.text
    rep = r.json()
    expected = lab_report(runs[name], "这本书写得太好了")
    assert rep["positions"]["ids"] == expected["positions"]["ids"]
    assert rep["input"]["parts"] == expected["input"]["parts"]
    assert rep["prediction"] == expected["prediction"]
    assert rep["run"]["name"] == name


def test_neighbours_answers_both_kinds(lab, runs):
    body = {"run": "sinusoidal", "text": "很好很好", "position": 2, "k": 3, "texts": ["质量很差"]}
    r = lab.post("/lab/api/neighbours", json=body)
    assert r.status_code == 200, r.text
    got = r.json()
    run = runs["sinusoidal"]
    assert (got["token"], got["id"]) == ("好", run.tokenizer.vocab.id("好"))
    assert got["static"] == static_neighbours(run, got["id"], 3)
    assert got["contextual"] == contextual_neighbours(run, "很好很好", 2, ["质量很差"], 3)


@pytest.mark.parametrize(
    "path, body, status, field",
    [
        ("inspect", {"run": "nope", "text": "很好"}, 422, "run: no run named 'nope'"),
        ("inspect", {"run": "rope", "text": "  "}, 422, "text: the text is empty"),
        (
            "inspect",
            {"run": "rope", "text": "长" * 41},
            413,
            "text has 41 characters; the limit max_chars is 40",
        ),
        ("inspect", {"run": "rope", "txt": "很好"}, 422, "txt: unknown field; did you mean 'text'?"),
        ("inspect", {"run": "rope", "text": 5}, 422, "text: Input should be a valid string"),
        ("inspect", ["很好"], 422, "the body must be a JSON object"),
        ("neighbours", {"run": "rope", "text": "很好", "position": 3}, 422, "position: 3 is past the last"),
        (
            "neighbours",
            {"run": "rope", "text": "很好", "position": -1},
            422,
            "position: Input should be greater",
        ),
        (
            "neighbours",
            {"run": "rope", "text": "很好", "position": 1, "k": 51},
            422,
            "k: Input should be less",
        ),
        (
            "neighbours",
            {"run": "rope", "text": "很好", "position": 1, "texts": ["a"] * 4},
            413,
            "max_texts is 3",
        ),
        (
            "neighbours",
            {"run": "rope", "text": "很好", "position": 1, "texts": ["a", " "]},
            422,
            "texts.1: the text",
        ),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(lab, error_of, path, body, status, field):
    err = error_of(lab.post(f"/lab/api/{path}", json=body), status)
    assert err["message"].startswith(field) or field in err["message"], err["message"]


def test_bad_json_and_big_bodies(lab, error_of):
    assert error_of(lab.post("/lab/api/inspect", content=b"{"), 400)["code"] == "invalid_json"
    big = b'{"run": "rope", "text": "' + b"a" * 5000 + b'"}'
    assert error_of(lab.post("/lab/api/inspect", content=big), 413)["limit"] == "max_body_bytes"


def test_page_and_assets(lab, error_of):
    page = lab.get("/lab")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '"name": "causal-lm"' in page.text and 'src="/lab/static/lab.js"' in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing fetched from elsewhere
    for name, kind in (("lab.js", "text/javascript"), ("lab.css", "text/css")):
        r = lab.get(f"/lab/static/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith(kind)
        assert "http://" not in r.text and "https://" not in r.text
    error_of(lab.get("/lab/static/lab.html"), 404)
    error_of(lab.get("/lab/static/secret.py"), 404)


def test_serve_mounts_the_lab_of_its_run_behind_its_key(runs, error_of):
    from fastapi.testclient import TestClient

    app = create_app(runs["sinusoidal"], ServeSettings(api_key="letmein"))
    with TestClient(app) as c:
        assert c.get("/lab").status_code == 200 and 'id="key-box"' in c.get("/lab").text
        body = {"run": "sinusoidal", "text": "很好"}
        error_of(c.post("/lab/api/inspect", json=body), 401)
        assert c.post("/lab/api/inspect", json=body, headers={"X-API-Key": "letmein"}).status_code == 200
        assert (
            c.get("/lab/api/runs", headers={"X-API-Key": "letmein"}).json()["runs"][0]["name"] == "sinusoidal"
        )


def test_two_runs_of_one_name_get_distinct_names(runs):
    state = LabState([runs["rope"], runs["rope"], runs["rope"]])
    assert list(state.runs) == ["rope", "rope (2)", "rope (3)"]
    assert state.tiers("rope (2)").note.startswith("model.init: normal")


def test_a_seq2seq_run_is_served_without_a_lab_and_refused_by_it(tmp_path, error_of):
    from fastapi.testclient import TestClient

    from scratchlm.errors import ConfigError

    run = load_run(tiny_seq2seq(tmp_path))
    with TestClient(create_app(run)) as c:
        error_of(c.get("/lab"), 404)
    with pytest.raises(ConfigError, match="encoder-decoder"):
        LabState([run])


def test_a_text_the_run_cannot_read_is_a_422(lab, error_of, monkeypatch):
    import scratchlm.viz.lab_report as lab_report_module
    from scratchlm.errors import DataError

    def refuse(run, text, tiers=None):
        raise DataError("no unit in this text")

    monkeypatch.setattr(lab_report_module, "lab_report", refuse)
    err = error_of(lab.post("/lab/api/inspect", json={"run": "rope", "text": "很好"}), 422)
    assert err["message"] == "text: no unit in this text"
