"""Request bodies and their errors (``requests.py``), through ``/v1/classify`` and ``/v1/embed``: checks
in a fixed order, one clear JSON error each, and the server stays up."""

from __future__ import annotations

import json

import pytest

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
    # valid JSON that is no text: a lone surrogate (the error names the field and its index)
    (
        b'{"texts": ["ok", "a\\ud800b"]}',
        422,
        "invalid_text",
        "texts.1: not valid Unicode: a lone surrogate U+D800",
    ),
    (b'{"texts": ["\\udfff"]}', 422, "invalid_text", "texts.0"),
    # JSON that Python's parser refuses with other errors than JSONDecodeError
    (b"[" * 2000 + b"]" * 2000, 400, "invalid_json", "nests arrays or objects too deeply"),
    (b'{"texts": ' + b"[" * 1500 + b"]" * 1500 + b"}", 400, "invalid_json", "too deeply"),
    (b'{"texts": ["' + b"a" * 5000 + b'"]}', 413, "limit_exceeded", "max_body_bytes"),
]


@pytest.mark.parametrize(("body", "status", "code", "words"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_requests_get_json_errors(client, error_of, body, status, code, words):
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
def test_bad_embed_options(client, error_of, body):
    err = error_of(client.post("/v1/embed", json=body), 422)
    assert next(iter(set(body) - {"texts"})) in err["message"]


def test_streamed_body_over_the_limit(client, error_of):
    def chunks():
        for _ in range(10):
            yield b"x" * 1000

    err = error_of(client.post("/v1/classify", content=chunks()), 413)
    assert "max_body_bytes" in err["message"]


def test_request_json_is_utf8_with_unicode(client):
    body = json.dumps({"texts": ["😀 emoji and 中文"]}, ensure_ascii=True).encode()
    assert client.post("/v1/classify", content=body).status_code == 200


def test_a_number_too_long_to_read_is_a_400(run, error_of):
    from fastapi.testclient import TestClient

    from scratchlm.serve.app import ServeSettings, create_app

    with TestClient(create_app(run, ServeSettings(max_body_bytes=100_000))) as c:
        body = b'{"texts": ["a"], "n": ' + b"7" * 5000 + b"}"
        r = c.post("/v1/classify", content=body, headers={"content-type": "application/json"})
        assert "number too long" in error_of(r, 400)["message"]


def test_a_lone_surrogate_fails_only_its_own_request(run, error_of):
    """Sent together, batched together: the bad text's request gets a 422, the others their results."""
    import asyncio

    import httpx

    from scratchlm.serve.app import ServeSettings, create_app

    app = create_app(run, ServeSettings(max_batch=16, max_wait_ms=50))
    bodies = [b'{"texts": ["\\u597d"]}', b'{"texts": ["\\ud800"], "tokens": true}', b'{"texts": ["\\u574f"]}']

    async def main():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await asyncio.gather(*(c.post("/v1/embed", content=b) for b in bodies))

    good, bad, other = asyncio.run(main())
    assert good.status_code == other.status_code == 200
    assert error_of(bad, 422)["field"] == "texts.0"
