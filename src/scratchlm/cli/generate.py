"""``scratchlm generate RUN [PROMPT ...]``: text from a causal-LM or seq2seq run, through its task.

Prompts given as arguments (or lines on stdin) are generated one after another, each streamed to the
terminal as its tokens come (a causal LM prints the prompt, then its continuation; a seq2seq run the
source, a tab, then the output tokens); ``--json`` runs them as one batch and prints the results.
``--input FILE.jsonl`` generates for every record of a file (objects with a text key, or strings), in
batches, and writes each record plus ``generated`` to ``--output`` (default stdout).
"""

from __future__ import annotations

import argparse
import json
import sys

from scratchlm.cli.run_options import add_run_options
from scratchlm.io import print_json


def _options(args: argparse.Namespace):
    from scratchlm.predict.sampling import GenerationOptions

    return GenerationOptions(
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        repetition_penalty=args.repetition_penalty,
        stop=tuple(args.stop or ()),
        stop_ids=tuple(args.stop_id or ()),
        seed=args.seed,
        beam_size=args.beam_size,
    ).check()


def cmd_generate(args: argparse.Namespace) -> int:
    from scratchlm.errors import ConfigError, DataError
    from scratchlm.training.run_dir import load_run

    if args.batch_size < 1:
        raise ConfigError(f"--batch-size {args.batch_size}: must be >= 1")
    if args.input and args.texts:
        raise ConfigError("generate takes PROMPT arguments or --input FILE.jsonl, not both")
    if args.output and not args.input:
        raise ConfigError("--output needs --input FILE.jsonl (PROMPT arguments print to stdout)")
    options = _options(args)
    run = load_run(args.run)
    task = run.handler()
    if "generate" not in task.endpoints:
        raise DataError(
            f"{args.run}: a {run.task} run does not generate text (causal_lm and seq2seq runs do)"
        )
    if args.input:
        return _generate_file(run, task, options, args)
    prompts = _prompts(args)
    if args.json:
        results = []
        for start in range(0, len(prompts), args.batch_size):
            results += task.generate(run, prompts[start : start + args.batch_size], options)
        print_json(results)
        return 0
    separator = "\t" if run.task == "seq2seq" else ""
    for prompt in prompts:
        _stream(run, task, prompt + separator, prompt, options)
    return 0


def _stream(run, task, head: str, prompt: str, options) -> None:
    """One prompt's generation printed as it comes, after ``head`` (printed once the prompt is accepted)."""
    shown = []

    def show(_: int, piece: str, __: str | None) -> None:
        if not shown:
            print(head, end="")
            shown.append(True)
        print(piece, end="", flush=True)

    task.generate(run, [prompt], options, on_event=show)
    print("" if shown else head)


def _prompts(args: argparse.Namespace) -> list[str]:
    """The PROMPT arguments, or the lines of stdin (an empty prompt: a causal LM starts from nothing)."""
    from scratchlm.errors import DataError

    if args.texts:
        return list(args.texts)
    if sys.stdin is None or sys.stdin.isatty():
        raise DataError("generate needs PROMPT arguments, lines on stdin, or --input FILE.jsonl")
    prompts = [line.rstrip("\n") for line in sys.stdin]
    if not prompts:
        raise DataError("generate: stdin had no lines")
    return prompts


def _generate_file(run, task, options, args: argparse.Namespace) -> int:
    from scratchlm.io import atomic_writer
    from scratchlm.serve.offline import read_records

    records = list(read_records(args.input, args.text_field or run.config.data.text_field))
    lines = []
    for start in range(0, len(records), args.batch_size):
        chunk = records[start : start + args.batch_size]
        for (_, record, _), r in zip(
            chunk, task.generate(run, [t for _, _, t in chunk], options), strict=True
        ):
            generated = {k: r[k] for k in ("text", "tokens", "prompt_tokens", "finish_reason")}
            lines.append(json.dumps({**record, "generated": generated}, ensure_ascii=False) + "\n")
    if args.output:
        with atomic_writer(args.output) as fh:
            fh.write("".join(lines).encode("utf-8"))
    else:
        sys.stdout.write("".join(lines))
    print(f"{len(records)} generations written to {args.output or 'stdout'}", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser("generate", help="generate text with a causal-LM or seq2seq run (streamed)")
    add_run_options(g)
    g.add_argument("texts", nargs="*", metavar="PROMPT")
    g.add_argument("--json", action="store_true", help="print the results as JSON (no streaming)")
    g.add_argument("--input", metavar="FILE.jsonl", help="generate for every record of a JSONL file")
    g.add_argument("--output", metavar="OUT.jsonl", help="with --input: where to write (default: stdout)")
    g.add_argument("--text-field", default=None, help="with --input: the key holding the prompt")
    g.add_argument("--batch-size", type=int, default=8, help="prompts generated together (default 8)")
    g.add_argument(
        "--max-new-tokens",
        type=int,
        default=None,
        help="most tokens per prompt (default: 64 or what fits a causal LM; a seq2seq run's own)",
    )
    g.add_argument("--temperature", type=float, default=0.0, help="0: greedy (default); > 0: sample")
    g.add_argument("--top-k", type=int, default=None, help="sample among the k most probable tokens")
    g.add_argument("--top-p", type=float, default=None, help="nucleus sampling: keep probability mass p")
    g.add_argument("--repetition-penalty", type=float, default=1.0, help="> 1 discourages repeats")
    g.add_argument("--stop", action="append", metavar="TEXT", help="end a text at this string (repeatable)")
    g.add_argument("--stop-id", action="append", type=int, metavar="ID", help="end a text at this token id")
    g.add_argument(
        "--seed", type=int, default=None, help="seed of the sampling (the same seed, the same text)"
    )
    g.set_defaults(func=cmd_generate)
