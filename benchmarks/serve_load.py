"""Serving under load: micro-batching on (``--max-batch 32``) vs off (``--max-batch 1``), side by side.

For each setting, ``scratchlm serve`` starts in a subprocess on 127.0.0.1 (a free port), answers 200
warm-up requests, then 64 concurrent clients (keep-alive HTTP/1.1 connections on asyncio streams,
see :class:`Connection`) send 10,000
``POST /v1/classify`` requests of one text each: real reviews from the zh-reviews dev and test splits,
cycled. Reported per setting: errors (any status other than 200, or a transport error), requests/s
over the measured phase, client-side latency p50/p90/p99, the mean texts per micro-batch (from the
server's /healthz counters), and the CPU time the server and the clients spent per request.

The model has the demo recipe's architecture (configs/zh_sentiment.yaml: 2 layers, d=128, 200k
bigram buckets, max_seq_len 160) with random weights: throughput does not depend on what the weights
learned, and no training is needed (``--run RUN`` serves a trained run instead). Client and server
share this machine's cores, as they would on one host.

Everything is bounded: a fixed number of requests, 30 s per request, ``--time-limit`` seconds per
setting (the run stops and reports what it had), and only loopback addresses.

    .venv/bin/python benchmarks/serve_load.py            # 10,000 requests per setting (a few minutes on 2 cores)
    .venv/bin/python benchmarks/serve_load.py --quick    # 1,000 requests per setting, no results file

Writes ``benchmarks/results/serve_load.json`` and prints a markdown table.

``--reliability`` measures instead what admission control does (``benchmarks/results/serve_reliability.json``):

- **baseline**: 64 clients, the server's defaults: what it can serve;
- **overload**: 10x the clients (640), each sending its next request as soon as it has an answer (after
  ``Retry-After`` when it was a 503), against the server with admission control (``--max-concurrency 64
  --timeout 5``) and, side by side, without it (limits too high to act): answers by status, transport
  errors (there must be none: every request gets an answer, a result or a 503), p50/p99 of the accepted
  requests, and the server's peak memory (VmHWM);
- **slow clients**: 32 clients that send their headers and part of their body, then stall, while 64
  normal clients run against the defaults with ``--timeout 5``: the slow ones must get 408 at the
  deadline, the others their results.

    .venv/bin/python benchmarks/serve_load.py --reliability           # 2,000 / 10,000 / 1,000 requests
    .venv/bin/python benchmarks/serve_load.py --reliability --quick   # a tenth of them, no results file
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "serve_load.json"
RELIABILITY = ROOT / "benchmarks" / "results" / "serve_reliability.json"
HOST = "127.0.0.1"  # loopback only


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def demo_architecture_run(directory: Path) -> tuple[Path, list[str]]:
    """A random-weight run with the demo recipe's architecture, its vocabulary from zh-reviews train."""
    from scratchlm.config import load_config
    from scratchlm.data import load_classification_data
    from scratchlm.serve.synthetic import write_random_run

    cfg = load_config(ROOT / "configs" / "zh_sentiment.yaml")
    cfg.data.task = "classification"  # the recipe says auto; a run records the task it resolved to
    data = load_classification_data(cfg.data)
    run = write_random_run(
        directory / "demo-architecture", cfg, [ex.text for ex in data.split("train")], data.labels
    )
    return run, [ex.text for ex in data.split("dev") + data.split("test")]


def run_texts(run: Path) -> list[str]:
    from scratchlm.data import load_classification_data
    from scratchlm.training.run_dir import read_run_config

    data = load_classification_data(read_run_config(run).data)
    return [ex.text for ex in data.split("dev") + data.split("test")]


class Server:
    def __init__(
        self, run: Path, max_batch: int, max_wait_ms: float, threads: int | None, extra: tuple[str, ...] = ()
    ):
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        cmd = [
            sys.executable,
            "-m",
            "scratchlm",
            "serve",
            str(run),
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--max-batch",
            str(max_batch),
            "--max-wait-ms",
            str(max_wait_ms),
            "--max-queue",
            "100000",
            "--log-level",
            "warning",
            *extra,
        ]
        if threads:
            cmd += ["--threads", str(threads)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {self.proc.returncode}: {self.proc.stdout.read()}"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {timeout} s")

    def stats(self) -> dict:
        out = httpx.get(f"{self.url}/healthz", timeout=10).json()
        out["cpu_seconds"] = self.cpu_seconds()
        return out

    def peak_rss_mb(self) -> float:
        """The server's peak resident memory so far (Linux /proc VmHWM), MB."""
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except (OSError, ValueError):
            pass
        return float("nan")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (Linux /proc)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()


class Connection:
    """One keep-alive HTTP/1.1 connection over asyncio streams: the cheapest client Python has.

    httpx's async client spends 3-6 ms of CPU per request here, more than the server, and on 2 shared
    cores it would mostly measure itself; this one spends a few tenths of a millisecond."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.last_headers: dict[str, str] = {}

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
        }
        if "content-length" not in headers:
            raise ConnectionError("response without Content-Length")
        payload = await self.reader.readexactly(int(headers["content-length"]))
        self.last_headers = headers
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, payload

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


async def load(
    port: int, texts: list[str], requests: int, concurrency: int, time_limit: float, backoff: bool = False
) -> dict:
    """``requests`` POSTs from ``concurrency`` clients; latencies of the good answers, and the errors.
    ``backoff``: a client answered 503 waits ``Retry-After`` seconds before its next request, as a
    well-behaved client does."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    counter = itertools.count()
    bodies = [json.dumps({"texts": [t]}, ensure_ascii=False).encode() for t in texts]

    def error(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    async def client() -> None:
        conn = Connection(port)
        try:
            while (i := next(counter)) < requests:
                t0 = time.perf_counter()
                try:
                    status, payload = await asyncio.wait_for(
                        conn.post("/v1/classify", bodies[i % len(bodies)]), 30
                    )
                except (
                    OSError,
                    asyncio.IncompleteReadError,
                    asyncio.TimeoutError,
                    ConnectionError,
                    ValueError,
                ) as exc:
                    error(type(exc).__name__)
                    await conn.close()
                    continue
                if status == 200 and b'"label"' in payload:
                    latencies.append(time.perf_counter() - t0)
                else:
                    error(str(status))
                    if backoff and status == 503:
                        await asyncio.sleep(float(conn.last_headers.get("retry-after", "1")))
        finally:
            await conn.close()

    start = time.perf_counter()
    tasks = [asyncio.create_task(client()) for _ in range(concurrency)]
    _, pending = await asyncio.wait(tasks, timeout=time_limit)
    for t in pending:
        t.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    seconds = time.perf_counter() - start
    if pending:
        errors["time_limit"] = max(0, requests - len(latencies) - sum(errors.values()))
    return {"latencies": latencies, "errors": errors, "seconds": seconds}


def percentile(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1]
        if len(values) > 1
        else values[0]
    )


def measure(run: Path, texts: list[str], max_batch: int, args: argparse.Namespace) -> dict:
    server = Server(run, max_batch, args.max_wait_ms, args.threads)
    try:
        server.wait_ready()
        asyncio.run(load(server.port, texts, 200, args.concurrency, 120))  # warm-up, not counted
        before = server.stats()
        client_before = time.process_time()
        result = asyncio.run(
            load(server.port, texts[200:] + texts[:200], args.requests, args.concurrency, args.time_limit)
        )
        client_cpu = time.process_time() - client_before
        after = server.stats()
    finally:
        server.stop()
    lat = result["latencies"]
    passes = after["batches"] - before["batches"]
    return {
        "max_batch": max_batch,
        "max_wait_ms": args.max_wait_ms,
        "requests": args.requests,
        "ok": len(lat),
        "errors": sum(result["errors"].values()),
        "error_kinds": result["errors"],
        "seconds": round(result["seconds"], 2),
        "requests_per_s": round(len(lat) / result["seconds"], 1),
        "p50_ms": round(1000 * percentile(lat, 50), 1) if lat else None,
        "p90_ms": round(1000 * percentile(lat, 90), 1) if lat else None,
        "p99_ms": round(1000 * percentile(lat, 99), 1) if lat else None,
        "texts_per_batch": round((after["texts"] - before["texts"]) / passes, 2) if passes else None,
        "server_cpu_ms_per_request": round(
            1000 * (after["cpu_seconds"] - before["cpu_seconds"]) / max(1, len(lat)), 2
        ),
        "client_cpu_ms_per_request": round(1000 * client_cpu / max(1, len(lat)), 2),
    }


def forward_costs(run: Path, texts: list[str], threads: int | None, seconds: float = 3.0) -> list[dict]:
    """In this process, without HTTP: model time per text for batches of 32 random texts, run as one
    padded pass, as the server runs them (similar-length passes padded by at most 25%), and one text
    per pass (what --max-batch 1 does)."""
    import random

    import torch

    from scratchlm.predict.classify import classify_encoded, encode_texts
    from scratchlm.training.run_dir import load_run

    if threads:
        torch.set_num_threads(threads)
    loaded = load_run(run)
    rng = random.Random(0)
    batches = [encode_texts(loaded, rng.sample(texts, 32)) for _ in range(50)]
    rows = []
    for name, batch_size, max_padding in (
        ("one padded pass of 32", 32, None),
        ("passes padded by <= 25% (the server)", 32, 0.25),
        ("one text per pass", 1, None),
    ):
        classify_encoded(loaded, batches[0], batch_size, max_padding)  # warm-up
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            classify_encoded(loaded, batches[n % len(batches)], batch_size, max_padding)
            n += 1
        rows.append(
            {"passes": name, "ms_per_text": round(1000 * (time.perf_counter() - start) / (32 * n), 3)}
        )
    return rows


def table(rows: list[dict]) -> str:
    lines = [
        "| micro-batching | requests | errors | requests/s | p50 ms | p90 ms | p99 ms | texts per batch |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        name = (
            f"on (--max-batch {r['max_batch']}, --max-wait-ms {r['max_wait_ms']:g})"
            if r["max_batch"] > 1
            else "off (--max-batch 1)"
        )
        lines.append(
            f"| {name} | {r['requests']} | {r['errors']} | {r['requests_per_s']} | {r['p50_ms']} | "
            f"{r['p90_ms']} | {r['p99_ms']} | {r['texts_per_batch']} |"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ reliability
ADMISSION = ("--max-concurrency", "64", "--timeout", "5", "--max-queue", "512")
NO_ADMISSION = ("--max-concurrency", "100000", "--timeout", "3600", "--max-queue", "100000")


def load_row(name: str, server: Server, result: dict, requests: int, concurrency: int) -> dict:
    lat, errors = result["latencies"], result["errors"]
    transport = {k: v for k, v in errors.items() if not k.isdigit()}
    return {
        "case": name,
        "clients": concurrency,
        "requests": requests,
        "ok": len(lat),
        "status_503": errors.get("503", 0),
        "other_status": {k: v for k, v in errors.items() if k.isdigit() and k != "503"},
        "transport_errors": transport,
        "seconds": round(result["seconds"], 2),
        "ok_per_s": round(len(lat) / result["seconds"], 1),
        "p50_ms": round(1000 * percentile(lat, 50), 1) if lat else None,
        "p99_ms": round(1000 * percentile(lat, 99), 1) if lat else None,
        "server_peak_rss_mb": server.peak_rss_mb(),
    }


def load_case(run, texts, args, name: str, extra: tuple[str, ...], requests: int, clients: int) -> dict:
    server = Server(run, args.max_batch, args.max_wait_ms, args.threads, extra)
    try:
        server.wait_ready()
        asyncio.run(load(server.port, texts, 200, 64, 120))  # warm-up, not counted
        result = asyncio.run(load(server.port, texts, requests, clients, args.time_limit, backoff=True))
        return load_row(name, server, result, requests, clients)
    finally:
        server.stop()


async def slow_sender(port: int, stall: float) -> tuple[int | None, float]:
    """Headers and 10 of 100 announced body bytes, then nothing: (the status answered, seconds to it)."""
    t0 = time.perf_counter()
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(
            f"POST /v1/classify HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
            "Content-Length: 100\r\n\r\n".encode()
            + b'{"texts": '
        )
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), stall)
        return int(head.split()[1]), time.perf_counter() - t0
    except (asyncio.TimeoutError, asyncio.IncompleteReadError, OSError):
        return None, time.perf_counter() - t0
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def slow_client_case(run, texts, args, requests: int, slow: int = 32) -> dict:
    server = Server(run, args.max_batch, args.max_wait_ms, args.threads, ("--timeout", "5"))
    try:
        server.wait_ready()
        asyncio.run(load(server.port, texts, 200, 64, 120))  # warm-up, not counted

        async def both():
            stalled = [asyncio.create_task(slow_sender(server.port, 60)) for _ in range(slow)]
            await asyncio.sleep(0.2)  # the slow ones hold their connections first
            normal = await load(server.port, texts, requests, 64, args.time_limit)
            return normal, await asyncio.gather(*stalled)

        normal, stalled = asyncio.run(both())
        row = load_row("64 normal clients + 32 slow senders", server, normal, requests, 64)
    finally:
        server.stop()
    statuses: dict[str, int] = {}
    for status, _ in stalled:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    row["slow_senders"] = {
        "count": slow,
        "answered": statuses,
        "max_seconds_to_answer": round(max(t for _, t in stalled), 2),
    }
    return row


def reliability(run, texts, args) -> dict:
    scale = 10 if args.quick else 1
    base, over, slow = 2000 // scale, 10_000 // scale, 1000 // scale
    rows = []
    for name, extra, requests, clients in (
        ("baseline: 64 clients, defaults", (), base, 64),
        ("overload: 640 clients, admission control (--max-concurrency 64 --timeout 5)", ADMISSION, over, 640),
        ("overload: 640 clients, no admission control", NO_ADMISSION, over, 640),
    ):
        print(f"{name}: {requests} requests ...", flush=True)
        rows.append(load_case(run, texts, args, name, extra, requests, clients))
        print(f"  {rows[-1]}", flush=True)
    print(f"slow senders: {slow} requests from 64 normal clients, 32 slow ones ...", flush=True)
    rows.append(slow_client_case(run, texts, args, slow))
    print(f"  {rows[-1]}", flush=True)
    return {"benchmark": "serve_reliability", "rows": rows}


def reliability_table(rows: list[dict]) -> str:
    lines = [
        "| case | requests | 200 | 503 | other answers | transport errors | p50 ms | p99 ms | server peak MB |",
        "|---|---:|---:|---:|---|---|---:|---:|---:|",
    ]
    for r in rows:
        other = ", ".join(f"{k}: {v}" for k, v in r["other_status"].items()) or "none"
        transport = ", ".join(f"{k}: {v}" for k, v in r["transport_errors"].items()) or "none"
        lines.append(
            f"| {r['case']} | {r['requests']} | {r['ok']} | {r['status_503']} | {other} | {transport} | "
            f"{r['p50_ms']} | {r['p99_ms']} | {r['server_peak_rss_mb']} |"
        )
    for r in rows:
        if "slow_senders" in r:
            s = r["slow_senders"]
            answered = ", ".join(f"{k}: {v}" for k, v in s["answered"].items())
            lines.append(
                f"\nslow senders: {s['count']}, answered {answered} (None: no answer), the last after "
                f"{s['max_seconds_to_answer']} s"
            )
    return "\n".join(lines)


def main_reliability(args: argparse.Namespace) -> int:
    import torch

    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        if args.run:
            run, texts = args.run, run_texts(args.run)
        else:
            run, texts = demo_architecture_run(Path(tmp))
        result = reliability(run, texts, args)
    result["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__}
    result["command"] = "python benchmarks/serve_load.py --reliability" + (" --quick" if args.quick else "")
    out = args.out if args.out is not None else (None if args.quick else RELIABILITY)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print()
    print(reliability_table(result["rows"]))
    admitted = result["rows"][1]
    return 0 if not admitted["transport_errors"] else 1


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, help="serve this run (default: the demo architecture, random weights)")
    p.add_argument("--requests", type=int, default=10_000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--max-batch", type=int, default=32, help="the batched setting (compared with 1)")
    p.add_argument("--max-wait-ms", type=float, default=5.0)
    p.add_argument("--threads", type=int, default=None, help="server torch threads (default: torch's choice)")
    p.add_argument(
        "--time-limit", type=float, default=900, help="seconds per setting before the run is cut off"
    )
    p.add_argument("--quick", action="store_true", help="1,000 requests per setting")
    p.add_argument(
        "--reliability",
        action="store_true",
        help="the overload (10x clients) and slow-client cases instead (serve_reliability.json)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"results file (default: {RESULTS.relative_to(ROOT)}; --quick writes none unless given)",
    )
    args = p.parse_args(argv)
    if args.reliability:
        return main_reliability(args)
    if args.quick:
        args.requests = 1000
    elif args.out is None:
        args.out = RESULTS

    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        if args.run:
            run, texts = args.run, run_texts(args.run)
            model = str(args.run)
        else:
            run, texts = demo_architecture_run(Path(tmp))
            model = "configs/zh_sentiment.yaml architecture, random weights"
        rows = []
        for max_batch in (args.max_batch, 1):
            print(
                f"max_batch {max_batch}: {args.requests} requests, {args.concurrency} clients ...", flush=True
            )
            rows.append(measure(run, texts, max_batch, args))
            r = rows[-1]
            print(
                f"  {r['requests_per_s']} requests/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, {r['errors']} errors; "
                f"CPU ms per request: server {r['server_cpu_ms_per_request']}, clients {r['client_cpu_ms_per_request']}",
                flush=True,
            )

        print("model time per text, no HTTP ...", flush=True)
        costs = forward_costs(run, texts, args.threads)

    speedup = rows[0]["requests_per_s"] / rows[1]["requests_per_s"] if rows[1]["requests_per_s"] else None
    import torch

    result = {
        "benchmark": "serve_load",
        "model": model,
        "concurrency": args.concurrency,
        "requests_per_setting": args.requests,
        "rows": rows,
        "model_ms_per_text": costs,
        "throughput_ratio_batched_vs_unbatched": round(speedup, 2) if speedup else None,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "torch_threads": args.threads or "default",
        },
        "command": "python benchmarks/serve_load.py" + (" --quick" if args.quick else ""),
    }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print()
    print(table(rows))
    print("\n| batch of 32 reviews run as | model ms per text |\n|---|---:|")
    for c in costs:
        print(f"| {c['passes']} | {c['ms_per_text']} |")
    print(
        f"\nthroughput with micro-batching / without: {result['throughput_ratio_batched_vs_unbatched']}x "
        f"({os.cpu_count()} CPU cores shared by the server and the clients)"
        + (f"; written to {args.out}" if args.out else "")
    )
    return 0 if all(r["errors"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
