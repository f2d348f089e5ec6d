"""Accuracy of classification runs alone and with their predicted probabilities averaged, with and without
the TF-IDF baseline's linear model (half and half), on a config's dev and test splits.

    .venv/bin/python scripts/zh_ensemble.py configs/zh_sentiment.yaml runs/recipes/zh-s13 \
        runs/recipes/zh-s14 runs/recipes/zh-s15 [--features char1-4 --C 2]

Two labels only (the probability of the second label is averaged). Prints a Markdown table
(docs/classification.md shows it for the zh-reviews recipe over three seeds).
"""

from __future__ import annotations

import argparse
import sys

import numpy as np


def run_probabilities(loaded, texts: list[str], positive: str) -> np.ndarray:
    from scratchlm.predict.classify import classify_texts

    return np.array([p["probabilities"][positive] for p in classify_texts(loaded, texts)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("config")
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--features", default="char1-4")
    ap.add_argument("--C", type=float, default=2.0)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config overrides")
    args = ap.parse_args(argv)
    from sklearn.linear_model import LogisticRegression

    from scratchlm.config import load_config
    from scratchlm.experiments.baseline import _splits, _vectorizer
    from scratchlm.training.run_dir import load_run

    cfg = load_config(args.config, args.set)
    splits, labels = _splits(cfg)
    if len(labels) != 2:
        print(
            f"error: {args.config}: {len(labels)} labels; this script averages two-label runs",
            file=sys.stderr,
        )
        return 2
    loaded = {run: load_run(run) for run in args.runs}
    vec = _vectorizer(args.features)
    clf = LogisticRegression(C=args.C, max_iter=2000).fit(
        vec.fit_transform(splits["train"].texts), splits["train"].labels
    )
    rows: dict[str, dict[str, float]] = {}
    for split in ("dev", "test"):
        y = np.array(splits[split].labels) == 1
        lin = clf.predict_proba(vec.transform(splits[split].texts))[:, 1]
        # the baseline's texts, normalised as the config says; a run normalises again, which changes nothing
        probs = {run: run_probabilities(m, splits[split].texts, labels[1]) for run, m in loaded.items()}
        mean = np.mean(list(probs.values()), axis=0)
        cases = {
            f"linear ({args.features}, C={args.C:g})": lin,
            "runs averaged": mean,
            "runs + linear": (mean + lin) / 2,
        }
        for run, p in probs.items():
            cases[run] = p
            cases[f"{run} + linear"] = (p + lin) / 2
        for name, p in cases.items():
            rows.setdefault(name, {})[split] = float(((p > 0.5) == y).mean())
    print("| model | dev | test |\n|---|---|---|")
    for name, acc in rows.items():
        print(f"| {name} | {acc['dev']:.4f} | {acc['test']:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
