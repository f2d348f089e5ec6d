"""``scratchlm <command>``: one entry point; each command group is a module of :mod:`scratchlm.cli` with a
``register(subparsers)`` function, listed in :data:`COMMANDS`.

Imports are lazy (torch is loaded only by the commands that need it), so ``scratchlm --help`` and
``scratchlm data list`` start fast. Errors a user can fix print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

EXIT_USAGE = 2

COMMANDS: tuple[str, ...] = (
    "scratchlm.cli.train",
    "scratchlm.cli.evaluate",
    "scratchlm.cli.predict",
    "scratchlm.cli.generate",
    "scratchlm.cli.summary",
    "scratchlm.cli.baseline",
    "scratchlm.cli.data",
    "scratchlm.cli.vectors",
    "scratchlm.cli.serve",
    "scratchlm.cli.lab",
    "scratchlm.cli.export",
    "scratchlm.cli.tokenizer",
    "scratchlm.cli.plot",
    "scratchlm.cli.ablate",
    "scratchlm.cli.tune",
    "scratchlm.cli.transplant",
    "scratchlm.cli.encode",
)
"""Modules with a ``register(subparsers)`` function adding a command (group), in ``--help`` order."""

LOGGED = ("train", "eval", "baseline", "ablate", "tune")
"""Commands whose progress is logged to stderr."""


def build_parser() -> argparse.ArgumentParser:
    from scratchlm import __version__

    p = argparse.ArgumentParser(
        prog="scratchlm", description="Build, train and inspect text encoders from scratch."
    )
    p.add_argument("--version", action="version", version=f"scratchlm {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for module in COMMANDS:  # argparse only at import; heavy code is imported inside the handlers
        importlib.import_module(module).register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # `predict RUN --json TEXT...`: argparse stops collecting TEXT at the option; take the rest back
        if getattr(args, "command", None) in ("predict", "generate") and not any(
            e.startswith("-") for e in extra
        ):
            args.texts = [*args.texts, *extra]
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from scratchlm.errors import ScratchLMError

    if args.command in LOGGED:
        from scratchlm.training.progress import setup_logging

        setup_logging(args.verbose)
    try:
        return args.func(args)
    except ScratchLMError as exc:
        message = " ".join(str(exc).splitlines())  # one line, whatever a message quoted from a file held
        print(f"error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
