"""Fixtures of the vectors and transplant tests, for the commands built on them."""

from transplant_helpers import bert_dir, char_tokenizer_dir  # noqa: F401
from vectors_helpers import small, write  # noqa: F401
