"""Loading pretrained vectors: gensim 4.4 vs scratchlm, side by side in one run.

Cases (every load runs in a fresh process that reports its wall time and peak memory):
1. GloVe 6B 50d as text, 400,000 x 50, 171 MB: written once from the ``glove-6b-50d`` built-in to a
   temporary file (no header). gensim ``KeyedVectors.load_word2vec_format(path, no_header=True)`` vs
   ``scratchlm.vectors.io.load_vectors(path)``.
2. word2vec binary, synthetic (default 300,000 x 300, 363 MB, and the GoogleNews shape 3,000,000 x
   300, 3.6 GB; ``--binary-shape``): random vectors, words ``w0 .. wN``. gensim
   ``load_word2vec_format(path, binary=True)`` vs scratchlm; reading the file's bytes once
   (``raw I/O``) is the floor.
3. The cache (``scratchlm vectors convert``): ``load_vectors(CACHE)`` in a fresh process, and
   ``scratchlm vectors info CACHE`` as a whole process (Python start-up included).

Files are read from the page cache (each is read once before timing). The tools take turns (one load
of each, then again), so a slow spell of the machine falls on all of them. Imports happen before the
clock starts for every tool (gensim's, and scratchlm's including polars, which its text reader imports
on first use). ``seconds`` is wall time, ``cpu s`` the process's user + system time during the load
(all threads: on a shared machine it moves less than the wall time). ``load MB`` is the peak resident
memory minus the resident memory just before the load (after the imports); the matrix and the
vocabulary are what the result must hold.

    .venv/bin/python benchmarks/vectors_load.py            # about 6 minutes on 2 cores
    .venv/bin/python benchmarks/vectors_load.py --quick    # 50k-word files, seconds

Writes ``benchmarks/results/vectors_load.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "vectors_load.json"

CHILD = r"""
import json, sys, time
kind, path = sys.argv[1], sys.argv[2]
def status_mb(field):  # VmHWM: this process's peak RSS (ru_maxrss would include the parent's, kept over exec)
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(field + ":")) / 1024
if kind.startswith("gensim"):
    from gensim.models import KeyedVectors
    load = lambda: KeyedVectors.load_word2vec_format(path, binary=kind == "gensim-binary",
                                                     no_header=kind == "gensim-glove")
elif kind == "raw":
    load = lambda: open(path, "rb").read()
else:
    from scratchlm.vectors.io import load_vectors
    from scratchlm.vectors.text import _polars
    _polars()  # imported before the clock starts, as gensim's modules are
    load = lambda: load_vectors(path)
import numpy, os
base = status_mb("VmRSS")
cpu0 = sum(os.times()[:2])
t0 = time.perf_counter()
result = load()
seconds = time.perf_counter() - t0
cpu = sum(os.times()[:2]) - cpu0  # user + system of all the process's threads
shape = list(getattr(result, "vectors", getattr(result, "matrix", numpy.empty((0, 0)))).shape)
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "base_mb": base, "peak_mb": status_mb("VmHWM"),
                  "shape": shape}))
"""


def child(kind: str, path: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(path)], capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode:
        raise SystemExit(f"{kind} {path} failed:\n{done.stderr}")
    r = json.loads(done.stdout.strip().splitlines()[-1])
    r["load_mb"] = r["peak_mb"] - r["base_mb"]
    return r


def best_of(kinds: list[str], path: Path, repeat: int) -> dict[str, dict]:
    """Each tool ``repeat`` times, in rounds (tool 1, tool 2, ..., tool 1, ...): a slow spell of the
    machine (on this VM, fresh memory after a pause) then falls on every tool alike."""
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for _ in range(repeat):
        for kind in kinds:
            runs[kind].append(child(kind, path))
    results = {}
    for kind, done in runs.items():
        best = min(done, key=lambda r: r["seconds"])
        best["runs"] = [round(r["seconds"], 3) for r in done]
        best["median_seconds"] = statistics.median(r["seconds"] for r in done)
        results[kind] = best
    return results


def whole_process(argv: list[str], repeat: int) -> dict:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
    return {"seconds": min(times), "median": statistics.median(times), "runs": [round(t, 3) for t in times]}


def write_glove_text(path: Path, max_words: int | None) -> tuple[int, int]:
    from scratchlm.vectors.io import load_vectors, write_text

    glove = load_vectors("glove-6b-50d", max_words=max_words)
    # 5 significant digits give the size of the published glove.6B.50d.txt (171,350,079 bytes)
    write_text(path, glove, header=False, precision=5)
    return glove.shape


def parse_shape(text: str) -> tuple[int, int]:
    rows, _, dims = text.strip().lower().partition("x")
    if not (rows.isdigit() and dims.isdigit()):
        raise SystemExit(f"--binary-shape: expected ROWSxDIMS like 300000x300, got {text!r}")
    return int(rows), int(dims)


def write_binary(path: Path, n: int, d: int) -> None:
    from scratchlm.vectors.binary import write_word2vec_binary

    rng = np.random.default_rng(0)
    write_word2vec_binary(path, [f"w{i}" for i in range(n)], rng.standard_normal((n, d), dtype=np.float32))


def warm(path: Path) -> None:
    with open(path, "rb") as fh:
        while fh.read(1 << 24):
            pass


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="50k-word GloVe text and a 50k x 300 binary")
    ap.add_argument(
        "--binary-shape",
        default="300000x300,3000000x300",
        help="rows x dims of the synthetic word2vec binaries, comma-separated",
    )
    ap.add_argument(
        "--repeat", type=int, default=5, help="loads per case and tool (best kept, median recorded)"
    )
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    shapes = [(50_000, 300)] if args.quick else [parse_shape(s) for s in args.binary_shape.split(",")]
    rows: list[dict] = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="vectors-bench-") as tmp:
        tmp = Path(tmp)
        glove = tmp / "glove.6B.50d.txt"
        shape = write_glove_text(glove, 50_000 if args.quick else None)
        cache = tmp / "glove.cache"
        subprocess.run(
            [sys.executable, "-m", "scratchlm", "vectors", "convert", str(glove), "--out", str(cache)],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        warm(glove)
        case_text = f"GloVe text {shape[0]}x{shape[1]} ({glove.stat().st_size / 1e6:.0f} MB)"
        print(f"gensim and scratchlm: {case_text} ...", flush=True)
        text = best_of(["gensim-glove", "scratchlm"], glove, args.repeat)
        rows.append(
            {"case": case_text, "tool": "gensim load_word2vec_format(no_header=True)", **text["gensim-glove"]}
        )
        rows.append({"case": case_text, "tool": "scratchlm load_vectors", **text["scratchlm"]})
        cases = [case_text]
        for n_bin, d_bin in shapes:  # one file at a time: the 3M x 300 one is 3.6 GB
            binary = tmp / "vectors.bin"
            write_binary(binary, n_bin, d_bin)
            warm(binary)
            case_bin = f"word2vec binary {n_bin}x{d_bin} ({binary.stat().st_size / 1e6:.0f} MB, synthetic)"
            cases.append(case_bin)
            print(f"gensim, scratchlm and a raw read: {case_bin} ...", flush=True)
            tools = {
                "gensim-binary": "gensim load_word2vec_format(binary=True)",
                "scratchlm": "scratchlm load_vectors",
                "raw": "raw I/O (read the bytes)",
            }
            for kind, result in best_of(list(tools), binary, args.repeat).items():
                rows.append({"case": case_bin, "tool": tools[kind], **result})
            binary.unlink()
        case_cache = f"cache of the GloVe {shape[0]}x{shape[1]}"
        cached = best_of(["scratchlm"], cache, args.repeat)["scratchlm"]
        rows.append({"case": case_cache, "tool": "scratchlm load_vectors (memory map)", **cached})
        info = whole_process([sys.executable, "-m", "scratchlm", "vectors", "info", str(cache)], 5)
        rows.append({"case": case_cache, "tool": "`scratchlm vectors info CACHE`, whole process", **info})
    for case in cases:
        gensim_s = next(r["seconds"] for r in rows if r["case"] == case and r["tool"].startswith("gensim"))
        gensim_median = next(
            r["median_seconds"] for r in rows if r["case"] == case and r["tool"].startswith("gensim")
        )
        for r in rows:
            if r["case"] == case:
                r["speedup_vs_gensim"] = round(gensim_s / r["seconds"], 1)
                r["median_speedup_vs_gensim"] = round(gensim_median / r["median_seconds"], 1)
    matrix_mb = shape[0] * shape[1] * 4 / 2**20
    print()
    print("| case | tool | best s | x gensim | median s | x gensim | cpu s | load MB | peak MB |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        load = f"{r['load_mb']:.0f}" if "load_mb" in r else ""
        peak = f"{r['peak_mb']:.0f}" if "peak_mb" in r else ""
        cpu = f"{r['cpu_seconds']:.2f}" if "cpu_seconds" in r else ""
        speed = f"{r['speedup_vs_gensim']:.1f}" if "speedup_vs_gensim" in r else ""
        median = r.get("median_seconds", r.get("median"))
        mspeed = f"{r['median_speedup_vs_gensim']:.1f}" if "median_speedup_vs_gensim" in r else ""
        print(
            f"| {r['case']} | {r['tool']} | {r['seconds']:.3f} | {speed} | {median:.3f} | {mspeed} | {cpu} "
            f"| {load} | {peak} |"
        )
    print(
        f"\nGloVe matrix {matrix_mb:.0f} MB (float32); machine: {os.cpu_count()} CPUs, {platform.python_version()}, "
        f"load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    import gensim

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "command": "python benchmarks/vectors_load.py" + (" --quick" if args.quick else ""),
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "numpy": np.__version__,
                    "gensim": gensim.__version__,
                    "platform": platform.platform(),
                },
                "load_average": {"before": load_before, "after": os.getloadavg()},
                "glove_matrix_mb": round(matrix_mb, 1),
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
