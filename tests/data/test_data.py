"""Built-in zh-reviews exactly as DATA.md defines it; user files with file:line errors."""

from __future__ import annotations

import hashlib
import json

import pytest

from scratchlm.config import DataConfig
from scratchlm.data import load_classification_data
from scratchlm.data.builtin import load_zh_reviews, pd1998_sentences
from scratchlm.data.files import read_examples
from scratchlm.errors import DataError


def test_zh_reviews_matches_the_data_notes():
    data = load_zh_reviews()
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 13936, "dev": 1697, "test": 1730}
    assert data.notes["conflicting_texts"] == 47
    assert data.labels == ["negative", "positive"]
    for split, examples in data.splits.items():
        for ex in examples[:500]:
            h = int(hashlib.sha1(ex.text.encode("utf-8")).hexdigest(), 16) % 10
            assert split == ("test" if h == 0 else "dev" if h == 1 else "train")
    texts = [ex.text for v in data.splits.values() for ex in v]
    assert len(texts) == len(set(texts))


def test_pd1998_text_has_no_tags():
    sentences = pd1998_sentences()
    assert len(sentences) == 19484
    assert not any("/" in s for s in sentences[:200])
    assert sentences[1] == "中共中央总书记、国家主席江泽民"


def test_user_files_with_custom_fields(tmp_path):
    j = tmp_path / "a.jsonl"
    j.write_text('{"review": "好", "y": 1}\n\n{"review": "差", "y": 0}\n', encoding="utf-8")
    ex = read_examples(j, text_field="review", label_field="y")
    assert [(e.text, e.label) for e in ex] == [("好", "1"), ("差", "0")] and ex[1].source == f"{j}:3"
    t = tmp_path / "a.tsv"
    t.write_text('y\treview\npos\t很好\nneg\t"很\t差"\n', encoding="utf-8")
    rows = read_examples(t, text_field="review", label_field="y")
    assert [(e.text, e.label) for e in rows] == [
        ("很好", "pos"),
        ("很\t差", "neg"),
    ]  # quoted field keeps its tab


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        (
            "a.jsonl",
            b'{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n{"text": "\xff", "label": "x"}\n',
            ":3: bytes that are not UTF-8",
        ),
        ("a.jsonl", b'{"text": "a", "label": "x"}\n{"text": "b",\n', ":2: invalid JSON"),
        ("a.jsonl", b'{"txt": "a", "label": "x"}\n', ":1: no field 'text'"),
        ("a.jsonl", b'{"text": "  ", "label": "x"}\n', ":1: empty text"),
        ("a.jsonl", b'{"text": "a", "label": ""}\n', ":1: empty label"),
        ("a.csv", b"text,label\na,x\nb,y,z\n", ":3: 3 columns, the header has 2"),
        ("a.csv", b"", "empty file"),
        ("a.txt", b"a\n", "unknown data format"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path, name, content, needle):
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(DataError) as exc:
        read_examples(f)
    assert needle in str(exc.value) and str(f) in str(exc.value)


def test_single_file_is_split_by_the_sha1_rule_and_dev_labels_are_checked(tmp_path):
    rows = [{"text": f"评论{i}", "label": "pos" if i % 2 else "neg"} for i in range(200)]
    f = tmp_path / "all.jsonl"
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    data = load_classification_data(DataConfig(dataset=str(f)))
    assert sum(len(v) for v in data.splits.values()) == 200 and all(data.splits.values())
    dev = tmp_path / "dev.jsonl"
    dev.write_text('{"text": "x", "label": "pos"}\n{"text": "y", "label": "meh"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"dev.jsonl:2: label 'meh' in the dev data"):
        load_classification_data(DataConfig(train_file=str(f), dev_file=str(dev)))
    with pytest.raises(DataError, match="unknown dataset 'zh-review'; did you mean zh-reviews"):
        load_classification_data(DataConfig(dataset="zh-review"))
