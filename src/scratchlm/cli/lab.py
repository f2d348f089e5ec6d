"""``scratchlm lab [RUN ...]``: the input-layer lab of one or more runs, side by side, on a local web page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scratchlm.errors import ConfigError, require

DEFAULT_RUN = "runs/demo-zh-sentiment"


def cmd_lab(args: argparse.Namespace) -> int:
    require("fastapi", "serve", "scratchlm lab")
    require("uvicorn", "serve", "scratchlm lab")
    from scratchlm.cli.serve import _check_port_free, _is_loopback

    if not 1 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port}: must be between 1 and 65535")
    if args.max_chars < 1:
        raise ConfigError(f"--max-chars {args.max_chars}: must be >= 1")
    paths = args.runs or [DEFAULT_RUN]
    if not args.runs and not Path(DEFAULT_RUN).exists():
        raise ConfigError(
            f"no RUN given and no {DEFAULT_RUN} here: give a run directory, or make one with `make demo`"
        )
    if args.threads is not None:
        if args.threads < 1:
            raise ConfigError(f"--threads {args.threads}: must be >= 1")
        import torch

        torch.set_num_threads(args.threads)

    import uvicorn

    from scratchlm.serve.app import ServeSettings
    from scratchlm.serve.lab_app import create_lab_app
    from scratchlm.training.run_dir import load_run

    runs = [load_run(p) for p in paths]
    app = create_lab_app(runs, ServeSettings(max_chars=args.max_chars))
    _check_port_free(args.host, args.port)
    if not _is_loopback(args.host):
        print(
            f"warning: listening on {args.host}: anyone who can reach this machine can use the lab",
            file=sys.stderr,
        )
    shown = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown}:{args.port}/lab"
    print(f"the lab of {', '.join(str(r.path) for r in runs)}: open {url}", flush=True)
    if args.open:
        import webbrowser

        webbrowser.open(url)
    uvicorn.run(
        app, host=args.host, port=args.port, log_level=args.log_level, access_log=args.log_level == "debug"
    )
    return 0


def register(subparsers) -> None:
    s = subparsers.add_parser(
        "lab",
        help="a web page showing a text become vectors in one or more runs (needs scratchlm[serve])",
        description="Serve the input-layer lab of the runs given, side by side: type a text and see its normalisation, "
        "tokens, embedding rows, positions, attention, pooled vector, prediction and nearest neighbours. "
        "Also at /lab on `scratchlm serve RUN`.",
    )
    s.add_argument("runs", nargs="*", metavar="RUN", help=f"run directories (default: {DEFAULT_RUN})")
    s.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)"
    )
    s.add_argument("--port", type=int, default=8008, help="TCP port (default: 8008)")
    s.add_argument("--open", action="store_true", help="open the page in the default web browser")
    s.add_argument("--max-chars", type=int, default=2000, help="characters per text (default: 2000)")
    s.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    s.add_argument(
        "--log-level",
        default="warning",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn log level (default: warning)",
    )
    s.set_defaults(func=cmd_lab)
