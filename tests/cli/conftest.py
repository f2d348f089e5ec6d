"""Fixtures the CLI tests share with the tests of the package a command fronts: a tiny served run and
its server (tests/serve), small vectors in every format (tests/vectors), a tiny BERT directory and a
character tokenizer (tests/transplant). Imported from those conftests, so each is defined once."""

from __future__ import annotations

from serve.conftest import run_dir, start_server  # noqa: F401
from transplant.conftest import bert_dir, char_tokenizer_dir  # noqa: F401
from vectors.conftest import small, write  # noqa: F401
