"""``scratchlm eval RUN``: a run's metrics on a split of its dataset or on a file, through its task."""

from __future__ import annotations

import argparse
import sys  # noqa: F401

from scratchlm.cli.run_options import add_run_options
from scratchlm.io import print_json as _print_json


def cmd_eval(args: argparse.Namespace) -> int:
    """``eval`` of any run through its task: ``--data FILE`` or the dataset's ``--split``."""
    from scratchlm.errors import DataError
    from scratchlm.training.loop import subsample
    from scratchlm.training.run_dir import load_run

    run = load_run(args.run)
    task = run.handler(beam_size=args.beam_size)
    cfg = run.config
    if args.data:
        examples = task.read_file(args.data, run.labels)
        where = args.data
    else:
        task.load()
        examples = subsample(task.split(args.split), cfg.data.max_eval_examples, cfg.train.seed)
        where = f"{task.data.name} {args.split}"
    if not examples:
        raise DataError(f"{where}: no {task.metric_noun} to evaluate")
    enc = task.encode(run.tokenizer, examples, run.labels)
    pad_id = run.tokenizer.vocab.pad_id
    metrics = task.evaluate(run.model, enc, run.labels, pad_id, cfg.train.eval_batch_size, "cpu")
    metrics.update(task.extra_metrics(enc), **task.extra_eval_metrics())
    if args.json:
        _print_json(metrics)
    else:
        print(task.format(metrics, f"{args.run} on {where}{task.eval_title()}"))
        line = task.eval_note(enc)
        if line:
            print(line)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("eval", help="evaluate a run on a split or a labelled file")
    add_run_options(e)
    e.add_argument("--split", default="test", choices=["test", "dev", "train"])
    e.add_argument(
        "--data",
        help="a labelled jsonl/csv/tsv/parquet file or saved datasets folder (a tagger: tagged .jsonl/.txt) instead of a split",
    )
    e.add_argument("--json", action="store_true")
    e.set_defaults(func=cmd_eval)
