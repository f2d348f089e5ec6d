"""The app of ``scratchlm lab RUN...``: the lab (:mod:`scratchlm.serve.lab`) for several runs side by
side, with the error handlers of the model server (every error JSON) and ``/`` sending to ``/lab``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from scratchlm.serve import lab
from scratchlm.serve.app import EXCEPTION_HANDLERS, ServeSettings

if TYPE_CHECKING:
    from scratchlm.training.run_dir import LoadedRun


def create_lab_app(runs: list[LoadedRun], settings: ServeSettings | None = None) -> FastAPI:
    """The lab of ``runs`` (in that order, one column each)."""
    settings = settings or ServeSettings()
    app = FastAPI(
        title="scratchlm lab: " + ", ".join(r.path.name for r in runs),
        description="The input-layer lab: GET /lab; its JSON API under /lab/api. "
        'Errors are JSON: {"error": {"code", "message"}}.',
    )
    app.state.settings = settings
    app.state.lab = lab.LabState(runs)
    for kind, handler in EXCEPTION_HANDLERS.items():
        app.add_exception_handler(kind, handler)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("lab")

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        return {"status": "ok", "runs": list(app.state.lab.runs)}

    lab.include(app, [])
    return app
