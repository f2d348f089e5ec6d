"""The word2vec stage of ``configs/zh_sentiment.yaml``: one gensim worker thread vs two, side by side.

The corpus is the recipe's own (its training texts plus People's Daily, through the recipe's character
tokenizer); the settings are the recipe's (skipgram, 128 dimensions, window 5, 5 epochs, seed 13). The
runs take turns (workers 1, 2, 1, 2, ...), so a slow spell of a shared machine falls on both. Reports
each run's wall time and whether two runs with the same worker count give the same vectors bit for bit
(the largest absolute difference between them).

    .venv/bin/python benchmarks/word2vec_determinism.py              # the recipe's corpus, a few minutes
    .venv/bin/python benchmarks/word2vec_determinism.py --quick      # the training texts only, 1 epoch

Writes ``benchmarks/results/word2vec_determinism.json`` (``--quick``: ``word2vec_determinism_quick.json``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "word2vec_determinism.json"
RECIPE = ROOT / "configs" / "zh_sentiment.yaml"


def recipe_corpus(quick: bool):
    """The recipe's config (``--quick``: training texts only, one epoch) and its tokenized corpus."""
    from scratchlm.config import load_config
    from scratchlm.tasks.registry import make_task
    from scratchlm.vectors.word2vec import corpus_sentences

    cfg = load_config(RECIPE)
    if quick:
        cfg.vectors = dataclasses.replace(cfg.vectors, corpus=["train"], epochs=1)
    task = make_task(cfg)
    cfg = task.load()
    train = task.split("train")
    tokenizer = task.build_tokenizer(train)
    return cfg, corpus_sentences(cfg.vectors.corpus, tokenizer.tokenize, task.texts(train))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--repeats", type=int, default=2, help="runs per worker count (default 2)")
    args = p.parse_args()
    from scratchlm.vectors.word2vec import train_word2vec

    cfg, sentences = recipe_corpus(args.quick)
    tokens = sum(len(s) for s in sentences)
    print(
        f"corpus: {len(sentences)} texts, {tokens} tokens; {cfg.vectors.epochs} epochs, dim {cfg.model.embed_dim}"
    )
    runs: dict[int, list] = {1: [], 2: []}
    for _ in range(args.repeats):
        for workers in (1, 2):
            vcfg = dataclasses.replace(cfg.vectors, workers=workers)
            t0 = time.perf_counter()
            words, matrix = train_word2vec(sentences, cfg.model.embed_dim, vcfg, seed=cfg.train.seed)
            seconds = time.perf_counter() - t0
            runs[workers].append((seconds, words, matrix))
            print(f"workers {workers}: {seconds:.1f} s", flush=True)
    rows = []
    for workers, done in runs.items():
        first = done[0]
        diffs = [float(np.abs(m - first[2]).max()) if w == first[1] else float("inf") for _, w, m in done[1:]]
        row = {
            "workers": workers,
            "seconds": [round(s, 1) for s, _, _ in done],
            "median_seconds": round(statistics.median(s for s, _, _ in done), 1),
            "max_abs_diff_between_runs": max(diffs) if diffs else None,
            "bitwise_equal": all(d == 0.0 for d in diffs),
        }
        rows.append(row)
    print(f"\n{'workers':>8}{'median s':>10}  {'runs (s)':<24}{'max |diff|':>12}  bitwise equal")
    for r in rows:
        runs_s = ", ".join(f"{s:.1f}" for s in r["seconds"])
        print(f"{r['workers']:>8}{r['median_seconds']:>10.1f}  {runs_s:<24}{r['max_abs_diff_between_runs']:>12.3g}  "
              f"{r['bitwise_equal']}")  # fmt: skip
    results = RESULTS.with_name(RESULTS.stem + "_quick.json") if args.quick else RESULTS
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(
        json.dumps(
            {
                "corpus_texts": len(sentences),
                "corpus_tokens": tokens,
                "quick": args.quick,
                "cpus": os.cpu_count(),
                "machine": platform.machine(),
                "rows": rows,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {results.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
