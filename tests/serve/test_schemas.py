"""The OpenAPI schema the request and response models make (serve/schemas.py), used as a fuzzer's map:
schemathesis generates requests for every endpoint from it, valid and not, and checks each answer: never
a 5xx, and a body that matches the schema of its status. A classifier and a tagger each answer every
endpoint (the others with 404). ``make test-all`` runs it, ``SCRATCHLM_FUZZ_EXAMPLES`` cases per endpoint
and run."""

from __future__ import annotations

import pytest

import fuzz_helpers

schemathesis = pytest.importorskip("schemathesis", reason="the schema fuzzer needs pip install schemathesis")

from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import response_schema_conformance  # noqa: E402

from scratchlm.serve.app import ServeSettings, create_app  # noqa: E402
from scratchlm.serve.synthetic import write_tiny_run, write_tiny_tagger_run  # noqa: E402
from scratchlm.training.run_dir import load_run  # noqa: E402

SETTINGS = ServeSettings(max_texts=8, max_chars=200, max_body_bytes=16_384, timeout=30)


def fuzz_every_endpoint(app) -> list[str]:
    """Schema-valid and schema-invalid requests for every operation of ``app``'s OpenAPI schema, each
    checked: no 5xx, the body matches its status's schema. Returns the operations fuzzed. (Hypothesis
    drives schemathesis' strategies directly: its pytest plugin does not run under pytest 9.)"""
    from hypothesis import given

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    done = []
    for result in schema.get_all_operations():
        operation = result.ok()
        # a GET without parameters has nothing to make invalid
        modes = [GenerationMode.POSITIVE] + (
            [GenerationMode.NEGATIVE] if operation.method.upper() == "POST" else []
        )
        for mode in modes:

            @fuzz_helpers.fuzz()
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case):
                case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

            check()
        done.append(f"{operation.method.upper()} {operation.path}")
    return done


@pytest.mark.slow
@pytest.mark.parametrize("writer", [write_tiny_run, write_tiny_tagger_run], ids=["classifier", "tagger"])
def test_every_endpoint_from_the_schema(tmp_path, writer):
    app = create_app(load_run(writer(tmp_path)), SETTINGS)
    done = fuzz_every_endpoint(app)
    assert {"GET /healthz", "GET /v1/model", "POST /v1/classify", "POST /v1/embed", "POST /v1/tag"} <= set(
        done
    )
