"""Tagged data from users' files (jsonl, token/TAG txt): schemes, labels, and errors naming file and line
(which task a file is: tests/tasks/test_registry.py)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fuzz_helpers
from scratchlm.config import DataConfig
from scratchlm.data.tagging import load_tagging_data, read_tagged_file
from scratchlm.errors import DataError


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(n: int, scheme: str = "bio"):
    if scheme == "bio":
        return [
            {
                "tokens": list(f"张三在北京{chr(0x4E00 + i)}"),
                "tags": ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O"],
            }
            for i in range(n)
        ]
    return [{"text": f"我爱北京{chr(0x4E00 + i)}", "tags": ["S", "S", "B", "E", "S"]} for i in range(n)]


def test_user_jsonl_and_txt_files(tmp_path):
    f = _write(tmp_path / "ner.jsonl", [json.dumps(r, ensure_ascii=False) for r in _rows(40)])
    data = load_tagging_data(DataConfig(dataset=str(f)))
    assert data.scheme == "bio" and data.labels == ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"]
    assert sum(len(v) for v in data.splits.values()) == 40
    t = _write(tmp_path / "cws.txt", ["迈/b 向/e 充/B 满/E", "", "的/s"])
    data = load_tagging_data(DataConfig(dataset=str(t), dev_file=str(t), test_file=str(t)))
    assert data.scheme == "bmes" and data.labels == ["B", "M", "E", "S"]
    assert data.splits["dev"][0].tags == ("B", "E", "B", "E")
    rows = read_tagged_file(
        _write(tmp_path / "s.jsonl", [json.dumps(_rows(1, "bmes")[0], ensure_ascii=False)])
    )
    assert rows[0].text == "我爱北京一"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"tokens": ["a", "b"], "tags": ["O"]}'], ":1: 2 tokens but 1 tags"),
        (
            ['{"tokens": ["a"], "tags": ["O"]}', '{"tokens": ["a"], "tags": ["X-PER"]}'],
            ":2: token 1: tag 'X-PER' is not a BIO tag",
        ),
        (
            ['{"tokens": ["a", "b"], "tags": ["O", "I-PER"]}'],
            ":1: tag 'I-PER' (token 2) cannot follow 'O' under BIO",
        ),
        (['{"tokens": ["a"], "tags": "O"}'], ":1: field 'tags' must be a list of strings"),
        (['{"words": ["a"], "tags": ["O"]}'], ":1: no field 'tokens' or 'text'"),
        (["not json"], ":1: invalid JSON"),
        (['{"tokens": [], "tags": []}'], ":1: a sentence with no tokens"),
    ],
)
def test_bad_jsonl_names_file_and_line(tmp_path, lines, message):
    f = _write(tmp_path / "bad.jsonl", lines)
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        load_tagging_data(DataConfig(dataset=str(f), task="tagging", tag_scheme="bio"))
    assert str(f) in str(info.value)


def test_bad_txt_and_scheme_mismatch(tmp_path):
    f = _write(tmp_path / "bad.txt", ["迈/B 向/E", "充满/B"])
    with pytest.raises(DataError, match=r"bad.txt:2: tag 'B' cannot end a sentence"):
        load_tagging_data(DataConfig(dataset=str(f)))
    g = _write(tmp_path / "noslash.txt", ["迈/B 向"])
    with pytest.raises(DataError, match=r"noslash.txt:1: item 2 '向' is not token/TAG"):
        load_tagging_data(DataConfig(dataset=str(g)))
    with pytest.raises(DataError, match="tagged with BMES; set data.tag_scheme to bmes"):
        load_tagging_data(DataConfig(dataset="pd1998-cws", tag_scheme="bio"))
    with pytest.raises(DataError, match="has no tags"):
        load_tagging_data(DataConfig(dataset="zh-reviews", task="tagging"))


def test_dev_type_unknown_to_training_is_an_error(tmp_path):
    train = _write(tmp_path / "train.jsonl", [json.dumps(r, ensure_ascii=False) for r in _rows(5)])
    dev = _write(tmp_path / "dev.jsonl", ['{"tokens": ["a"], "tags": ["B-ORG"]}'])
    with pytest.raises(
        DataError, match=r"dev.jsonl:1: tag 'B-ORG' in the dev data has a type the training data never uses"
    ):
        load_tagging_data(DataConfig(dataset=str(train), dev_file=str(dev), test_file=str(dev)))


def test_jsonl_tokens_holding_line_separators_round_trip(tmp_path):
    from scratchlm.data.tagging import make_example, write_tagged_jsonl

    write_tagged_jsonl(tmp_path / "t.jsonl", [make_example(["a\u2028b", "c"], ["B", "E"], "x")] * 2)
    back = read_tagged_file(tmp_path / "t.jsonl")
    assert len(back) == 2 and back[0].tokens == ("a\u2028b", "c")


@fuzz_helpers.fuzz()
@given(data=st.data(), suffix=st.sampled_from([".jsonl", ".txt"]), mode=st.sampled_from(["gen", "bytes"]))
def test_fuzz_tagged_files_only_data_errors(tmp_path_factory, data, suffix, mode):
    """Any tagged .jsonl / .txt (token/TAG) file: sentences or a DataError naming the file."""
    path = tmp_path_factory.mktemp("fuzz") / f"t{suffix}"
    tag = st.sampled_from(["B", "M", "E", "S", "O", "B-PER", "I-PER", "I-LOC", "", "x/y"])
    token = st.text(max_size=3)
    if mode == "bytes":
        path.write_bytes(data.draw(st.binary(max_size=200)))
    elif suffix == ".txt":
        items = st.lists(st.tuples(token, tag).map(lambda p: f"{p[0]}/{p[1]}"), max_size=5)
        path.write_text("\n".join(" ".join(i) for i in data.draw(st.lists(items, max_size=4))), encoding="utf-8",
                        errors="surrogatepass")  # fmt: skip
    else:
        record = st.fixed_dictionaries(
            {},
            optional={
                "tokens": st.lists(token, max_size=4) | token,
                "tags": st.lists(tag, max_size=4) | tag,
                "text": token,
            },  # fmt: skip
        )
        lines = [json.dumps(r) for r in data.draw(st.lists(record, max_size=4))]
        path.write_text("\n".join(lines), encoding="utf-8")
    try:
        examples = read_tagged_file(path)
    except DataError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc), str(exc)
    else:
        assert all(len(e.tokens) == len(e.tags) for e in examples)
