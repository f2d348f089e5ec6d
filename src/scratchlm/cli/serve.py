"""``scratchlm serve RUN``: the HTTP API and the try-it page of a run, under uvicorn."""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys

from scratchlm.errors import ConfigError, require

API_KEY_ENV = "SCRATCHLM_API_KEY"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot listen on {host}:{port} ({exc.strerror}); choose another --port or --host"
            ) from None


def _allowed_hosts(args: argparse.Namespace) -> list[str] | None:
    """``--allowed-hosts a,b`` (``*``: any); default: the bound address and localhost (any host when
    bound to every interface)."""
    from scratchlm.serve.guard import default_allowed_hosts

    if args.allowed_hosts is None:
        return default_allowed_hosts(args.host)
    hosts = [h.strip() for h in args.allowed_hosts.split(",") if h.strip()]
    if not hosts:
        raise ConfigError("--allowed-hosts is empty; give host names (e.g. example.com,localhost) or *")
    return None if "*" in hosts else hosts


def _check_numbers(args: argparse.Namespace) -> None:
    """Every numeric option in range, before the run is loaded."""
    for name, minimum in (
        ("port", 1),
        ("max_batch", 1),
        ("max_texts", 1),
        ("max_chars", 1),
        ("max_body_bytes", 64),
        ("max_queue", 1),
        ("max_concurrency", 1),
        ("max_connections", 1),
    ):
        value = getattr(args, name)
        if value < minimum or (name == "port" and value > 65535):
            raise ConfigError(
                f"--{name.replace('_', '-')} {value}: must be >= {minimum}"
                + (" and <= 65535" if name == "port" else "")
            )
    if not 0 <= args.max_wait_ms <= 1000:
        raise ConfigError(f"--max-wait-ms {args.max_wait_ms}: must be between 0 and 1000")
    if args.max_texts > args.max_queue:
        raise ConfigError(
            f"--max-texts {args.max_texts} is more than --max-queue {args.max_queue}: a full request could "
            "never be queued behind another; raise --max-queue or lower --max-texts"
        )
    if not 0 < args.timeout <= 3600:
        raise ConfigError(f"--timeout {args.timeout}: must be more than 0 and at most 3600 seconds")


def cmd_serve(args: argparse.Namespace) -> int:
    require("fastapi", "serve", "scratchlm serve")
    require("uvicorn", "serve", "scratchlm serve")
    _check_numbers(args)
    allowed_hosts = _allowed_hosts(args)
    api_key = args.api_key if args.api_key is not None else os.environ.get(API_KEY_ENV) or None
    if api_key is not None and not api_key.strip():
        raise ConfigError("--api-key is empty; give a key or leave the option out")
    if args.threads is not None:
        if args.threads < 1:
            raise ConfigError(f"--threads {args.threads}: must be >= 1")
        import torch

        torch.set_num_threads(args.threads)

    import uvicorn

    from scratchlm.serve.app import ServeSettings, create_app
    from scratchlm.training.run_dir import load_run

    run = load_run(args.run)
    settings = ServeSettings(
        max_batch=args.max_batch,
        max_wait_ms=args.max_wait_ms,
        max_texts=args.max_texts,
        max_chars=args.max_chars,
        max_body_bytes=args.max_body_bytes,
        max_queue=args.max_queue,
        api_key=api_key,
        timeout=args.timeout,
        max_concurrency=args.max_concurrency,
        allowed_hosts=allowed_hosts,
    )
    app = create_app(run, settings)
    _check_port_free(args.host, args.port)
    if not _is_loopback(args.host) and api_key is None:
        print(
            f"warning: listening on {args.host} without an API key: anyone who can reach this machine can use "
            f"the model (give --api-key or set {API_KEY_ENV})",
            file=sys.stderr,
        )
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"serving {run.path} ({', '.join(run.labels)}) on http://{shown}:{args.port}/  "
        f"(API docs: /docs; micro-batching: up to {args.max_batch} texts, {args.max_wait_ms:g} ms wait"
        f"{'; API key required' if api_key else ''})",
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=args.log_level in ("debug", "info"),
        limit_concurrency=args.max_connections,  # beyond it uvicorn answers 503 itself
    )
    return 0


def register(subparsers) -> None:
    s = subparsers.add_parser(
        "serve",
        help="HTTP API + a page to try a run (needs scratchlm[serve])",
        description="Serve a run over HTTP: POST /v1/classify, /v1/embed (classifiers), /v1/tag (taggers); GET /v1/model, "
        "/healthz, / (a page to try it), /docs (OpenAPI).",
    )
    s.add_argument("run", help="run directory (the --out of scratchlm train)")
    s.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)"
    )
    s.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000)")
    s.add_argument(
        "--max-batch", type=int, default=32, help="most texts in one forward pass (1: no micro-batching)"
    )
    s.add_argument(
        "--max-wait-ms", type=float, default=5.0, help="how long a batch waits to fill (default: 5)"
    )
    s.add_argument(
        "--api-key",
        default=None,
        help=f"require this key on /v1/* (Authorization: Bearer KEY or X-API-Key: KEY); default: ${API_KEY_ENV}",
    )
    s.add_argument("--max-texts", type=int, default=64, help="texts per request (default: 64)")
    s.add_argument("--max-chars", type=int, default=10_000, help="characters per text (default: 10000)")
    s.add_argument(
        "--max-body-bytes", type=int, default=1_048_576, help="bytes per request body (default: 1 MiB)"
    )
    s.add_argument(
        "--max-queue", type=int, default=4096, help="texts waiting before requests get 503 (default: 4096)"
    )
    s.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds a request may take from arrival to answer; later: 408 (body still arriving), "
        "503 (texts still queued) or 504 (being run), with Retry-After (default: 30)",
    )
    s.add_argument(
        "--max-concurrency",
        type=int,
        default=256,
        help="most /v1/* requests in progress at once; more get 503 before their body is read (default: 256)",
    )
    s.add_argument(
        "--max-connections",
        type=int,
        default=1024,
        help="most open connections; more get 503 from uvicorn (default: 1024)",
    )
    s.add_argument(
        "--allowed-hosts",
        default=None,
        help="comma-separated Host header values answered, * for any (default: the --host address and "
        "localhost; any when --host is 0.0.0.0 or ::); others get 400, which stops DNS rebinding",
    )
    s.add_argument(
        "--threads", type=int, default=None, help="torch threads for the model (default: torch's choice)"
    )
    s.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="uvicorn log level; below info there is no access log",
    )
    s.set_defaults(func=cmd_serve)
