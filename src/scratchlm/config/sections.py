"""Three of the four sections of a run configuration, one dataclass each, with their own checks:
:class:`DataConfig`, :class:`TrainConfig` and :class:`VectorsConfig` (:class:`ModelConfig`, the largest,
is in :mod:`scratchlm.config.model`).

:mod:`scratchlm.config` puts them together (``RunConfig``) and loads them from YAML with strict keys
and ``--set`` overrides; import them from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scratchlm.config.checks import check_choice, check_positive
from scratchlm.errors import ConfigError

TASK_NAMES = ("classification", "tagging", "masked_lm", "causal_lm", "seq2seq")
"""The values of ``data.task`` besides ``auto``: the names of :data:`scratchlm.tasks.registry.TASKS`."""

OLD_TASK_NAMES = {"classify": "classification", "tag": "tagging", "mlm": "masked_lm", "clm": "causal_lm"}
"""``data.task`` values of earlier versions, migrated on read."""


@dataclass
class DataConfig:
    """Where the examples come from and how text becomes ids."""

    dataset: str = "zh-reviews"
    """A built-in dataset name (``scratchlm data list``) or a path to a jsonl/csv/tsv file."""
    train_file: str | None = None
    """User data: training file (jsonl/csv/tsv). Overrides ``dataset``'s train split."""
    dev_file: str | None = None
    """User data: dev file. Without it, 10% of the training file is held out by the sha1 rule."""
    test_file: str | None = None
    """User data: test file."""
    task: str = "auto"
    """``classify`` (one label per text), ``tag`` (one tag per character or token: word segmentation,
    NER), ``mlm`` (masked-LM pretraining on raw text: ``corpus``, ``mask_ratio``), ``clm`` (causal-LM
    pretraining, next-token prediction, on the same raw text), or ``auto``: the built-in dataset's task, or for a user file ``tag`` when it holds tags (a
    ``.jsonl`` whose first record has the ``tags_field``, or a ``.txt`` file of ``token/TAG`` items) and
    ``classify`` otherwise; ``seq2seq`` (a source text to a sequence of output tokens: grapheme to phoneme on
    ``cmudict-g2p``; ``auto`` picks it for a ``.jsonl``/``.tsv`` file with the ``target_field``). A run saves the
    resolved value. See docs/tagging.md and docs/seq2seq.md."""
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
    """``data.task: mlm``: the raw text to pretrain on: ``pd1998-text`` (People's Daily, tags stripped),
    ``zh-reviews`` (its texts), or paths to ``.txt`` (one text a line) or ``.jsonl`` (``text_field``)
    files; every text goes to train/dev/test by the sha1 rule on the text (empty: ``[dataset]``). See
    docs/pretraining.md."""
    mask_ratio: float = 0.15
    """``data.task: mlm``: the share of tokens to predict; of those 80% become [MASK], 10% a random token,
    10% stay (BERT)."""
    whole_word_mask: bool = False
    """``data.task: mlm``: choose whole jieba words to mask (all their tokens together), not single tokens."""
    packing: bool = False
    """``data.task: mlm``/``clm``: concatenate the texts (each as ``[CLS] text [SEP]``) into one stream and
    cut it into blocks of ``max_seq_len`` tokens: no padding, no truncation, every token used once."""
    document_mask: bool = True
    """With ``packing``: attention stays inside each text of a block (a block-diagonal mask); ``false`` lets
    it cross from one text to the next, as GPT-2's packing does (positions always run across the block)."""

    def __post_init__(self) -> None:
        self._check_tokenizer()
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


@dataclass
class TrainConfig:
    """Optimisation and bookkeeping."""

    seed: int = 13
    """Seeds Python, NumPy and torch, the subsampling and the batch order."""
    epochs: int = 4
    """Passes over the training data (``max_steps`` and early stopping may end training sooner)."""
    max_steps: int | None = None
    """Stop after this many optimizer steps (overrides ``epochs`` when reached first)."""
    batch_size: int = 32
    """Training examples per optimizer step (over all processes and micro-batches together)."""
    grad_accum_steps: int = 1
    """Cut each batch into this many micro-batches, run one after another and summed (same result, less
    memory); with DDP, each process's share is cut. ``batch_size`` must divide evenly."""
    precision: str = "fp32"
    """``fp32``, ``bf16`` (autocast, CPU or CUDA) or ``fp16`` (autocast with a gradient scaler, CUDA only)."""
    eval_batch_size: int = 128
    """Examples per forward pass in evaluation and prediction."""
    lr: float = 1e-3
    """Peak learning rate of AdamW (reached at the end of warmup)."""
    embedding_lr: float | None = None
    """Learning rate for the embedding tables: tokens and character pairs (default: ``lr``)."""
    weight_decay: float = 0.01
    """AdamW decoupled weight decay, applied to weight matrices only (not biases, norms, embedding tables)."""
    embedding_weight_decay: float = 0.0
    """Weight decay of the embedding tables (token, token-type and character-pair tables). 0 by default: a
    row gets a gradient only when its token occurs, but decoupled decay shrinks every row at every step,
    so rare tokens' rows would fade. Not with ``model.freeze_embedding_rows: pretrained`` (decay would move
    the frozen rows)."""
    betas: tuple[float, float] = (0.9, 0.98)
    """AdamW moment decay rates."""
    warmup_ratio: float = 0.06
    """Fraction of all steps with linear warmup."""
    schedule: str = "linear"
    """Decay after warmup: ``linear``, ``cosine`` or ``constant``."""
    grad_clip: float = 1.0
    """Clip the global gradient norm to this value."""
    label_smoothing: float = 0.0
    """Cross-entropy label smoothing."""
    layer_lr_decay: float | None = None
    """Layer-wise learning-rate decay (ELECTRA, ULMFiT): the top encoder layer trains at ``lr``, each layer
    below at ``layer_lr_decay`` times the one above, the input layer below the bottom layer; the head at
    ``lr`` (``null``: one ``lr`` everywhere; ``embedding_lr``, when set, still sets the embedding tables')."""
    ema_decay: float | None = None
    """Keep an exponential moving average of the weights with this decay (e.g. 0.999) and evaluate,
    select and save the averaged weights (``null``: off)."""
    early_stopping_patience: int | None = 3
    """Stop when the dev score (the metric that also picks the saved weights: accuracy for a classifier,
    span F1 for a tagger) has not improved for this many evaluations (``null``: never)."""
    eval_every: int | None = None
    """Evaluate on dev every N steps (default: at the end of each epoch)."""
    save_every: int = 500
    """Write a full training-state checkpoint every N steps (and always at the last step)."""
    keep_checkpoints: int = 2
    """How many step checkpoints to keep (oldest removed first)."""
    length_bucketing: bool = True
    """Batch examples of similar length together (much less padding, same examples per epoch)."""
    num_threads: int | None = None
    """torch intra-op threads (default: torch's choice)."""
    progress: bool = True
    """Show a progress bar (off automatically when stderr is not a terminal and CI is set)."""
    compile: bool = False
    """Run the training forward and backward through ``torch.compile`` (the model's weights and
    checkpoints are the plain module's). Worth it on a GPU; the first steps pay for compilation."""
    compile_backend: str = "inductor"
    """``torch.compile`` backend: ``inductor`` (generates kernels; on CPU it needs a C++ compiler) or
    ``aot_eager`` (no code generation: for tests)."""
    activation_checkpointing: bool = False
    """Recompute each Transformer layer's activations in the backward pass instead of keeping them: less
    memory, about one more forward pass of time, the same gradients."""
    distributed: str = "ddp"
    """Under ``torchrun``: ``ddp`` (each process holds the whole model, gradients all-reduced) or ``fsdp``
    (PyTorch's FSDP2 ``fully_shard``: parameters, gradients and optimizer state sharded over the processes,
    each Transformer layer gathered when it runs; for models that do not fit one device)."""
    peak_tflops: float | None = None
    """Peak FLOP/s of one device (TFLOP/s) for the MFU in the train log (``null``: a known GPU's bf16
    dense peak, none on CPU, where the log shows tokens/s only)."""

    def __post_init__(self) -> None:
        check_positive("train.epochs", self.epochs)
        check_positive("train.max_steps", self.max_steps)
        check_positive("train.batch_size", self.batch_size)
        check_positive("train.grad_accum_steps", self.grad_accum_steps)
        if self.batch_size % self.grad_accum_steps:
            raise ConfigError(
                f"train.batch_size={self.batch_size} is not divisible by train.grad_accum_steps={self.grad_accum_steps}"
            )
        check_choice("train.precision", self.precision, ("fp32", "bf16", "fp16"))
        check_choice("train.compile_backend", self.compile_backend, ("inductor", "aot_eager", "eager"))
        check_choice("train.distributed", self.distributed, ("ddp", "fsdp"))
        if self.distributed == "fsdp" and self.ema_decay is not None:
            raise ConfigError(
                "train.ema_decay with train.distributed=fsdp: the moving average would need the whole model "
                "on every process, which FSDP avoids; use ddp, or ema_decay: null"
            )
        if self.peak_tflops is not None and self.peak_tflops <= 0:
            raise ConfigError(f"train.peak_tflops={self.peak_tflops} must be > 0 (TFLOP/s), or null")
        check_positive("train.eval_batch_size", self.eval_batch_size)
        check_positive("train.save_every", self.save_every)
        check_positive("train.keep_checkpoints", self.keep_checkpoints)
        check_positive("train.eval_every", self.eval_every)
        check_positive("train.early_stopping_patience", self.early_stopping_patience)
        if self.lr <= 0:
            raise ConfigError(f"train.lr={self.lr} must be > 0")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ConfigError(f"train.warmup_ratio={self.warmup_ratio} must be in [0, 1)")
        check_choice("train.schedule", self.schedule, ("linear", "cosine", "constant"))
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            raise ConfigError(f"train.ema_decay={self.ema_decay} must be in (0, 1), or null for off")
        if self.layer_lr_decay is not None and not 0.0 < self.layer_lr_decay <= 1.0:
            raise ConfigError(
                f"train.layer_lr_decay={self.layer_lr_decay} must be in (0, 1], or null for off"
            )
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"train.label_smoothing={self.label_smoothing} must be in [0, 1)")
        if len(self.betas) != 2:
            raise ConfigError(f"train.betas must have two values, got {self.betas}")
        for name in ("weight_decay", "embedding_weight_decay"):
            if getattr(self, name) < 0:
                raise ConfigError(f"train.{name}={getattr(self, name)} must be >= 0")


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
    workers: int = 2
    """word2vec threads. With more than one, gensim's result varies slightly from run to run; use 1 for
    bit-for-bit reproducible vectors (about twice as slow)."""

    def __post_init__(self) -> None:
        check_choice("vectors.method", self.method, ("skipgram", "cbow"))
        check_positive("vectors.window", self.window)
        check_positive("vectors.epochs", self.epochs)
        check_positive("vectors.min_count", self.min_count)
        check_positive("vectors.workers", self.workers)
        if not self.corpus:
            raise ConfigError("vectors.corpus is empty: name at least one text source")
