"""Token shards at scale: ``scratchlm data prepare`` throughput (1 worker against N, the same char
tokenizer, one run) and the peak memory of an MLM run trained on the shards.

1. A synthetic corpus of ``--mb`` MB (UTF-8): lines of 20-200 characters, Chinese characters drawn
   Zipf-like from 3,000 code points with English words and digits mixed in (seeded, so every run writes
   the same file); a char tokenizer trained on its first 2 MB.
2. ``prepare`` of the first ``--slice-mb`` MB with 1 worker, then with ``--workers`` workers (MB/s of
   input; the shards of both are checked to be identical).
3. ``prepare`` of the whole corpus with ``--workers`` workers.
4. ``scratchlm train`` (masked LM, packed 128-token blocks, batch 16, ``--steps`` steps) on those shards
   in a child process; its peak resident memory (``ru_maxrss``) is the figure.

    .venv/bin/python benchmarks/token_shards.py --mb 256 --steps 300     # minutes on 2 cores
    .venv/bin/python benchmarks/token_shards.py --mb 8 --steps 20 --slice-mb 2   # a quick check

Writes ``benchmarks/results/token_shards.json``. On a shared machine the seconds move with the load;
the peak memory does not.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WORDS = ["the", "price", "quality", "GPU", "battery", "good", "bad", "model", "data", "2024", "OK", "very"]


def synthetic_corpus(path: Path, mb: int, seed: int = 0) -> None:
    """``mb`` MB of lines; written in 4 MB pieces so the generator holds little."""
    rng = np.random.default_rng(seed)
    han = 0x4E00 + rng.permutation(6000)[:3000]
    weights = 1.0 / np.arange(1, 3001)
    weights /= weights.sum()
    target, written = mb * 1_000_000, 0
    with path.open("w", encoding="utf-8") as fh:
        while written < target:
            lengths = rng.integers(20, 200, size=8000)
            chars = rng.choice(han, size=int(lengths.sum()), p=weights).astype("<u4")
            text = chars.tobytes().decode("utf-32-le")
            lines, start = [], 0
            for i, n in enumerate(lengths):
                line = text[start : start + n]
                start += n
                if i % 3 == 0:
                    line = f"{line[: n // 2]} {WORDS[i % len(WORDS)]} {i} {line[n // 2 :]}"
                lines.append(line)
            block = "\n".join(lines) + "\n"
            fh.write(block)
            written += len(block.encode("utf-8"))


def slice_file(src: Path, dst: Path, mb: int) -> None:
    with src.open("rb") as fh:
        data = fh.read(mb * 1_000_000)
    dst.write_bytes(data[: data.rfind(b"\n") + 1])


def _status_mb(pid: int) -> dict[str, float]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in ("RssAnon", "RssFile"):
            out[key] = int(value.split()[0]) / 1024
    return out


def peak_rss_of(cmd: list[str]) -> tuple[dict, float]:
    """``({peak_rss_mb, peak_anon_mb, peak_file_mb}, wall s)`` of a child process: ``ru_maxrss`` from the
    kernel, the anonymous and file-backed parts sampled from /proc every 0.2 s."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peaks = {"RssAnon": 0.0, "RssFile": 0.0}
    while proc.poll() is None:
        for key, mb in _status_mb(proc.pid).items():
            peaks[key] = max(peaks[key], mb)
        time.sleep(0.2)
    err = proc.stderr.read()
    if proc.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{err[-3000:]}")
    import resource

    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mb": round(rss, 1), "peak_anon_mb": round(peaks["RssAnon"], 1),
            "peak_file_mb": round(peaks["RssFile"], 1)}, time.perf_counter() - t0  # fmt: skip


def train_on(work: Path, args) -> dict:
    """The MLM run on ``work/shards`` in a child process; its time and peak memory."""
    from scratchlm.data.shards import read_manifest

    dim, layers, ffn = args.model.split(",")
    cmd = [sys.executable, "-m", "scratchlm", "train", str(ROOT / "configs" / "pd1998_mlm.yaml"),
           "--set", f"data.shards={work / 'shards'}", "--set", "data.corpus=", "--set", "data.packing=true",
           "--set", "data.whole_word_mask=false", "--set", "data.max_seq_len=128", "--set", "data.max_eval_examples=200",
           "--set", "model.init=normal", "--set", "train.batch_size=16", "--set", f"train.max_steps={args.steps}",
           "--set", "train.epochs=1", "--set", "train.progress=false", "--set", "train.save_every=100",
           "--set", f"model.embed_dim={dim}", "--set", f"model.encoder.num_layers={layers}",
           "--set", f"model.encoder.ffn_dim={ffn}", "--out", str(work / "run")]  # fmt: skip
    if (work / "run").exists():
        import shutil

        shutil.rmtree(work / "run")
    memory, train_s = peak_rss_of(cmd)
    return {"steps": args.steps, "seconds": round(train_s, 1), "model": args.model,
            "corpus_tokens": read_manifest(work / "shards")["tokens"], **memory}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=256)
    ap.add_argument("--slice-mb", type=int, default=16)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--dir", default=None, help="work directory (default: a temporary one)")
    ap.add_argument("--model", default="128,2,512", help="embed_dim,num_layers,ffn_dim (default 128,2,512)")
    ap.add_argument("--train-only", action="store_true", help="reuse --dir's shards: only the training run")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from scratchlm.data.prepare import prepare
    from scratchlm.data.shards import read_manifest
    from scratchlm.tokenizers.factory import train_tokenizer

    if args.train_only:
        return print(json.dumps(train_on(Path(args.dir), args), indent=2))
    work = Path(args.dir or tempfile.mkdtemp(prefix="shards-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus.txt"
    t0 = time.perf_counter()
    if not corpus.is_file() or corpus.stat().st_size < args.mb * 1_000_000:
        synthetic_corpus(corpus, args.mb)
    gen_s = time.perf_counter() - t0
    slice_file(corpus, work / "head.txt", 2)
    head = (work / "head.txt").read_text(encoding="utf-8").splitlines()
    train_tokenizer("char", head).save(work / "tok")
    slice_file(corpus, work / "slice.txt", args.slice_mb)
    runs = {}
    for workers in sorted({1, args.workers}):  # --workers 1: the one-process figure only
        out = work / f"slice-w{workers}"
        m = prepare([str(work / "slice.txt")], str(work / "tok"), out, workers=workers, show_progress=False)
        runs[workers] = {"seconds": m["seconds"], "mb_per_s": m["mb_per_s"], "checksums": m["checksums"]}
    same = runs[1]["checksums"] == runs[args.workers]["checksums"]
    full = prepare(
        [str(corpus)], str(work / "tok"), work / "shards", workers=args.workers, show_progress=False
    )
    train = train_on(work, args)
    manifest = read_manifest(work / "shards")
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}",
        "corpus_mb": round(corpus.stat().st_size / 1e6, 1),
        "generate_s": round(gen_s, 1),
        "slice_mb": args.slice_mb,
        "prepare_slice": {str(k): {"seconds": v["seconds"], "mb_per_s": v["mb_per_s"]} for k, v in runs.items()},
        "same_shards_any_workers": same,
        "prepare_full": {"workers": args.workers, "seconds": full["seconds"], "mb_per_s": full["mb_per_s"],
                         "tokens": manifest["tokens"], "texts": manifest["texts"], "shards": len(manifest["shards"]),
                         "bytes_on_disk": sum((work / "shards" / s["file"]).stat().st_size for s in manifest["shards"])},
        "train": train,
    }  # fmt: skip
    out = ROOT / "benchmarks" / "results" / "token_shards.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
