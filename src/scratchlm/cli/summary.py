"""``scratchlm summary CONFIG|RUN``: the layer table of a config's model or a run's."""

from __future__ import annotations

import argparse

from scratchlm.cli.args import add_set_option


def cmd_summary(args: argparse.Namespace) -> int:
    from pathlib import Path

    from scratchlm.config import load_config
    from scratchlm.tasks.registry import make_task
    from scratchlm.training.run_dir import is_run_dir, load_run
    from scratchlm.viz.summary import summarize

    target = Path(args.target)
    if target.is_dir() and is_run_dir(target):
        if args.set:
            from scratchlm.errors import ConfigError

            raise ConfigError("summary RUN shows the run as trained; --set applies only to a CONFIG.yaml")
        run = load_run(target)
        model, cfg, vocab_size = run.model, run.config, len(run.tokenizer.vocab)
        title = f"run {target}"
        task = run.handler()
    else:
        import dataclasses

        cfg = load_config(target, args.set)
        vocab_size = args.vocab_size
        task = make_task(cfg)
        labels, changes = task.placeholder_labels(args.num_classes)
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, task=task.name, **changes))
        task = type(task)(cfg)
        model = task.build_model(vocab_size, len(labels), 0, labels)
        title = f"config {target} (vocabulary {vocab_size}, {task.summary_note(labels, args.num_classes)})"
    print(title)
    print(summarize(model, task.example_input(args.batch, args.seq_len, vocab_size)))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("summary", help="layer table of a config or a run")
    s.add_argument("target", help="CONFIG.yaml or RUN directory")
    add_set_option(s)
    s.add_argument("--vocab-size", type=int, default=5000, help="for a config: vocabulary size to assume")
    s.add_argument(
        "--num-classes",
        type=int,
        default=2,
        help="for a config: number of classes (tags, for a tagger on a user file) to assume",
    )
    s.add_argument("--batch", type=int, default=2)
    s.add_argument("--seq-len", type=int, default=64)
    s.set_defaults(func=cmd_summary)
