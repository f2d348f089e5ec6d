"""The command line: ``scratchlm <command>`` (:mod:`scratchlm.cli.main`), one module per command group."""

from scratchlm.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
