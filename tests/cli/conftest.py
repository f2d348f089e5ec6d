"""Fixtures the CLI tests share with the tests of the package a command fronts: a tiny served run and
its server (tests/serve), small vectors in every format and a tiny BERT directory and character
tokenizer (tests/vectors_helpers.py, tests/transplant_helpers.py), so each is defined once."""

from __future__ import annotations

from serve.conftest import run_dir, start_server  # noqa: F401
from transplant_helpers import bert_dir, char_tokenizer_dir  # noqa: F401
from vectors_helpers import small, write  # noqa: F401
