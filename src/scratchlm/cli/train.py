"""``scratchlm train CONFIG --out RUN`` and ``scratchlm train --resume RUN``."""

from __future__ import annotations

import argparse

from scratchlm.cli.args import add_set_option


def cmd_train(args: argparse.Namespace) -> int:
    from scratchlm.config import load_config
    from scratchlm.errors import ConfigError
    from scratchlm.training.loop import train

    if args.resume:
        if args.config or args.set:
            raise ConfigError(
                "--resume RUN continues with the run's saved config; give no CONFIG or --set with it"
            )
        metrics = train(None, args.resume, resume=True, device=args.device, resume_from=args.from_step)
        _print_run_written(args.resume, metrics)
        return 0
    if args.from_step is not None:
        raise ConfigError("--from STEP picks the checkpoint of --resume RUN; give it with --resume")
    if not args.config or not args.out:
        raise ConfigError("train needs CONFIG.yaml and --out DIR (or --resume RUN)")
    cfg = load_config(args.config, args.set)
    metrics = train(cfg, args.out, device=args.device)
    _print_run_written(args.out, metrics)
    return 0


def _print_run_written(out: str, metrics: dict) -> None:
    if "dev" not in metrics:  # a DDP process other than rank 0
        return
    from scratchlm.tasks.registry import task_class

    print(task_class(metrics["task"])(None).written_line(out, metrics))


def register(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("train", help="train a model from a YAML recipe")
    t.add_argument("config", nargs="?", help="YAML recipe, e.g. configs/zh_sentiment.yaml")
    add_set_option(t)
    t.add_argument("--out", help="run directory to create")
    t.add_argument(
        "--resume",
        metavar="RUN",
        help="continue a run from its newest sound checkpoint (a damaged newer one is set aside, with a warning)",
    )
    t.add_argument(
        "--from",
        dest="from_step",
        metavar="step-N",
        help="with --resume: continue from this checkpoint (checkpoints/step-N); newer ones are set aside",
    )
    t.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    t.set_defaults(func=cmd_train)
