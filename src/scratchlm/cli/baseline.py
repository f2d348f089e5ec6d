"""``scratchlm baseline CONFIG``: TF-IDF character n-grams + logistic regression on the config's data; for
images (``data.task: image_classification``) an RBF SVC on the raw pixels."""

from __future__ import annotations

import argparse

from scratchlm.cli.args import add_set_option
from scratchlm.io import print_json as _print_json


def cmd_baseline(args: argparse.Namespace) -> int:
    from scratchlm.config import load_config
    from scratchlm.experiments.baseline import tfidf_logreg
    from scratchlm.tasks.metrics import format_metrics
    from scratchlm.tasks.registry import resolve_task_name

    cfg = load_config(args.config, args.set)
    if resolve_task_name(cfg.data) == "image_classification":
        from scratchlm.experiments.image_baseline import svc_pixels

        result = svc_pixels(cfg, gamma=args.gamma, C=1.0 if args.C is None else args.C)
    else:
        result = tfidf_logreg(cfg, C=4.0 if args.C is None else args.C)
    if args.json:
        _print_json(result)
    else:
        print(f"{result['model']} trained on {result['train_examples']} examples in {result['seconds']}s")
        for split in ("dev", "test"):
            if split in result:
                print(format_metrics(result[split], split))
    return 0


def _gamma(value: str) -> float | str:
    if value == "scale":
        return value
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: give a number or 'scale'") from None


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser(
        "baseline",
        help="TF-IDF char n-grams + logistic regression (images: SVC on pixels) on the config's data",
    )
    b.add_argument("config")
    add_set_option(b)
    b.add_argument(
        "--C",
        type=float,
        default=None,
        help="inverse regularisation strength (default: 4.0 text, 1.0 images)",
    )
    b.add_argument(
        "--gamma",
        type=_gamma,
        default=0.001,
        help="images: the SVC's RBF kernel width, a number or 'scale' (1 / (pixels x their variance))",
    )
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_baseline)
