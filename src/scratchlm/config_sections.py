"""The four sections of a run configuration, one dataclass each, with their own checks:
:class:`DataConfig`, :class:`ModelConfig`, :class:`TrainConfig` and :class:`VectorsConfig`.

:mod:`scratchlm.config` puts them together (``RunConfig``) and loads them from YAML with strict keys
and ``--set`` overrides; import them from there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scratchlm.errors import ConfigError


def _positive(name: str, value: int | None, minimum: int = 1) -> None:
    if value is not None and value < minimum:
        raise ConfigError(f"{name}={value} must be >= {minimum}")


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(allowed)}")


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
        _choice("data.task", self.task, ("auto", "classify", "tag", "mlm", "clm", "seq2seq"))
        if self.packing and self.task not in ("mlm", "clm"):
            raise ConfigError(
                f"data.packing joins raw texts for pretraining (data.task: mlm or clm), not data.task={self.task}"
            )
        if not 0.0 < self.mask_ratio < 1.0:
            raise ConfigError(f"data.mask_ratio={self.mask_ratio} must be in (0, 1)")
        _choice("data.tag_scheme", self.tag_scheme, ("auto", "bio", "bmes"))
        if self.task == "classify" and self.tag_scheme != "auto":
            raise ConfigError(
                f"data.tag_scheme={self.tag_scheme} applies to data.task=tag; a classifier has no tags"
            )
        if self.task == "tag" and self.tokenizer != "char":
            raise ConfigError(
                f"data.task=tag tags one unit per character (or per given token) and needs data.tokenizer=char, "
                f"not {self.tokenizer}"
            )
        _choice("data.truncation", self.truncation, ("end", "start", "middle"))
        _positive("data.min_freq", self.min_freq)
        _positive("data.max_seq_len", self.max_seq_len, minimum=2)
        _positive("data.max_vocab_size", self.max_vocab_size, minimum=6)
        _positive("data.max_train_examples", self.max_train_examples)
        _positive("data.max_eval_examples", self.max_eval_examples)

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
        _positive("data.vocab_size", self.vocab_size, minimum=6)
        if kind == "unigram" and self.min_freq != 1:
            raise ConfigError("data.min_freq has no effect with data.tokenizer=unigram; leave it at 1")
        _choice("data.unk_fallback", self.unk_fallback, ("none", "char"))
        for key, value, default in (
            ("user_dict", self.user_dict, None),
            ("unk_fallback", self.unk_fallback, "none"),
        ):
            if value != default and kind != "jieba":
                raise ConfigError(f"data.{key} applies to data.tokenizer=jieba, not {kind}")


@dataclass
class ModelConfig:
    """Input layer + encoder + head."""

    embed_dim: int = 192
    """Width of token vectors and of the encoder (d)."""
    encoder: str = "transformer"
    """The encoder on the input layer: ``transformer`` (pre-LN self-attention: ``num_layers``, ``num_heads``,
    ``ffn_dim``), ``lstm`` or ``gru`` (recurrent: ``num_layers`` stacked layers of ``rnn_hidden_dim`` units
    per direction; padding never reaches a real position: packed sequences on CUDA, each row reversed
    within its length on CPU, the same result and 3x faster there)."""
    num_layers: int = 3
    """Encoder layers (``transformer``: 0 lets the input layer feed the head directly; ``lstm``/``gru``: >= 1)."""
    num_heads: int = 4
    """Attention heads; ``embed_dim`` must be divisible by it (head_dim = embed_dim / num_heads)."""
    ffn_dim: int = 768
    """Hidden width of each layer's feed-forward block (GELU)."""
    rnn_hidden_dim: int | None = None
    """``lstm``/``gru``: hidden units per direction (``null``: ``embed_dim``, halved when ``bidirectional``,
    so the encoder's output width is about ``embed_dim``)."""
    bidirectional: bool = True
    """``lstm``/``gru``: run a second stack right to left and concatenate both directions' outputs."""
    dropout: float = 0.1
    """Dropout on residual branches, inside the feed-forward block, between recurrent layers and before the
    classifier or tagger head."""
    attention_dropout: float = 0.1
    """Dropout on attention weights (inside SDPA, training only)."""
    embedding_dropout: float = 0.1
    """Dropout on the input layer's output (token + position vectors)."""
    positional: str = "sinusoidal"
    """Position information. Added to the token vectors (absolute): ``sinusoidal`` (fixed sin/cos table),
    ``scaled_sinusoidal`` (the table times a learned scalar), ``learned`` (one trained vector per position,
    BERT; cannot go past ``data.max_seq_len``). Inside attention (relative): ``rope`` (rotary, on queries and
    keys), ``alibi`` (linear distance bias, per-head slopes), ``t5_bias`` (learned bias per distance bucket).
    ``none``: a bag of tokens. See docs/input_layer.md."""
    rope_base: float = 10000.0
    """``positional: rope``: the base of the rotation frequencies ``theta_i = base^(-2i/r)``."""
    rotary_fraction: float = 1.0
    """``positional: rope``: the fraction of each head's dimensions that is rotated (partial rotary, as in
    GPT-NeoX); ``rotary_fraction * head_dim`` must be an even integer."""
    t5_num_buckets: int = 32
    """``positional: t5_bias``: distance buckets (half for each direction)."""
    t5_max_distance: int = 128
    """``positional: t5_bias``: distances from here on share the last bucket."""
    combine: str = "add"
    """How token vectors and absolute position vectors are combined: ``add``, or ``concat`` (side by side,
    then a Linear(2d -> d)). Only for ``sinusoidal``, ``scaled_sinusoidal`` and ``learned``: the other kinds
    have no position vectors."""
    combine_activation: str = "none"
    """``combine: concat``: activation after the projection: ``none``, ``gelu`` or ``tanh``."""
    embedding_norm: str = "none"
    """Normalisation of the input layer's output (before its dropout): ``none``, ``layernorm`` (as BERT) or
    ``rmsnorm``."""
    num_token_types: int = 0
    """Token-type (segment) embeddings added to the token vectors, BERT's sentence A/B (0: none). The
    classifier gives every token type 0."""
    init: str = "normal"
    """Pretrained source of the token vectors: ``normal`` (none: every row from ``embedding_init``),
    ``word2vec`` (vectors trained on the ``vectors`` section's corpus before training), or any vectors
    source ``scratchlm vectors info`` reads: a word2vec/GloVe/fastText file, a vectors cache, a run directory,
    or a built-in name such as ``glove-6b-50d``. Tokens are matched in tiers (exact, lowercase, NFKC, ...);
    the rest keep their ``embedding_init`` values. A pretraining run (``data.task: mlm``) instead gives its
    tokenizer and its whole input layer and encoder (docs/pretraining.md)."""
    embedding_init: str = "normal"
    """Initialisation of the token embedding matrix: ``normal`` (std ``init_std``), ``truncated_normal``
    (std ``init_std``, cut at 2 std), ``uniform`` (``-embedding_init_a .. embedding_init_a``), ``xavier``,
    ``kaiming`` (std ``1/sqrt(d)``) or ``zeros``."""
    embedding_init_a: float = 0.05
    """``embedding_init: uniform``: the bound a of U(-a, a)."""
    init_std: float = 0.02
    """Standard deviation of the normal init of the token embedding and of every Linear weight."""
    embed_scale: bool = False
    """Multiply the token vectors by sqrt(embed_dim) (Vaswani et al. 2017, §3.4)."""
    embedding_rank: int | None = None
    """Factorized token embedding (ALBERT): E = A (V x r) . B (r x d) with this rank r < embed_dim
    (``null``: a full V x d matrix). ``scratchlm summary`` shows the parameters saved. Not with pretrained
    vectors (``init`` other than ``normal``)."""
    vectors_std: float | None = None
    """Rescale pretrained vectors (``init`` other than ``normal``) to this standard deviation
    (``null``: keep their own scale)."""
    vectors_vocab: int = 0
    """With pretrained vectors (``init`` a vectors source): also put the vectors' first N words (vector files
    list the frequent words first) in the vocabulary, after the training split's tokens, so that words the
    training data never shows keep their pretrained vector when the model reads them later. Pair it with
    ``freeze_embeddings`` (or ``freeze_embedding_rows: pretrained``): rows trained on the training words
    drift away from the untouched ones. Words are normalised like the text (set ``data.lowercase`` for
    uncased vectors such as GloVe); ``char`` keeps single characters. 0: only the training split's tokens.
    ``char`` and ``jieba`` tokenizers."""
    bigram_buckets: int = 0
    """Add hashed vectors of adjacent-token pairs to the token vectors (0: off). See
    :class:`scratchlm.modules.embeddings.HashedBigramEmbedding`."""
    freeze_embeddings: bool = False
    """Keep the token embedding fixed during training."""
    freeze_layers: int = 0
    """Keep the bottom N encoder layers fixed during training (fine-tuning a pretrained run, ``init``)."""
    freeze_embedding_rows: str = "none"
    """``pretrained``: rows found in the pretrained vectors (``init``) get no gradient and keep their values,
    the other rows train; ``none``: every row trains (unless ``freeze_embeddings``)."""
    pooling: str = "cls"
    """Sentence vector for the classifier: ``cls`` ([CLS] position), ``mean`` or ``max`` over real tokens,
    or ``mean_max`` (both, concatenated)."""
    head: str = "softmax"
    """Tagger output: ``softmax`` (an independent choice per token) or ``crf`` (a linear-chain conditional
    random field: tag-to-tag transition scores, trained on the likelihood of the whole tag sequence, decoded
    with Viterbi; transitions the tag scheme forbids, such as ``O`` -> ``I-PER``, are never predicted).
    Classifiers use ``softmax``."""
    norm_eps: float = 1e-5
    """LayerNorm epsilon (BERT: 1e-12)."""
    norm_position: str = "pre"
    """``transformer``: where each layer normalises: ``pre`` (before attention and the feed-forward block,
    a final LayerNorm after the stack; trains stably from scratch) or ``post`` (after each residual sum,
    no final norm: BERT's layout, to run BERT-family weights, docs/transplant.md)."""
    attention: str = "bahdanau"
    """Seq2seq with a recurrent encoder: how the decoder attends to the source. ``bahdanau`` (additive,
    ``v . tanh(W q + U k)``, from the previous decoder state, the context fed into the next step; Bahdanau et
    al. 2015), ``luong_dot`` (``q . k``) or ``luong_general`` (``q . W k``): from the current state, after the
    recurrent step, so teacher forcing runs the decoder over the whole target at once (Luong et al. 2015).
    A Transformer decoder uses multi-head cross-attention."""
    beam_size: int = 5
    """Seq2seq decoding: hypotheses kept per source (1: greedy)."""
    length_penalty: float = 1.0
    """Seq2seq beam search: a finished hypothesis scores ``sum log p / length ** length_penalty`` (0: the plain
    sum, which favours short outputs)."""
    max_decode_len: int | None = None
    """Seq2seq decoding: most output tokens per source, the end token included (``null``:
    ``data.max_seq_len - 1``)."""
    tie_embeddings: bool = True
    """``data.task: clm``: the output projection is the token embedding matrix (GPT-2, Press & Wolf 2017);
    ``false``: a matrix of its own. The masked LM's head is always tied."""

    def __post_init__(self) -> None:
        _positive("model.embed_dim", self.embed_dim)
        _positive("model.num_layers", self.num_layers, minimum=0)
        _positive("model.num_heads", self.num_heads)
        _positive("model.ffn_dim", self.ffn_dim)
        _positive("model.vectors_vocab", self.vectors_vocab, minimum=0)
        if self.vectors_vocab and self.init in ("normal", "word2vec"):
            raise ConfigError(
                f"model.vectors_vocab={self.vectors_vocab} adds words of pretrained vectors to the vocabulary; "
                f"model.init={self.init} has none: give a vectors file, cache or name (e.g. glove-6b-50d)"
            )
        if self.bigram_buckets and self.bigram_buckets < 2:
            raise ConfigError(f"model.bigram_buckets={self.bigram_buckets}: use 0 (off) or >= 2 buckets")
        self._check_encoder()
        if self.encoder == "transformer" and self.embed_dim % self.num_heads:
            raise ConfigError(
                f"model.embed_dim={self.embed_dim} must be divisible by model.num_heads={self.num_heads}"
            )
        for name in ("dropout", "attention_dropout", "embedding_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"model.{name}={value} must be in [0, 1)")
        _choice("model.pooling", self.pooling, ("cls", "mean", "max", "mean_max"))
        _choice("model.norm_position", self.norm_position, ("pre", "post"))
        if self.norm_position != "pre" and self.encoder != "transformer":
            raise ConfigError(
                f"model.norm_position={self.norm_position} applies to model.encoder=transformer, not {self.encoder}"
            )
        if self.init_std <= 0:
            raise ConfigError(f"model.init_std={self.init_std} must be > 0")
        self._check_positional()
        self._check_input_layer()

    def _check_encoder(self) -> None:
        _choice("model.encoder", self.encoder, ENCODER_KINDS)
        _choice("model.head", self.head, ("softmax", "crf"))
        _choice("model.attention", self.attention, ("bahdanau", "luong_dot", "luong_general"))
        _positive("model.beam_size", self.beam_size)
        _positive("model.max_decode_len", self.max_decode_len)
        if self.length_penalty < 0:
            raise ConfigError(f"model.length_penalty={self.length_penalty} must be >= 0")
        recurrent = self.encoder in ("lstm", "gru")
        if recurrent:
            if self.num_layers < 1:
                raise ConfigError(f"model.encoder={self.encoder} needs model.num_layers >= 1 (got 0)")
            _positive("model.rnn_hidden_dim", self.rnn_hidden_dim)
            if self.rnn_hidden_dim is None and self.bidirectional and self.embed_dim < 2:
                raise ConfigError(
                    "model.embed_dim=1 cannot be halved between two directions; set rnn_hidden_dim"
                )
            if self.positional in ("rope", "alibi", "t5_bias"):
                raise ConfigError(
                    f"model.positional={self.positional} acts inside attention, and model.encoder="
                    f"{self.encoder} has none; use positional: none (a recurrent encoder reads tokens in "
                    "order) or an absolute kind (sinusoidal, scaled_sinusoidal, learned)"
                )
            return
        for key, value, default in (
            ("rnn_hidden_dim", self.rnn_hidden_dim, None),
            ("bidirectional", self.bidirectional, True),
        ):
            if value != default:
                raise ConfigError(
                    f"model.{key} applies to model.encoder lstm or gru, not {self.encoder} "
                    "(self-attention already reads both directions)"
                )

    def _check_positional(self) -> None:
        kind = self.positional
        _choice("model.positional", kind, POSITIONAL_KINDS)
        _choice("model.combine", self.combine, ("add", "concat"))
        _choice("model.combine_activation", self.combine_activation, ("none", "gelu", "tanh"))
        if kind in ("rope", "alibi", "t5_bias") and self.num_layers == 0:
            raise ConfigError(
                f"model.positional={kind} acts inside attention, and model.num_layers=0 has no attention "
                "layer; use sinusoidal, scaled_sinusoidal or learned, or num_layers >= 1"
            )
        if kind in ("sinusoidal", "scaled_sinusoidal") and self.embed_dim % 2:
            raise ConfigError(
                f"model.positional={kind} needs an even model.embed_dim (got {self.embed_dim}): the table is "
                "made of (sin, cos) pairs, one frequency each, and an odd dimension leaves a sine without its "
                "partner; use an even embed_dim (divisible by num_heads)"
            )
        if kind == "rope":
            head_dim = self.embed_dim // self.num_heads
            rotary = self.rotary_fraction * head_dim
            if (
                not 0.0 < self.rotary_fraction <= 1.0
                or abs(rotary - round(rotary)) > 1e-6
                or round(rotary) % 2
            ):
                raise ConfigError(
                    f"model.rotary_fraction={self.rotary_fraction} with head_dim = embed_dim / num_heads = "
                    f"{head_dim}: RoPE rotates pairs of dimensions, so rotary_fraction * head_dim "
                    f"(= {rotary:g}) must be an even integer >= 2, with rotary_fraction in (0, 1]"
                )
            if round(rotary) < 2:
                raise ConfigError(
                    f"model.rotary_fraction={self.rotary_fraction} rotates no pair of dimensions"
                )
            if self.rope_base <= 1:
                raise ConfigError(f"model.rope_base={self.rope_base} must be > 1")
        if kind == "t5_bias":
            _positive("model.t5_num_buckets", self.t5_num_buckets, minimum=4)
            if self.t5_num_buckets % 2:
                raise ConfigError(
                    f"model.t5_num_buckets={self.t5_num_buckets} must be even: half the buckets are for "
                    "each direction (an odd count leaves one never used)"
                )
            if self.t5_max_distance <= self.t5_num_buckets // 4:
                raise ConfigError(
                    f"model.t5_max_distance={self.t5_max_distance} must be > t5_num_buckets / 4 "
                    f"(= {self.t5_num_buckets // 4}, the largest distance with a bucket of its own)"
                )
        if self.combine == "concat" and kind not in ("sinusoidal", "scaled_sinusoidal", "learned"):
            where = (
                "has no position vectors" if kind == "none" else "acts inside attention, not on the vectors"
            )
            raise ConfigError(
                f"model.combine=concat joins token vectors with absolute position vectors, and "
                f"model.positional={kind} {where}; use combine: add, or positional: sinusoidal, "
                "scaled_sinusoidal or learned"
            )
        if self.combine_activation != "none" and self.combine != "concat":
            raise ConfigError(
                f"model.combine_activation={self.combine_activation} applies to combine: concat only "
                f"(model.combine is {self.combine})"
            )

    def _check_input_layer(self) -> None:
        _choice("model.embedding_norm", self.embedding_norm, ("none", "layernorm", "rmsnorm"))
        _choice(
            "model.embedding_init",
            self.embedding_init,
            ("normal", "truncated_normal", "uniform", "xavier", "kaiming", "zeros"),
        )
        _choice("model.freeze_embedding_rows", self.freeze_embedding_rows, ("none", "pretrained"))
        _positive("model.num_token_types", self.num_token_types, minimum=0)
        _positive("model.freeze_layers", self.freeze_layers, minimum=0)
        if self.embedding_init_a <= 0:
            raise ConfigError(f"model.embedding_init_a={self.embedding_init_a} must be > 0")
        pretrained = self.init != "normal"
        if self.embedding_rank is not None:
            if not 1 <= self.embedding_rank < self.embed_dim:
                raise ConfigError(
                    f"model.embedding_rank={self.embedding_rank} must be in [1, embed_dim={self.embed_dim}) "
                    "to save parameters (null: the full matrix)"
                )
            if pretrained:
                raise ConfigError(
                    f"model.embedding_rank={self.embedding_rank} with model.init={self.init}: pretrained "
                    f"vectors have {self.embed_dim} dimensions and no exact place in the rank-"
                    f"{self.embedding_rank} factor; use embedding_rank: null, or init: normal"
                )
        if self.freeze_embedding_rows == "pretrained":
            if not pretrained:
                raise ConfigError(
                    "model.freeze_embedding_rows=pretrained freezes the rows found in pretrained vectors, "
                    "and model.init is normal (no pretrained source); set model.init, or use none"
                )
            if self.freeze_embeddings:
                raise ConfigError(
                    "model.freeze_embedding_rows=pretrained and model.freeze_embeddings=true: the second "
                    "already freezes every row; choose one"
                )


ENCODER_KINDS = ("transformer", "lstm", "gru")
POSITIONAL_KINDS = ("sinusoidal", "scaled_sinusoidal", "learned", "rope", "alibi", "t5_bias", "none")


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
        _positive("train.epochs", self.epochs)
        _positive("train.max_steps", self.max_steps)
        _positive("train.batch_size", self.batch_size)
        _positive("train.grad_accum_steps", self.grad_accum_steps)
        if self.batch_size % self.grad_accum_steps:
            raise ConfigError(
                f"train.batch_size={self.batch_size} is not divisible by train.grad_accum_steps={self.grad_accum_steps}"
            )
        _choice("train.precision", self.precision, ("fp32", "bf16", "fp16"))
        _choice("train.compile_backend", self.compile_backend, ("inductor", "aot_eager", "eager"))
        _choice("train.distributed", self.distributed, ("ddp", "fsdp"))
        if self.distributed == "fsdp" and self.ema_decay is not None:
            raise ConfigError(
                "train.ema_decay with train.distributed=fsdp: the moving average would need the whole model "
                "on every process, which FSDP avoids; use ddp, or ema_decay: null"
            )
        if self.peak_tflops is not None and self.peak_tflops <= 0:
            raise ConfigError(f"train.peak_tflops={self.peak_tflops} must be > 0 (TFLOP/s), or null")
        _positive("train.eval_batch_size", self.eval_batch_size)
        _positive("train.save_every", self.save_every)
        _positive("train.keep_checkpoints", self.keep_checkpoints)
        _positive("train.eval_every", self.eval_every)
        _positive("train.early_stopping_patience", self.early_stopping_patience)
        if self.lr <= 0:
            raise ConfigError(f"train.lr={self.lr} must be > 0")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ConfigError(f"train.warmup_ratio={self.warmup_ratio} must be in [0, 1)")
        _choice("train.schedule", self.schedule, ("linear", "cosine", "constant"))
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
        _choice("vectors.method", self.method, ("skipgram", "cbow"))
        _positive("vectors.window", self.window)
        _positive("vectors.epochs", self.epochs)
        _positive("vectors.min_count", self.min_count)
        _positive("vectors.workers", self.workers)
        if not self.corpus:
            raise ConfigError("vectors.corpus is empty: name at least one text source")
