"""Admission control of the HTTP API: what keeps one client, or many, from hurting the others.

- :class:`Admission` (ASGI middleware, before any route runs): the ``Host`` header must name this
  server (``--allowed-hosts``; a page on another site that rebinds its DNS name to 127.0.0.1 sends its
  own name, and gets 400), and at most ``--max-concurrency`` ``/v1/*`` requests are in progress at once
  (the next gets 503 with ``Retry-After`` before its body is read).
- :func:`read_within` and :func:`wait_for_results`: each request has a deadline, ``--timeout`` seconds
  after it arrived. A body still arriving at the deadline (a slow sender) gets 408; texts still waiting
  for the model get 503 and leave the queue; texts whose batch is running get 504. Both carry
  ``Retry-After``. A client that hangs up while its texts wait takes them out of the queue, so no work is
  done for nobody.

Every refusal is the API's JSON error, ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from scratchlm.serve.requests import APIError, error_response, read_body

if TYPE_CHECKING:
    from fastapi import Request

    from scratchlm.serve.engine import MicroBatcher

log = logging.getLogger("scratchlm.serve")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
WILDCARD_BINDS = ("0.0.0.0", "::", "")


def default_allowed_hosts(bind: str) -> list[str] | None:
    """The bound address and this machine's loopback names; ``None`` (any host) for a server bound to
    every interface, which clients reach under names and addresses it cannot know."""
    if bind in WILDCARD_BINDS:
        return None
    return list(dict.fromkeys([bind.strip("[]").lower(), *LOCAL_HOSTS]))


def host_of(value: str) -> str:
    """``Host`` header -> host name, port and IPv6 brackets removed, lower case."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class Admission:
    """ASGI middleware: the ``Host`` check (``allowed_hosts``; ``None`` or ``"*"``: any) and the limit
    on ``/v1/*`` requests in progress (``max_concurrency``; ``None``: no limit)."""

    def __init__(
        self, app, *, allowed_hosts: Iterable[str] | None = None, max_concurrency: int | None = None
    ):
        self.app = app
        hosts = None if allowed_hosts is None else {h.strip().lower() for h in allowed_hosts}
        self.allowed = None if hosts is None or "*" in hosts else hosts
        self.max_concurrency = max_concurrency
        self.active = 0
        self.refused = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.allowed is not None:
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            if host_of(host) not in self.allowed:
                response = error_response(
                    400,
                    "invalid_host",
                    f"this server does not answer to the host {host_of(host)!r} (--allowed-hosts: "
                    f"{', '.join(sorted(self.allowed))})",
                )
                await response(scope, receive, send)
                return
        limited = self.max_concurrency is not None and scope.get("path", "").startswith("/v1/")
        if limited and self.active >= self.max_concurrency:
            self.refused += 1
            response = error_response(
                503,
                "busy",
                f"the server is busy: {self.active} requests are in progress (max_concurrency="
                f"{self.max_concurrency}); retry shortly",
                {"Retry-After": "1"},
            )
            await response(scope, receive, send)
            return
        self.active += limited
        try:
            await self.app(scope, receive, send)
        finally:
            self.active -= limited


# ----------------------------------------------------------------------------------------- deadlines
def deadline_of(request: Request, timeout: float | None) -> float | None:
    """The loop time this request must be answered by (``None``: no deadline), fixed at its first call."""
    if timeout is None:
        return None
    deadline = getattr(request.state, "deadline", None)
    if deadline is None:
        deadline = request.state.deadline = asyncio.get_running_loop().time() + timeout
    return deadline


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - asyncio.get_running_loop().time())


def _retry_after(timeout: float) -> dict[str, str]:
    return {"Retry-After": str(max(1, math.ceil(timeout)))}


async def read_within(request: Request, limit: int, timeout: float | None) -> bytes:
    """The body (at most ``limit`` bytes) by the request's deadline, else 408."""
    try:
        return await asyncio.wait_for(read_body(request, limit), _left(deadline_of(request, timeout)))
    except asyncio.TimeoutError:
        raise APIError(
            408,
            "timeout",
            f"the request body did not arrive within {timeout:g} s (the server's --timeout)",
            headers={"Connection": "close", **_retry_after(timeout)},
        ) from None


async def _client_gone(request: Request) -> None:
    """Returns when the client disconnects (the body is read: the next message is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _item_error(items: list) -> APIError | None:
    """422 naming the first text that failed on its own (its batch-mates succeeded), else ``None``."""
    from scratchlm.serve.engine import ItemError

    for i, item in enumerate(items):
        exc = None if item.future.cancelled() or not item.future.done() else item.future.exception()
        if isinstance(exc, ItemError):
            log.warning("texts.%d failed on its own: %s", i, exc, exc_info=exc.cause)
            return APIError(
                422,
                "invalid_text",
                f"texts.{i}: the model cannot process this text (the other texts of its batch were fine; "
                "the server's log has the details)",
                field=f"texts.{i}",
            )
    return None


async def wait_for_results(
    request: Request, batcher: MicroBatcher, items: list, timeout: float | None
) -> list[Any]:
    """The results of ``items`` by the request's deadline; texts of a timed-out or abandoned request
    leave the queue."""
    work = asyncio.ensure_future(batcher.results(items))
    gone = asyncio.ensure_future(_client_gone(request))
    try:
        done, _ = await asyncio.wait(
            {work, gone}, timeout=_left(deadline_of(request, timeout)), return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        gone.cancel()
    if work in done:
        if work.exception() is not None:
            raise _item_error(items) or work.exception()
        return work.result()
    work.cancel()
    batcher.cancel(items)
    if gone in done:  # nobody reads this answer; the status is for the access log
        raise APIError(499, "client_closed_request", "the client closed the connection")
    if any(item.started for item in items):
        raise APIError(
            504,
            "timeout",
            f"the model did not answer within {timeout:g} s (the server's --timeout); retry shortly",
            headers=_retry_after(timeout),
        )
    raise APIError(
        503,
        "busy",
        f"the server is busy: the texts waited {timeout:g} s (the server's --timeout) without reaching "
        "the model; retry shortly",
        headers=_retry_after(timeout),
    )
