"""``GET /lab``: the lab page, built from three files shipped inside the package (``lab_assets/``:
``lab.html``, ``lab.css``, ``lab.js``); no CDN, no font or script fetched from anywhere else.

The HTML gets the runs and the page's root path as one JSON object (``window.LAB``); the script draws
every heatmap itself on ``<canvas>`` elements and calls the JSON API of :mod:`scratchlm.serve.lab`.
"""

from __future__ import annotations

import html
import json
from functools import cache
from importlib import resources
from typing import Any

ASSETS = {
    "lab.html": "text/html; charset=utf-8",
    "lab.css": "text/css; charset=utf-8",
    "lab.js": "text/javascript; charset=utf-8",
}
"""The lab's files and their media types."""


@cache
def asset(name: str) -> str:
    """The text of ``lab_assets/NAME`` (one of :data:`ASSETS`)."""
    return resources.files("scratchlm.serve").joinpath("lab_assets", name).read_text(encoding="utf-8")


def render_lab_page(runs: list[dict[str, Any]], *, needs_key: bool, root: str = "") -> str:
    """The page for ``runs`` (``GET /lab/api/runs``' entries); ``root``: the app's root path."""
    config = {"runs": runs, "needsKey": bool(needs_key), "root": root}
    # "</" never appears inside the JSON in the script element: a run name cannot close it
    payload = json.dumps(config, ensure_ascii=False).replace("</", "<\\/")
    title = "scratchlm lab: " + ", ".join(r["name"] for r in runs)
    return (
        asset("lab.html")
        .replace("__TITLE__", html.escape(title))
        .replace("__ROOT__", html.escape(root))
        .replace("__CONFIG__", payload)
    )
