"""Tokenizers: text -> normalised tokens -> ids, with a saved vocabulary."""

from scratchlm.tokenizers.char import CharTokenizer, Encoding, load_tokenizer
from scratchlm.tokenizers.normalize import full_to_half, normalize_text
from scratchlm.tokenizers.vocab import SPECIALS, Vocab

__all__ = [
    "CharTokenizer",
    "Encoding",
    "SPECIALS",
    "Vocab",
    "full_to_half",
    "load_tokenizer",
    "normalize_text",
]
