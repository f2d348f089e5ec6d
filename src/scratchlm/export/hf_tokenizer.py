"""A scratchlm tokenizer as Hugging Face files: ``tokenizer.json`` (the ``tokenizers`` pipeline) and
``tokenizer_config.json``, so that ``transformers.AutoTokenizer.from_pretrained(DIR)`` gives the ids
scratchlm gives, ``[CLS]`` first, and knows the five specials (``[PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3
[MASK]=4``).

Our normalisation (:mod:`scratchlm.tokenizers.normalize`) runs in Python before the subword models; here
it becomes the pipeline's normalizer: NFKC (which folds full-width forms and the ideographic space as
our full-width map does), lowercase, every whitespace run to one space, the edges stripped, then the
tokenizer's own normalizer (subword: a space becomes ``▁``). The character tokenizer is a ``WordLevel``
model over one pre-token per normalised character.

Two differences stay, by design of the HF pipeline: NFKC runs on the whole text, ours on each character
on its own, so a letter followed by a combining mark (``e`` + U+0301) composes to one character in HF
and stays two in scratchlm; and transformers matches its special tokens in raw text, so the characters
``[SEP]`` written in a text become the separator id there and five characters in scratchlm.

jieba cannot be written: its segmentation (a prefix dictionary and an HMM, in Python) would be the
pipeline's pre-tokenizer, and ``tokenizer.json`` can only hold the built-in components of ``tokenizers``.
"""

from __future__ import annotations

from pathlib import Path

from scratchlm.errors import DataError
from scratchlm.tokenizers.base import SPACE, SUBWORD_KINDS, Tokenizer
from scratchlm.tokenizers.vocab import CLS, MASK, PAD, SEP, UNK

JIEBA_ERROR = (
    "a jieba tokenizer cannot be exported for transformers: its word segmentation (jieba's dictionary and "
    "HMM, Python code) would be the pre-tokenizer, and tokenizer.json holds only the built-in components "
    "of the `tokenizers` library. Train a kind it can hold (--kind char, bpe, bytebpe, wordpiece or "
    "unigram), or segment with jieba in Python and map the words to ids with the run's vocab.txt"
)
WHITESPACE = r"[\s\x1c-\x1f]+"  # str.isspace() is the \s of Unicode plus the four separators U+001C-1F
DEFAULT_TEXTS = ("质量很好，物流也快！", "Ｔｈｅ ｂｏｏｋ is  GOOD\t很喜欢 2024年", "  ok,不错  ")


def _hf():
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    return Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors


def _normalizer(tokenizer: Tokenizer, own):
    Regex, _, _, _, normalizers, _, _ = _hf()
    steps = [normalizers.NFKC()] if tokenizer.normalize else []
    if tokenizer.lowercase:
        steps.append(normalizers.Lowercase())
    steps += [normalizers.Replace(Regex(WHITESPACE), " "), normalizers.Strip()]
    if own is not None:
        steps.append(own)
    return normalizers.Sequence(steps)


def hf_pipeline(tokenizer: Tokenizer):
    """The ``tokenizers.Tokenizer`` that encodes (with ``[CLS]`` first) as ``tokenizer`` does."""
    Regex, HFTokenizer, decoders, models, normalizers, pre_tokenizers, processors = _hf()
    if tokenizer.kind == "jieba":
        raise DataError(JIEBA_ERROR)
    vocab = tokenizer.vocab
    if tokenizer.kind == "char":
        hf = HFTokenizer(models.WordLevel(dict(vocab.index), unk_token=UNK))
        hf.normalizer = _normalizer(tokenizer, normalizers.Replace(" ", SPACE))
        hf.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    elif tokenizer.kind in SUBWORD_KINDS:
        hf = HFTokenizer.from_str(tokenizer.hf.to_str())
        hf.normalizer = _normalizer(tokenizer, tokenizer.hf.normalizer)
    else:
        raise DataError(f"tokenizer kind {tokenizer.kind!r} has no Hugging Face form")
    if tokenizer.kind != "bytebpe":  # bytebpe keeps its ByteLevel decoder
        steps = [decoders.Replace(SPACE, " "), decoders.Fuse()]
        if tokenizer.kind == "wordpiece":
            steps.insert(0, decoders.Replace(Regex("^##(?=.)"), ""))
        hf.decoder = decoders.Sequence(steps)
    hf.post_processor = processors.TemplateProcessing(
        single=f"{CLS} $A",
        pair=f"{CLS} $A {SEP} $B {SEP}",
        special_tokens=[(CLS, vocab.cls_id), (SEP, vocab.sep_id)],
    )
    return hf


def write_hf_tokenizer(tokenizer: Tokenizer, out: str | Path, *, model_max_length: int | None = None) -> dict:
    """Write ``tokenizer.json`` and ``tokenizer_config.json`` into ``out`` (created); the files written."""
    from scratchlm.io import atomic_write_json, atomic_write_text

    hf = hf_pipeline(tokenizer)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "tokenizer.json", hf.to_str(pretty=True))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "pad_token": PAD,
        "unk_token": UNK,
        "cls_token": CLS,
        "sep_token": SEP,
        "mask_token": MASK,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
        "scratchlm_kind": tokenizer.kind,
    }
    if model_max_length is not None:
        config["model_max_length"] = model_max_length
    atomic_write_json(out / "tokenizer_config.json", config)
    return {"files": ["tokenizer.json", "tokenizer_config.json"], "kind": tokenizer.kind}


def check_with_transformers(tokenizer: Tokenizer, out: str | Path, texts=DEFAULT_TEXTS) -> dict | None:
    """Load ``out`` with ``AutoTokenizer`` and compare ids, specials and decoding on ``texts``; ``None``
    when transformers is not installed. A difference is a ``DataError`` naming the text."""
    try:
        import transformers
    except ImportError:
        return None
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()
    try:
        hf = transformers.AutoTokenizer.from_pretrained(str(out))
    finally:
        transformers.logging.set_verbosity(verbosity)
    v = tokenizer.vocab
    specials = {"pad": v.pad_id, "unk": v.unk_id, "cls": v.cls_id, "sep": v.sep_id, "mask": v.mask_id}
    theirs = {k: getattr(hf, f"{k}_token_id") for k in specials}
    if theirs != specials:
        raise DataError(f"{out}: transformers reads the special ids {theirs}, scratchlm has {specials}")
    for text in texts:
        ours, got = tokenizer.encode(text).ids, hf(text)["input_ids"]
        if ours != got:
            raise DataError(f"{out}: transformers gives ids {got} for {text!r}, scratchlm {ours}")
    return {"texts": len(texts), "ids_equal": True, "specials": specials}


def export_tokenizer_hf(tokenizer: Tokenizer, out: str | Path, *, check: bool = True, **kw) -> dict:
    report = write_hf_tokenizer(tokenizer, out, **kw)
    if check:
        report["transformers_check"] = check_with_transformers(tokenizer, out)
    return report
