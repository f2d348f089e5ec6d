"""Character-level tokenizer with NFKC + full-width/half-width normalisation.

One token per character of the normalised text; whitespace becomes the visible token ``▁`` so that
``decode(encode(text))`` gives the text back (normalisation and runs of spaces aside). Every original
character is normalised on its own, so each token knows the span of the original text it came from
(``offsets``), which taggers need.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from scratchlm.tokenizers.base import SPACE, TRUNCATION, Encoding, Tokenizer, read_metadata, truncate
from scratchlm.tokenizers.normalize import normalize_char
from scratchlm.tokenizers.vocab import SPECIALS, Vocab

__all__ = ["SPACE", "TRUNCATION", "CharTokenizer", "Encoding", "truncate"]


@lru_cache(maxsize=65536)
def _norm_char(ch: str, nfkc: bool, lowercase: bool) -> str:
    return normalize_char(ch, nfkc, lowercase).replace(" ", SPACE)


class CharTokenizer(Tokenizer):
    """Text -> characters -> ids. ``add_cls`` prepends [CLS] (the classifier's pooling position)."""

    kind = "char"

    def __init__(self, vocab: Vocab, *, normalize: bool = True, lowercase: bool = False):
        self.vocab = vocab
        self.normalize = normalize
        self.lowercase = lowercase

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        *,
        normalize: bool = True,
        lowercase: bool = False,
        min_freq: int = 1,
        max_size: int | None = None,
    ) -> CharTokenizer:
        counts: Counter[str] = Counter()
        probe = cls(Vocab(SPECIALS), normalize=normalize, lowercase=lowercase)
        for text in texts:
            counts.update(tok for tok, _ in probe.split(text))
        return cls(
            Vocab.build(counts, min_freq=min_freq, max_size=max_size),
            normalize=normalize,
            lowercase=lowercase,
        )

    # -- encoding ------------------------------------------------------------------------------
    def split(self, text: str) -> list[tuple[str, tuple[int, int]]]:
        """Tokens with their original spans; consecutive whitespace gives one ``▁``, edges none."""
        out: list[tuple[str, tuple[int, int]]] = []
        nfkc, lower = self.normalize, self.lowercase
        for i, ch in enumerate(text):
            piece = _norm_char(ch, nfkc, lower)
            for sub in piece:
                if sub == SPACE and (not out or out[-1][0] == SPACE):
                    continue
                out.append((sub, (i, i + 1)))
        while out and out[-1][0] == SPACE:
            out.pop()
        return out

    # -- persistence ---------------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        from scratchlm.io import atomic_write_json

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.vocab.save(directory / "vocab.txt")
        atomic_write_json(
            directory / "tokenizer.json",
            {
                "kind": self.kind,
                "normalize": self.normalize,
                "lowercase": self.lowercase,
                "vocab_size": len(self.vocab),
            },
        )

    @classmethod
    def load(cls, directory: str | Path) -> CharTokenizer:
        directory = Path(directory)
        meta = read_metadata(directory, "tokenizer.json", cls.kind)
        return cls(
            Vocab.load(directory / "vocab.txt"),
            normalize=bool(meta.get("normalize", True)),
            lowercase=bool(meta.get("lowercase", False)),
        )
