"""The input-layer lab: ``GET /lab`` (the page, :mod:`scratchlm.serve.lab_page`) and its JSON API.

=========================  =======================================================================
``GET /lab/api/runs``      the runs shown, with the settings of their input layer and encoder
``POST /lab/api/inspect``  ``{"run", "text"}``: every step of the text becoming vectors
                           (:func:`scratchlm.viz.lab_report.lab_report`)
``POST /lab/api/neighbours``  ``{"run", "text", "position", "k", "texts"}``: the nearest rows of the
                           token at ``position`` and the nearest contextual vectors among ``texts``
=========================  =======================================================================

``scratchlm serve RUN`` mounts it for its run (:func:`mount`); ``scratchlm lab RUN...`` serves it for
several runs side by side (:mod:`scratchlm.serve.lab_app`). Bodies are checked as the rest of the
API's are (:mod:`scratchlm.serve.requests`: size, UTF-8, JSON, strict schema), then the fields: an
unknown ``run`` or an empty ``text`` is a 422, a text over ``max_chars`` a 413, each naming the field.
The JSON API sits behind the server's API key when it has one; the page asks for the key.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

from scratchlm.serve.lab_page import ASSETS, asset, render_lab_page
from scratchlm.serve.requests import APIError, parse_json, read_body, validate

if TYPE_CHECKING:
    from scratchlm.serve.app import ServeSettings
    from scratchlm.training.run_dir import LoadedRun
    from scratchlm.viz.token_tiers import TokenTiers

MAX_NEIGHBOURS = 50


class InspectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run: StrictStr = Field(description="The run's name, as GET /lab/api/runs lists it.")
    text: StrictStr = Field(description="The text to read (Chinese or English).")


class NeighboursRequest(InspectRequest):
    position: StrictInt = Field(ge=0, description="The position (0: [CLS] for a classifier) of the token.")
    k: StrictInt = Field(8, ge=1, le=MAX_NEIGHBOURS, description="How many neighbours of each kind.")
    texts: list[StrictStr] = Field(
        default_factory=list,
        description="Other texts whose positions the contextual vector is compared with.",
    )


class LabState:
    """The runs a lab shows (by unique name) and each run's token tiers, read once on first use."""

    def __init__(self, runs: list[LoadedRun]):
        from scratchlm.errors import ConfigError
        from scratchlm.viz.lab_report import lab_reads

        self.runs: dict[str, LoadedRun] = {}
        for run in runs:
            if (why := lab_reads(run)) is not None:
                raise ConfigError(why)
            name, n = run.path.name, 2
            while name in self.runs:  # two runs called the same in different folders
                name, n = f"{run.path.name} ({n})", n + 1
            self.runs[name] = run
        self._tiers: dict[str, TokenTiers] = {}
        self._lock = threading.Lock()

    def run(self, name: str) -> LoadedRun:
        if name not in self.runs:
            raise APIError(
                422,
                "invalid_request",
                f"run: no run named {name!r} here; the runs: {', '.join(self.runs)}",
                details=[{"loc": "run", "msg": "unknown run", "type": "value_error"}],
            )
        return self.runs[name]

    def tiers(self, name: str) -> TokenTiers:
        from scratchlm.viz.token_tiers import token_tiers

        with self._lock:
            if name not in self._tiers:
                self._tiers[name] = token_tiers(self.runs[name])
            return self._tiers[name]

    def describe(self) -> list[dict[str, Any]]:
        from scratchlm.viz.lab_report import describe_run

        return [{**describe_run(run), "name": name} for name, run in self.runs.items()]


# ------------------------------------------------------------------------------------------- checks
def _check_text(field: str, text: str, settings: ServeSettings) -> None:
    if len(text) > settings.max_chars:
        raise APIError(
            413,
            "limit_exceeded",
            f"{field} has {len(text)} characters; the limit max_chars is {settings.max_chars}",
            limit="max_chars",
            max=settings.max_chars,
        )
    if not text.strip():
        raise APIError(422, "invalid_request", f"{field}: the text is empty or only whitespace; type a text")


async def _read(request: Request, model: type[BaseModel]) -> Any:
    settings = request.app.state.settings
    body = validate(model, parse_json(await read_body(request, settings.max_body_bytes)))
    _check_text("text", body.text, settings)
    return body


def _check_neighbours(body: NeighboursRequest, settings: ServeSettings) -> None:
    if len(body.texts) > settings.max_texts:
        raise APIError(
            413,
            "limit_exceeded",
            f"texts has {len(body.texts)} texts; the limit max_texts is {settings.max_texts}",
            limit="max_texts",
            max=settings.max_texts,
        )
    for i, text in enumerate(body.texts):
        _check_text(f"texts.{i}", text, settings)


def _neighbours(run: LoadedRun, body: NeighboursRequest) -> dict[str, Any]:
    from scratchlm.viz.neighbours import contextual_neighbours, static_neighbours

    ids, tokens, _ = run.handler().model_inputs(run, body.text)
    if body.position >= len(ids):
        raise APIError(
            422,
            "invalid_request",
            f"position: {body.position} is past the last position of the text "
            f"({len(ids)} positions, 0 to {len(ids) - 1})",
        )
    return {
        "run": body.run,
        "position": body.position,
        "token": tokens[body.position],
        "id": ids[body.position],
        "unk": ids[body.position] == run.tokenizer.vocab.unk_id,
        "static": static_neighbours(run, ids[body.position], body.k),
        "contextual": contextual_neighbours(run, body.text, body.position, body.texts, body.k),
    }


# ------------------------------------------------------------------------------------------- routes
pages = APIRouter(include_in_schema=False)
# not in /docs: the model API's page (and its pinned operation list) stays as it is
api = APIRouter(prefix="/lab/api", tags=["lab"], include_in_schema=False)


async def _compute(fn, *args) -> Any:
    """``fn(*args)`` off the event loop; a user error in it (a text the run cannot read) is a 422."""
    from scratchlm.errors import ScratchLMError

    try:
        return await run_in_threadpool(fn, *args)
    except ScratchLMError as exc:
        raise APIError(422, "invalid_request", f"text: {exc}") from None


@pages.get("/lab", response_class=HTMLResponse)
async def lab_page(request: Request) -> HTMLResponse:
    state = request.app.state
    root = request.scope.get("root_path", "")
    return HTMLResponse(
        render_lab_page(state.lab.describe(), needs_key=state.settings.api_key is not None, root=root)
    )


@pages.get("/lab/static/{name}")
async def lab_asset(name: str) -> Response:
    if name not in ASSETS or name.endswith(".html"):
        raise APIError(404, "not_found", f"no such lab file: {name}")
    return Response(asset(name), media_type=ASSETS[name])


@api.get("/runs", summary="The runs the lab shows")
async def lab_runs(request: Request) -> dict:
    return {"runs": request.app.state.lab.describe()}


@api.post("/inspect", summary="Every step of one text becoming vectors, for one run")
async def lab_inspect(request: Request) -> dict:
    from scratchlm.viz.lab_report import lab_report

    body = await _read(request, InspectRequest)
    lab = request.app.state.lab
    run = lab.run(body.run)
    tiers = await run_in_threadpool(lab.tiers, body.run)
    report = await _compute(lab_report, run, body.text, tiers)
    report["run"]["name"] = body.run
    return report


@api.post("/neighbours", summary="Nearest static rows and contextual vectors of one token")
async def lab_neighbours(request: Request) -> dict:
    body = await _read(request, NeighboursRequest)
    _check_neighbours(body, request.app.state.settings)
    run = request.app.state.lab.run(body.run)
    return await _compute(_neighbours, run, body)


def include(app: FastAPI, dependencies: list) -> None:
    """The lab's page and API on ``app`` (whose state has ``settings`` and ``lab``)."""
    app.include_router(pages)
    app.include_router(api, dependencies=dependencies)


def mount(app: FastAPI) -> None:
    """``/lab`` for the run of a :func:`scratchlm.serve.app.create_app` app, behind its API key, when the
    lab can read it."""
    from scratchlm.serve.routes import v1_dependencies
    from scratchlm.viz.lab_report import lab_reads

    if lab_reads(app.state.run) is None:  # a seq2seq model is served without a lab
        app.state.lab = LabState([app.state.run])
        include(app, v1_dependencies(app.state.settings.api_key))


__all__ = ["LabState", "include", "mount"]
