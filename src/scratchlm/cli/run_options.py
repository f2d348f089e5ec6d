"""Options ``eval`` and ``predict`` share, defined once."""

from __future__ import annotations

import argparse

from scratchlm.cli.args import ConfigOption, add_options

BEAM_SIZE = ConfigOption(
    "model.generation.beam_size", "--beam-size", default=None, note="seq2seq runs; default: the run's."
)
"""Decoding width of a seq2seq run, as its config field says (the run's own unless given)."""


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """``RUN`` and the options that change how a run decodes."""
    parser.add_argument("run", help="a run directory (the --out of scratchlm train)")
    add_options(parser, [BEAM_SIZE])
