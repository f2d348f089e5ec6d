"""Subword tokenizers trained on the user's corpus with Hugging Face ``tokenizers``.

Four models (https://huggingface.co/docs/tokenizers/components#models):

- ``bpe``       byte-pair encoding over characters (Sennrich et al. 2016): start from the characters,
                merge the most frequent adjacent pair until ``vocab_size``; unseen characters -> [UNK].
- ``bytebpe``   BPE over UTF-8 bytes (GPT-2): the 256 bytes are the alphabet, so nothing is ever
                [UNK]; a Chinese character is three bytes and needs two merges to become one token.
- ``wordpiece`` BERT's greedy longest-match over a BPE-like vocabulary; pieces after the first of a
                pre-token carry ``##``, which doubles the alphabet: a corpus with 4,350 distinct
                characters needs ``vocab_size`` above ~8,500 before anything merges, and a pre-token
                holding one unseen character becomes a single [UNK].
- ``unigram``   a unigram language model over pieces, pruned from a large seed set by EM (Kudo 2018,
                SentencePiece's default); segmentation is the most probable one.

Normalisation is the character tokenizer's, done here in Python (:func:`normalize_aligned`) so all
kinds see the same text and every HF offset maps back to the original characters. The HF pipeline in
``tokenizer.json`` therefore expects normalised text.

Pre-tokenization (``bpe``, ``wordpiece``, ``unigram``) cannot rely on spaces, which Chinese does not
write. We split the way SentencePiece does by default (split by whitespace and by Unicode script):
runs of Han characters, runs of other letters, runs of digits; every space is its own ``▁`` token and
every other character (punctuation, symbols) its own pre-token. A Han run is a clause, so merges
learn words and short phrases (质量, 还不错, 不喜欢) but never glue a character to a comma. Splitting
every Han character apart (BERT's BasicTokenizer) would make these models identical to the character
tokenizer on Chinese; a plain Metaspace split (whole sentences as one pre-token, the alternative for
Unigram) lets pieces swallow punctuation (Unigram learns "岁七个月," and ".而且") and trains Unigram
more than twice as slowly (11.7 s against 4.9 s on 3,000 zh-reviews texts). Single-character
punctuation also keeps WordPiece's ``##`` unambiguous when decoding. ``bytebpe`` keeps GPT-2's
ByteLevel pre-tokenizer, whose regex already separates letters (Han included), digits and punctuation.

Our five specials are the trainers' ``special_tokens``, so they get ids 0..4 as in every scratchlm
vocabulary. They are then removed from HF's "added tokens", which HF would otherwise match in raw
text: a review containing the characters ``[SEP]`` must not produce the separator id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from scratchlm.errors import DataError, MissingExtraError
from scratchlm.io import split_lines
from scratchlm.tokenizers.base import SPACE, SUBWORD_KINDS, Tokenizer, read_metadata
from scratchlm.tokenizers.normalize import normalize_aligned
from scratchlm.tokenizers.vocab import SPECIALS, UNK, Vocab

META_FILE = "scratchlm_tokenizer.json"  # ours; tokenizer.json is the Hugging Face file
HF_FILE = "tokenizer.json"
DEFAULT_VOCAB_SIZE = 8000
CONTINUATION = "##"  # WordPiece's prefix for non-initial pieces
# ▁ | Han run | digit run | run of other letters (with combining marks) | any other single character
PRE_TOKEN = r"▁|\p{Han}+|\p{N}+|[\p{L}\p{M}&&[^\p{Han}]]+|[^\p{L}\p{M}\p{N}▁]"


def _hf():
    try:
        import tokenizers
    except ImportError:
        raise MissingExtraError(
            "subword tokenizers need the Python package 'tokenizers': pip install tokenizers"
        ) from None
    return tokenizers


def _pipeline(kind: str, vocab_size: int, min_freq: int):
    """An untrained HF tokenizer and its trainer."""
    hf = _hf()
    from tokenizers import decoders, models, normalizers, pre_tokenizers, trainers

    specials = list(SPECIALS)
    common = {"vocab_size": vocab_size, "special_tokens": specials, "show_progress": False}
    if kind == "bytebpe":
        tok = hf.Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        alphabet = pre_tokenizers.ByteLevel.alphabet()
        return tok, trainers.BpeTrainer(min_frequency=min_freq, initial_alphabet=alphabet, **common)
    if kind == "bpe":
        tok = hf.Tokenizer(models.BPE(unk_token=UNK))
        trainer = trainers.BpeTrainer(min_frequency=min_freq, **common)
    elif kind == "wordpiece":
        # a clause of Han characters is one pre-token: allow long ones (the default 100 gives [UNK])
        tok = hf.Tokenizer(models.WordPiece(unk_token=UNK, max_input_chars_per_word=1000))
        trainer = trainers.WordPieceTrainer(
            min_frequency=min_freq, continuing_subword_prefix=CONTINUATION, **common
        )
    elif kind == "unigram":
        tok = hf.Tokenizer(models.Unigram())
        trainer = trainers.UnigramTrainer(unk_token=UNK, **common)
    else:
        raise DataError(f"unknown subword kind {kind!r}; use one of {', '.join(SUBWORD_KINDS)}")
    tok.normalizer = normalizers.Replace(" ", SPACE)  # one character for one: offsets unchanged
    tok.pre_tokenizer = pre_tokenizers.Split(hf.Regex(PRE_TOKEN), behavior="isolated")
    return tok, trainer


def _without_added_tokens(tok):
    """The same tokenizer with the specials only in the model's vocabulary (see the module doc)."""
    spec = json.loads(tok.to_str())
    spec["added_tokens"] = []
    return _hf().Tokenizer.from_str(json.dumps(spec, ensure_ascii=False))


class SubwordTokenizer(Tokenizer):
    """A trained HF ``tokenizers.Tokenizer`` behind scratchlm's interface."""

    def __init__(self, hf_tokenizer, kind: str, *, normalize: bool = True, lowercase: bool = False):
        if kind not in SUBWORD_KINDS:
            raise DataError(f"unknown subword kind {kind!r}; use one of {', '.join(SUBWORD_KINDS)}")
        self.hf = hf_tokenizer
        self.kind = kind
        self.normalize = normalize
        self.lowercase = lowercase
        size = hf_tokenizer.get_vocab_size(with_added_tokens=False)
        self.vocab = Vocab([hf_tokenizer.id_to_token(i) for i in range(size)])

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def train(
        cls,
        texts: Iterable[str],
        *,
        kind: str,
        vocab_size: int = DEFAULT_VOCAB_SIZE,
        normalize: bool = True,
        lowercase: bool = False,
        min_freq: int = 1,
    ) -> SubwordTokenizer:
        """Train on the normalised ``texts``. ``min_freq`` is the merges' minimum count (BPE, WordPiece);
        Unigram has no such threshold."""
        tok, trainer = _pipeline(kind, vocab_size, min_freq)
        normalised = [normalize_aligned(t, nfkc=normalize, lowercase=lowercase)[0] for t in texts]
        try:
            tok.train_from_iterator(normalised, trainer)
        except Exception as exc:  # HF raises plain Exceptions
            if "not large enough" not in str(exc):
                raise DataError(f"{kind}: training failed ({exc})") from None
            chars = len(set().union(*map(set, normalised)))  # Unigram keeps every character
            raise DataError(
                f"{kind}: vocab_size {vocab_size} cannot hold the 5 specials and the {chars} distinct "
                f"characters of the corpus, which {kind} must all keep; train with a larger vocab_size"
            ) from None
        tok = _without_added_tokens(tok)
        for i, special in enumerate(SPECIALS):
            if tok.token_to_id(special) != i:  # the trainers promise this; check rather than assume
                raise DataError(f"{kind}: special {special} got id {tok.token_to_id(special)}, not {i}")
        return cls(tok, kind, normalize=normalize, lowercase=lowercase)

    # -- encoding ------------------------------------------------------------------------------
    def split(self, text: str) -> list[tuple[str, tuple[int, int]]]:
        norm, spans = normalize_aligned(text, nfkc=self.normalize, lowercase=self.lowercase)
        if not norm:
            return []
        enc = self.hf.encode(norm, add_special_tokens=False)
        out = []
        for token, (start, end) in zip(enc.tokens, enc.offsets, strict=True):
            start = min(start, len(spans) - 1)
            out.append((token, (spans[start][0], spans[max(start, end - 1)][1])))
        return out

    def decode(self, ids: Iterable[int], *, skip_specials: bool = True) -> str:
        specials = self.vocab.special_ids
        ids = [i for i in ids if not (skip_specials and i in specials)]
        if self.kind == "bytebpe":  # bytes -> UTF-8 (a cut multi-byte character gives U+FFFD)
            return self.hf.decode(ids, skip_special_tokens=False)
        return super().decode(ids, skip_specials=False)

    def _surface(self, token: str) -> str:
        if token == SPACE:
            return " "
        if self.kind == "wordpiece" and token.startswith(CONTINUATION) and len(token) > len(CONTINUATION):
            return token[len(CONTINUATION) :]
        return token

    # -- persistence ---------------------------------------------------------------------------
    def save(self, directory: str | Path) -> None:
        from scratchlm.io import atomic_write_json, atomic_write_text

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        atomic_write_text(directory / HF_FILE, self.hf.to_str(pretty=True))
        self.vocab.save(directory / "vocab.txt")  # for readers of tokenizer/vocab.txt (vectors, runs)
        atomic_write_json(
            directory / META_FILE,
            {
                "kind": self.kind,
                "normalize": self.normalize,
                "lowercase": self.lowercase,
                "vocab_size": len(self.vocab),
                "hf_file": HF_FILE,
            },
        )

    @classmethod
    def load(cls, directory: str | Path) -> SubwordTokenizer:
        directory = Path(directory)
        meta = read_metadata(directory, META_FILE)
        path = directory / meta.get("hf_file", HF_FILE)
        try:
            hf_tokenizer = _hf().Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises plain Exceptions for missing or malformed files
            raise DataError(f"{path}: cannot read the Hugging Face tokenizer ({exc})") from None
        return cls(
            hf_tokenizer,
            meta.get("kind"),
            normalize=bool(meta.get("normalize", True)),
            lowercase=bool(meta.get("lowercase", False)),
        )


def import_bert_wordpiece(directory: str | Path) -> SubwordTokenizer:
    """A BERT-family WordPiece tokenizer (``tokenizer.json``, or ``vocab.txt`` with BERT's normaliser and
    pre-tokeniser) as a scratchlm ``wordpiece`` tokenizer that cuts every text into the same pieces. The
    five specials move to ids 0-4 (scratchlm's layout); every other token keeps its order, so
    ``scratchlm transplant --strategy exact`` copies every row of the model's embedding matrix."""
    from tokenizers import decoders, models, normalizers, pre_tokenizers

    directory = Path(directory)
    spec_file, vocab_file = directory / HF_FILE, directory / "vocab.txt"
    if spec_file.is_file():
        try:
            spec = json.loads(spec_file.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DataError(f"{spec_file}: not a readable tokenizer.json ({exc})") from None
        model = spec.get("model") if isinstance(spec, dict) else None
        if not isinstance(model, dict) or model.get("type") != "WordPiece":
            kind = model.get("type") if isinstance(model, dict) else None
            raise DataError(f"{spec_file}: a {kind or 'unknown'} model, not WordPiece (BERT family)")
        tokens = [t for t, _ in sorted(model.get("vocab", {}).items(), key=lambda kv: kv[1])]
    elif vocab_file.is_file():
        spec, tokens = None, split_lines(vocab_file.read_text(encoding="utf-8"))
    else:
        raise DataError(f"{directory}: no tokenizer.json or vocab.txt (a BERT-family tokenizer)")
    missing = [t for t in SPECIALS if t not in tokens]
    if missing:
        raise DataError(f"{directory}: the vocabulary lacks {', '.join(missing)} (BERT's specials)")
    order = list(SPECIALS) + [t for t in tokens if t not in SPECIALS]
    vocab = dict(zip(order, range(len(order)), strict=True))
    if len(vocab) < len(order):
        raise DataError(f"{directory}: the vocabulary repeats a token")
    if spec is None:
        tok = _hf().Tokenizer(models.WordPiece(vocab, unk_token=UNK, continuing_subword_prefix=CONTINUATION))
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece(prefix=CONTINUATION)
    else:  # its own normaliser, pre-tokeniser and decoder; specials are added by scratchlm, not by it
        spec["model"]["vocab"] = vocab
        spec.update(added_tokens=[], post_processor=None, padding=None, truncation=None)
        tok = _hf().Tokenizer.from_str(json.dumps(spec, ensure_ascii=False))
    # the model's own normaliser lowercases and splits CJK characters: scratchlm's NFKC would change
    # pieces the model knows (full-width punctuation), so it is off
    return SubwordTokenizer(tok, "wordpiece", normalize=False, lowercase=False)
