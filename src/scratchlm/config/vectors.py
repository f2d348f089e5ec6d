"""The ``vectors`` section of a run configuration: the word2vec stage run before training when
``model.init: word2vec`` (:class:`VectorsConfig`, with its checks)."""

from __future__ import annotations

from dataclasses import dataclass, field

from scratchlm.config.checks import check_choice, check_positive
from scratchlm.errors import ConfigError


@dataclass
class VectorsConfig:
    """Pretraining of initial token vectors (``model.init: word2vec``), the recipe's own first stage."""

    corpus: list[str] = field(default_factory=lambda: ["train", "pd1998-text"])
    """Texts to learn from: ``train`` (the run's training texts), ``pd1998-text`` (People's Daily,
    tags stripped), or paths to UTF-8 text files (one text per line)."""
    method: str = "skipgram"
    """``skipgram`` or ``cbow`` (gensim's word2vec)."""
    window: int = 5
    """word2vec context window (tokens on each side)."""
    negative: int = 5
    """Negative samples per positive pair."""
    epochs: int = 5
    """Passes of word2vec over the corpus."""
    min_count: int = 1
    """Tokens rarer than this in the corpus get no vector."""
    sample: float = 1e-3
    """Down-sampling threshold for frequent tokens."""
    bigrams: bool = False
    """With ``model.bigram_buckets > 0``: also learn vectors of adjacent-token pairs and put them in the
    bigram buckets."""
    bigram_min_count: int = 2
    """Pairs seen fewer times than this in the corpus get no pretrained vector (they start at zero)."""
    workers: int = 1
    """word2vec threads. With one (the default), the same corpus and ``train.seed`` give the same vectors
    bit for bit; with more, gensim's threads update shared weights without locks and every run gives
    different vectors (and so a different trained model). Faster with more, not reproducible: see
    docs/reproducibility.md."""

    def __post_init__(self) -> None:
        check_choice("vectors.method", self.method, ("skipgram", "cbow"))
        check_positive("vectors.window", self.window)
        check_positive("vectors.epochs", self.epochs)
        check_positive("vectors.min_count", self.min_count)
        check_positive("vectors.workers", self.workers)
        if not self.corpus:
            raise ConfigError("vectors.corpus is empty: name at least one text source")
