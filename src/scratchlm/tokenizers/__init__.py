"""Tokenizers: text -> normalised tokens -> ids, with a saved vocabulary.

Kinds (:data:`KINDS`): ``char``, ``jieba`` (words), and the subword models ``bpe``, ``bytebpe``,
``wordpiece`` and ``unigram`` (Hugging Face ``tokenizers``). All share :class:`Tokenizer`'s interface.
jieba and ``tokenizers`` are imported only when a tokenizer of theirs is built or loaded.
"""

from scratchlm.tokenizers.base import KINDS, SUBWORD_KINDS, Encoding, Tokenizer
from scratchlm.tokenizers.char import CharTokenizer
from scratchlm.tokenizers.factory import build_tokenizer, load_tokenizer, train_tokenizer
from scratchlm.tokenizers.jieba_word import JiebaTokenizer
from scratchlm.tokenizers.normalize import full_to_half, normalize_aligned, normalize_text
from scratchlm.tokenizers.subword import SubwordTokenizer
from scratchlm.tokenizers.vocab import SPECIALS, Vocab

__all__ = [
    "KINDS",
    "SPECIALS",
    "SUBWORD_KINDS",
    "CharTokenizer",
    "Encoding",
    "JiebaTokenizer",
    "SubwordTokenizer",
    "Tokenizer",
    "Vocab",
    "build_tokenizer",
    "full_to_half",
    "load_tokenizer",
    "normalize_aligned",
    "normalize_text",
    "train_tokenizer",
]
