"""What ``train.deterministic`` costs: three recipes trained with it off and on, taking turns.

For each recipe (``configs/zh_sentiment.yaml`` with ``model.init: normal``, so no word2vec stage;
``configs/pd1998_cws.yaml``; ``configs/cmudict_g2p.yaml``) and each round, one run with
``train.deterministic=false`` and one with ``true``, ``--steps`` optimizer steps each, one torch
thread (``--threads``). Reports the training throughput of the last logged window (tokens/s from
``train_log.jsonl``; the first window holds the warm-up), the process CPU time of the whole run (data
loading included, the same in both settings; on a shared machine it moves less than wall time) and whether the two settings gave the same
weights bit for bit.

    .venv/bin/python benchmarks/deterministic_cost.py                 # 40 steps, 2 rounds
    .venv/bin/python benchmarks/deterministic_cost.py --device cuda   # on a GPU

Writes ``benchmarks/results/deterministic_cost.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "deterministic_cost.json"
RECIPES = {"zh_sentiment": ["model.init=normal"], "pd1998_cws": [], "cmudict_g2p": []}


def one_run(recipe: str, deterministic: bool, args, out: Path) -> tuple[float, bytes]:
    """Tokens/s of the last logged window and the bytes of the final weights."""
    from scratchlm.config import load_config
    from scratchlm.training.loop import train

    overrides = [
        *RECIPES[recipe],
        f"train.max_steps={args.steps}",
        f"train.num_threads={args.threads}",
        f"train.save_every={args.steps}",
        "train.progress=false",
        f"train.deterministic={str(deterministic).lower()}",
    ]
    cpu0 = time.process_time()
    train(load_config(ROOT / "configs" / f"{recipe}.yaml", overrides), out, device=args.device)
    args.cpu_seconds.append(time.process_time() - cpu0)
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text(encoding="utf-8").splitlines()]
    windows = [r for r in log if r.get("event") == "train"]
    return windows[-1]["tokens_per_s"], (
        out / "checkpoints" / f"step-{args.steps:06d}" / "model.safetensors"
    ).read_bytes()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--recipes", default=",".join(RECIPES))
    args = p.parse_args()
    args.cpu_seconds = []
    rows = []
    for recipe in args.recipes.split(","):
        speed: dict[bool, list[float]] = {False: [], True: []}
        cpu: dict[bool, list[float]] = {False: [], True: []}
        weights: dict[bool, list[bytes]] = {False: [], True: []}
        for _ in range(args.rounds):
            for det in (False, True):
                with tempfile.TemporaryDirectory() as tmp:
                    tok_s, w = one_run(recipe, det, args, Path(tmp) / "run")
                speed[det].append(tok_s)
                cpu[det].append(round(args.cpu_seconds[-1], 2))
                weights[det].append(w)
                print(
                    f"{recipe} deterministic={det}: {tok_s:.0f} tokens/s, {cpu[det][-1]:.1f} CPU s",
                    flush=True,
                )
        off, on = statistics.median(speed[False]), statistics.median(speed[True])
        rows.append(
            {
                "recipe": recipe,
                "tokens_per_s_off": speed[False],
                "tokens_per_s_on": speed[True],
                "on_over_off": round(on / off, 3),
                "cpu_seconds_off": cpu[False],
                "cpu_seconds_on": cpu[True],
                "off_repeats": len(set(weights[False])) == 1,
                "on_repeats": len(set(weights[True])) == 1,
                "on_equals_off": weights[True][0] == weights[False][0],
            }
        )
    print(
        f"\n{'recipe':<14}{'off tok/s':>11}{'on tok/s':>10}{'on/off':>8}  off repeats  on repeats  on == off"
    )
    for r in rows:
        print(f"{r['recipe']:<14}{statistics.median(r['tokens_per_s_off']):>11.0f}"
              f"{statistics.median(r['tokens_per_s_on']):>10.0f}{r['on_over_off']:>8.3f}  "
              f"{r['off_repeats']!s:<13}{r['on_repeats']!s:<12}{r['on_equals_off']}")  # fmt: skip
    results = RESULTS
    results.parent.mkdir(parents=True, exist_ok=True)
    meta = {"steps": args.steps, "threads": args.threads, "device": args.device, "torch": torch.__version__,
            "cpus": os.cpu_count(), "machine": platform.machine()}  # fmt: skip
    results.write_text(json.dumps({**meta, "rows": rows}, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {results.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
