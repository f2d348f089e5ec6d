"""The ``data`` section of a run configuration: what to read and how text becomes ids
(:class:`DataConfig`, with its checks)."""

from __future__ import annotations

from dataclasses import dataclass, field

from scratchlm.config.checks import check_choice, check_positive
from scratchlm.errors import ConfigError

TASK_NAMES = ("classification", "tagging", "masked_lm", "causal_lm", "seq2seq", "image_classification")
"""The values of ``data.task`` besides ``auto``: the names of :data:`scratchlm.tasks.registry.TASKS`."""

OLD_TASK_NAMES = {"classify": "classification", "tag": "tagging", "mlm": "masked_lm", "clm": "causal_lm"}
"""``data.task`` values of earlier versions, migrated on read (a rule of :mod:`scratchlm.config.migrate`)."""


@dataclass
class DataConfig:
    """Where the examples come from and how text becomes ids."""

    dataset: str = "zh-reviews"
    """A built-in dataset name (``scratchlm data list``), a path to a jsonl/csv/tsv/parquet file, or a folder
    saved by HF ``datasets`` (``save_to_disk``; a ``DatasetDict`` gives its train/validation/test splits)."""
    train_file: str | None = None
    """User data: training file (jsonl/csv/tsv/parquet or a saved datasets folder). Overrides ``dataset``'s train split."""
    dev_file: str | None = None
    """User data: dev file. Without it, 10% of the training file is held out by the sha1 rule."""
    test_file: str | None = None
    """User data: test file."""
    task: str = "auto"
    """The task (one name each, the one run.json records; :mod:`scratchlm.tasks`): ``classification`` (one
    label per text), ``tagging`` (one tag per character or token: word segmentation, NER), ``masked_lm``
    (masked-LM pretraining on raw text: ``corpus``, ``mask_ratio``), ``causal_lm`` (causal-LM pretraining,
    next-token prediction, on the same raw text), ``seq2seq`` (a source text to a sequence of output tokens:
    grapheme to phoneme on ``cmudict-g2p``), ``image_classification`` (one label per image: the built-in
    ``digits``, a folder with one sub-folder of PNG/JPEG images per label, or an ``.npz`` file; a Vision
    Transformer, docs/images.md), or ``auto``: the task that reads the built-in dataset, or for a
    user file ``seq2seq`` when its first record has the ``target_field``, ``tagging`` when it holds tags (a
    ``.jsonl`` whose first record has the ``tags_field``, or a ``.txt`` file of ``token/TAG`` items) and
    ``classification`` otherwise. A run saves the resolved value; the names of earlier versions
    (``classify``, ``tag``, ``mlm``, ``clm``) are migrated on read. See docs/tagging.md and docs/seq2seq.md."""
    tag_scheme: str = "auto"
    """Tagging: ``bio`` (``O``, ``B-X``, ``I-X``), ``bmes`` (``B``, ``M``, ``E``, ``S`` for word segmentation,
    or ``O``, ``B-X``, ``M-X``, ``E-X``, ``S-X``), or ``auto``: the built-in dataset's, else ``bmes`` when a
    training tag starts with M, E or S and ``bio`` otherwise. A tag outside the scheme, or one the scheme
    forbids where it stands (``I-PER`` after ``O``), is an error naming the file and line."""
    text_field: str = "text"
    """Column / key holding the text in user files (tagging ``.jsonl``: a string, one tag per character)."""
    label_field: str = "label"
    """Column / key holding the label in user files."""
    tokens_field: str = "tokens"
    """Tagging ``.jsonl``: the key holding the list of tokens (used instead of ``text_field`` when present)."""
    tags_field: str = "tags"
    """Tagging ``.jsonl``: the key holding the list of tags, one per token."""
    source_field: str = "source"
    """Seq2seq files (``.jsonl`` key or ``.tsv`` column): the source text."""
    target_field: str = "target"
    """Seq2seq files: the target, output tokens separated by spaces (``.jsonl``: or a list of tokens). A source
    on several lines has each line's target as a reference."""
    tokenizer: str = "char"
    """Tokenizer kind, trained on the training texts: ``char`` (one token per character after
    normalisation), ``jieba`` (jieba words), or a subword model of Hugging Face ``tokenizers``:
    ``bpe``, ``bytebpe`` (byte-level BPE), ``wordpiece``, ``unigram``. See docs/tokenizers.md."""
    vocab_size: int | None = None
    """Subword kinds: the vocabulary size to train, specials included (``null``: 8000)."""
    user_dict: str | None = None
    """``jieba``: a user dictionary (``word [frequency] [tag]`` per line, jieba's format), copied into
    the run's ``tokenizer/``."""
    unk_fallback: str = "none"
    """``jieba``: what a word missing from the vocabulary becomes: ``none`` ([UNK]) or ``char`` (its
    characters, each [UNK] only if unknown itself)."""
    normalize: bool = True
    """NFKC + full-width to half-width normalisation before tokenizing."""
    lowercase: bool = False
    """Lowercase after normalising (useful for mixed Chinese/English text)."""
    min_freq: int = 1
    """Tokens (characters, jieba words) seen fewer times than this in train become [UNK]; for ``bpe``,
    ``bytebpe`` and ``wordpiece``, the least count of a merged pair."""
    max_vocab_size: int | None = None
    """``char``/``jieba``: keep at most this many tokens (specials included), most frequent first."""
    max_seq_len: int = 256
    """Tokens per example including [CLS]; longer texts are truncated (and counted)."""
    truncation: str = "end"
    """Which tokens a too-long text loses: ``end`` (keep the beginning), ``start`` (keep the end),
    ``middle`` (keep the first quarter and the last three quarters of the budget)."""
    max_train_examples: int | None = None
    """Use only the first N training examples (after shuffling with the seed): for quick runs."""
    max_eval_examples: int | None = None
    """Use only the first N dev/test examples: for quick runs."""
    corpus: list[str] = field(default_factory=list)
    """``data.task: masked_lm``: the raw text to pretrain on: ``pd1998-text`` (People's Daily, tags stripped),
    ``zh-reviews`` (its texts), or paths to ``.txt`` (one text a line) or ``.jsonl`` (``text_field``)
    files; every text goes to train/dev/test by the sha1 rule on the text (empty: ``[dataset]``). See
    docs/pretraining.md."""
    mask_ratio: float = 0.15
    """``data.task: masked_lm``: the share of tokens to predict; of those 80% become [MASK], 10% a random token,
    10% stay (BERT)."""
    whole_word_mask: bool = False
    """``data.task: masked_lm``: choose whole jieba words to mask (all their tokens together), not single tokens."""
    packing: bool = False
    """``data.task: masked_lm``/``causal_lm``: concatenate the texts (each as ``[CLS] text [SEP]``) into one stream and
    cut it into blocks of ``max_seq_len`` tokens: no padding, no truncation, every token used once."""
    document_mask: bool = True
    """With ``packing``: attention stays inside each text of a block (a block-diagonal mask); ``false`` lets
    it cross from one text to the next, as GPT-2's packing does (positions always run across the block)."""
    shards: str | None = None
    """``data.task: masked_lm``/``causal_lm``: a token-shards directory (``scratchlm data prepare``) to train
    on instead of ``corpus``: read by memory map block by block (corpora larger than memory), with its
    tokenizer, packed (``packing: true``), its dev/test texts for evaluation. See docs/pretraining.md."""

    image_size: int | None = None
    """Images: the side in pixels every image is resized to (bicubic, Pillow); ``null``: the images' own size
    (they must all be square and the same size). A run records the size it trained at."""
    image_mode: str = "auto"
    """Images: ``L`` (grayscale, one channel) or ``RGB`` (three channels); ``auto``: ``L`` when every training
    image is grayscale, else ``RGB``. A run records the mode it trained with."""

    def __post_init__(self) -> None:
        self._check_tokenizer()
        check_positive("data.image_size", self.image_size)
        check_choice("data.image_mode", self.image_mode, ("auto", "L", "RGB"))
        check_choice("data.task", self.task, ("auto", *TASK_NAMES))
        if not 0.0 < self.mask_ratio < 1.0:
            raise ConfigError(f"data.mask_ratio={self.mask_ratio} must be in (0, 1)")
        check_choice("data.tag_scheme", self.tag_scheme, ("auto", "bio", "bmes"))
        check_choice("data.truncation", self.truncation, ("end", "start", "middle"))
        check_positive("data.min_freq", self.min_freq)
        check_positive("data.max_seq_len", self.max_seq_len, minimum=2)
        check_positive("data.max_vocab_size", self.max_vocab_size, minimum=6)
        check_positive("data.max_train_examples", self.max_train_examples)
        check_positive("data.max_eval_examples", self.max_eval_examples)

    def _check_tokenizer(self) -> None:
        from scratchlm.tokenizers.base import KINDS, SUBWORD_KINDS

        kind = self.tokenizer
        if kind not in KINDS:
            raise ConfigError(f"data.tokenizer: unknown tokenizer {kind!r}; use one of {', '.join(KINDS)}")
        subword = kind in SUBWORD_KINDS
        if self.vocab_size is not None and not subword:
            raise ConfigError(
                f"data.vocab_size applies to the subword tokenizers ({', '.join(SUBWORD_KINDS)}); "
                f"with data.tokenizer={kind} cap the vocabulary with data.max_vocab_size"
            )
        if self.max_vocab_size is not None and subword:
            raise ConfigError(
                f"data.max_vocab_size applies to char and jieba; with data.tokenizer={kind} "
                "set the size to train with data.vocab_size"
            )
        check_positive("data.vocab_size", self.vocab_size, minimum=6)
        if kind == "unigram" and self.min_freq != 1:
            raise ConfigError("data.min_freq has no effect with data.tokenizer=unigram; leave it at 1")
        check_choice("data.unk_fallback", self.unk_fallback, ("none", "char"))
        for key, value, default in (
            ("user_dict", self.user_dict, None),
            ("unk_fallback", self.unk_fallback, "none"),
        ):
            if value != default and kind != "jieba":
                raise ConfigError(f"data.{key} applies to data.tokenizer=jieba, not {kind}")
