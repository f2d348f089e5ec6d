from __future__ import annotations

from lab_helpers import write_lab_runs
from scratchlm.serve.lab_app import create_lab_app
from scratchlm.training.run_dir import load_run


def test_the_lab_app_sends_home_to_the_lab_and_answers_errors_as_json(tmp_path, error_of):
    from fastapi.testclient import TestClient

    paths = write_lab_runs(tmp_path)
    app = create_lab_app([load_run(paths["tagger"]), load_run(paths["rope"])])
    with TestClient(app) as c:
        assert c.get("/", follow_redirects=False).headers["location"] == "lab"
        assert c.get("/healthz").json() == {"status": "ok", "runs": ["tagger", "rope"]}
        assert "tagger" in c.get("/").text  # the redirect lands on the page
        assert error_of(c.get("/v1/classify"), 404)["code"] == "not_found"  # no model API here
        assert error_of(c.put("/lab/api/inspect"), 405)["code"] == "method_not_allowed"
