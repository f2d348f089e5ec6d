"""Reading users' data files (jsonl / csv / tsv): fields, label strings, write/read round trip, and
errors naming file and line."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fuzz_helpers
from scratchlm.data.files import read_examples, write_jsonl
from scratchlm.errors import DataError


def _jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


# -- reading ---------------------------------------------------------------------------------------


def test_jsonl_custom_fields_int_labels_and_sources(tmp_path):
    f = tmp_path / "d.jsonl"
    f.write_text(
        '{"review": "很好", "stars": 1, "extra": true}\n'
        "\n"
        '{"review": "很差", "stars": 0}\n'
        '{"review": "一般", "stars": "2"}\n'
        '{"review": "还行", "stars": 3.0}\n',
        encoding="utf-8",
    )
    ex = read_examples(f, text_field="review", label_field="stars")
    assert [e.text for e in ex] == ["很好", "很差", "一般", "还行"]
    assert [e.label for e in ex] == ["1", "0", "2", "3"]
    assert all(isinstance(e.label, str) for e in ex)
    assert [e.source for e in ex] == [f"{f}:1", f"{f}:3", f"{f}:4", f"{f}:5"]


def test_csv_with_header_quotes_and_custom_fields(tmp_path):
    f = tmp_path / "d.csv"
    f.write_text('id,sentence,y\n1,"a, quoted ""text""",pos\n2,plain,7\n', encoding="utf-8")
    ex = read_examples(f, text_field="sentence", label_field="y")
    assert [(e.text, e.label) for e in ex] == [('a, quoted "text"', "pos"), ("plain", "7")]
    assert ex[1].source == f"{f}:3"


def test_tsv_and_utf8_bom(tmp_path):
    f = tmp_path / "d.tsv"
    f.write_bytes("\ufefftext\tlabel\n好 书\tpositive\n差\tnegative\n".encode())
    ex = read_examples(f)
    assert [(e.text, e.label) for e in ex] == [("好 书", "positive"), ("差", "negative")]


def test_tsv_custom_fields_and_a_quoted_tab(tmp_path):
    t = tmp_path / "a.tsv"
    t.write_text('y\treview\npos\t很好\nneg\t"很\t差"\n', encoding="utf-8")
    rows = read_examples(t, text_field="review", label_field="y")
    assert [(e.text, e.label) for e in rows] == [("很好", "pos"), ("很\t差", "neg")]  # the quoted tab stays


def test_write_jsonl_round_trip(tmp_path):
    f = tmp_path / "d.jsonl"
    ex = read_examples(
        _jsonl(tmp_path / "in.jsonl", [{"text": "中文", "label": "a"}, {"text": "b", "label": 2}])
    )
    write_jsonl(f, ex)
    again = read_examples(f)
    assert [(e.text, e.label) for e in again] == [("中文", "a"), ("b", "2")]


def test_unlabelled_reading(tmp_path):
    f = _jsonl(tmp_path / "u.jsonl", [{"text": "a"}, {"text": "b", "label": "x"}])
    ex = read_examples(f, need_label=False)
    assert [(e.text, e.label) for e in ex] == [("a", ""), ("b", "x")]
    with pytest.raises(DataError, match=f"{f}:1: no field 'label'"):
        read_examples(f)


# -- errors name file and line -------------------------------------------------------------------


def test_non_utf8_bytes_on_line_3(tmp_path):
    f = tmp_path / "bad.jsonl"
    f.write_bytes(
        b'{"text": "a", "label": "x"}\n{"text": "b", "label": "y"}\n{"text": "\xff\xfe", "label": "x"}\n'
    )
    with pytest.raises(DataError) as exc:
        read_examples(f)
    assert f"{f}:3: bytes that are not UTF-8" in str(exc.value)


def test_non_utf8_in_csv_line_3(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_bytes(b"text,label\nok,a\n\xe9t\xe9,b\n")
    with pytest.raises(DataError, match=rf"{f}:3:"):
        read_examples(f)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ('{"text": "a", "label": "x"}\n{"text": "b", "label": \n', ":2: invalid JSON"),
        ('{"text": "a", "label": "x"}\n\n["a", "x"]\n', ":3: expected a JSON object"),
        ('{"text": "a", "label": "x"}\n{"body": "b", "label": "y"}\n', ":2: no field 'text'"),
        ('{"text": "a", "label": "x"}\n{"text": "b"}\n', ":2: no field 'label'"),
        ('{"text": "a", "label": "x"}\n{"text": "  ", "label": "y"}\n', ":2: empty text"),
        ('{"text": "a", "label": "x"}\n{"text": "b", "label": " "}\n', ":2: empty label"),
        ('{"text": "a", "label": null}\n', ":1: empty label"),
        ('{"text": 5, "label": "x"}\n', ":1: field 'text' must be a string"),
        ('{"text": "a", "label": [1]}\n', ":1: label [1]"),
    ],
)
def test_jsonl_errors_name_file_and_line(tmp_path, content, needle):
    f = tmp_path / "data.jsonl"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as exc:
        read_examples(f)
    assert f"{f}{needle}" in str(exc.value)


@pytest.mark.parametrize(
    ("suffix", "content", "needle"),
    [
        (".csv", "text,label\na,x\nb,y,z\n", ":3: 3 columns, the header has 2"),
        (".csv", "text,label\na,x\nb\n", ":3: 1 columns, the header has 2"),
        (".tsv", "text\tlabel\na\tx\n\ty\n", ":3: empty text"),
        (".tsv", "text\tlabel\na\tx\nb\t\n", ":3: empty label"),
        (".csv", "body,label\na,x\n", ":1: no column 'text'"),
        (".csv", "text,y\na,x\n", ":1: no column 'label'"),
    ],
)
def test_csv_tsv_errors_name_file_and_line(tmp_path, suffix, content, needle):
    f = tmp_path / f"data{suffix}"
    f.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as exc:
        read_examples(f)
    assert f"{f}{needle}" in str(exc.value)


@pytest.mark.parametrize(
    ("name", "content"), [("e.jsonl", ""), ("e.jsonl", "\n\n  \n"), ("e.csv", ""), ("h.csv", "text,label\n")]
)
def test_empty_files_name_the_file(tmp_path, name, content):
    f = tmp_path / name
    f.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as exc:
        read_examples(f)
    assert str(exc.value).startswith(f"{f}: ") and "empty" in str(exc.value)


def test_missing_file_directory_and_unknown_suffix(tmp_path):
    with pytest.raises(DataError, match=f"{tmp_path / 'none.jsonl'}: file not found"):
        read_examples(tmp_path / "none.jsonl")
    d = tmp_path / "dir.csv"
    d.mkdir()
    with pytest.raises(DataError, match=f"{d}: is a directory"):
        read_examples(d)
    x = tmp_path / "data.xlsx"
    x.write_text("text,label\na,b\n")
    with pytest.raises(DataError) as exc:
        read_examples(x)
    assert f"{x}: unknown data format '.xlsx'" in str(exc.value)
    txt = tmp_path / "a.txt"
    txt.write_text("a\n")
    with pytest.raises(DataError, match=f"{txt}: unknown data format '.txt'"):
        read_examples(txt)
    with pytest.raises(DataError, match="'\\(none\\)'"):
        read_examples(tmp_path / "noext")


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085", "\x0c", "\x1c"])
def test_jsonl_records_holding_line_separators_round_trip(tmp_path, separator):
    """json.dumps(ensure_ascii=False), the project's own writer, leaves these unescaped: a reader that
    split lines on them (str.splitlines) cut the record in two."""
    from scratchlm.data.examples import Example

    examples = [Example(f"前{separator}后", "pos", ""), Example("第二条", "neg", "")]
    write_jsonl(tmp_path / "d.jsonl", examples)
    back = read_examples(tmp_path / "d.jsonl")
    assert [(e.text, e.label) for e in back] == [(f"前{separator}后", "pos"), ("第二条", "neg")]
    assert back[1].source.endswith(":2")


# ------------------------------------------------------------------------------------------- fuzzing
_FIELD = st.sampled_from(["text", "label", "x", "", "TEXT"])
_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=10),
    st.lists(st.integers(), max_size=2),
)
_RECORD = st.one_of(st.dictionaries(_FIELD, _VALUE, max_size=3), _VALUE)


def _jsonl_text(draw) -> str:
    lines = draw(st.lists(_RECORD.map(lambda r: json.dumps(r, ensure_ascii=draw(st.booleans()))), max_size=5))
    junk = draw(st.lists(st.text(max_size=20), max_size=2))
    return "\n".join(lines + junk)


def _table_text(draw, sep: str) -> str:
    cell = st.text(alphabet=st.characters(codec="utf-8"), max_size=6) | st.sampled_from(
        ["text", "label", '"', sep]
    )
    rows = draw(st.lists(st.lists(cell, max_size=4), max_size=5))
    return "\n".join(sep.join(row) for row in rows)


@fuzz_helpers.fuzz()
@given(
    data=st.data(), suffix=st.sampled_from([".jsonl", ".csv", ".tsv"]), mode=st.sampled_from(["gen", "bytes"])
)
def test_fuzz_user_data_files_only_data_errors(tmp_path_factory, data, suffix, mode):
    """Any .jsonl / .csv / .tsv file, well-formed or not: examples or a DataError naming the file."""
    path = tmp_path_factory.mktemp("fuzz") / f"d{suffix}"
    if mode == "bytes":
        path.write_bytes(data.draw(st.binary(max_size=200)))
    elif suffix == ".jsonl":
        path.write_text(_jsonl_text(data.draw), encoding="utf-8", errors="surrogatepass")
    else:
        path.write_text(_table_text(data.draw, "," if suffix == ".csv" else "\t"), encoding="utf-8")
    for need_label in (True, False):
        try:
            examples = read_examples(path, need_label=need_label)
        except DataError as exc:
            assert str(path) in str(exc) and "\n" not in str(exc), str(exc)
        else:
            assert examples and all(isinstance(e.text, str) and e.text.strip() for e in examples)
