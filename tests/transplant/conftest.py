"""The transplant fixtures (``bert_dir``, ``char_tokenizer_dir``): tests/transplant_helpers.py."""

from transplant_helpers import bert_dir, char_tokenizer_dir  # noqa: F401
