"""cmudict-g2p as ../shared/DATA.md defines it, and users' pair files with errors naming file and line."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fuzz_helpers
from scratchlm.config import DataConfig
from scratchlm.data.seq2seq import (
    CMU_PHONES,
    load_cmudict_g2p,
    load_seq2seq_data,
    parse_cmudict,
    read_pair_file,
)
from scratchlm.data.splits import split_of
from scratchlm.errors import DataError

SAMPLE = """\
'bout B AW1 T
aalborg AO1 L B AO0 R G # place, danish
read R EH1 D
read(2) R IY1 D
record R EH1 K ER0 D
record(2) R EH0 K ER1 D
"""


def test_parse_cmudict_alternates_comments_and_stress():
    examples, notes = parse_cmudict(SAMPLE, "x.dict")
    by_word = {ex.source: ex.targets for ex in examples}
    assert by_word["aalborg"] == (("AO", "L", "B", "AO", "R", "G"),)  # the comment is gone, stress too
    assert by_word["read"] == (("R", "EH", "D"), ("R", "IY", "D"))  # word(2) is a second reference
    assert by_word["record"] == (("R", "EH", "K", "ER", "D"),)  # alternates differing only in stress: one
    assert notes == {"entries": 6, "stress_only_duplicates": 1}
    assert examples[0].where == "x.dict:1"
    with pytest.raises(DataError, match=r"x.dict:2: unknown phone"):
        parse_cmudict("ok OW1 K\nbad Q1 X\n", "x.dict")
    with pytest.raises(DataError, match=r"x.dict:1: expected"):
        parse_cmudict("lonely\n", "x.dict")


def test_builtin_cmudict_g2p_splits_by_word():
    data = load_cmudict_g2p()
    sizes = {name: len(examples) for name, examples in data.splits.items()}
    assert sizes == {"train": 100792, "dev": 12620, "test": 12640}
    assert sorted(data.labels) == sorted(CMU_PHONES) and len(CMU_PHONES) == 39
    for name, examples in data.splits.items():
        for ex in examples[::500]:
            assert split_of(ex.source) == name
    assert sum(len(ex.targets) for ex in data.splits["train"]) == 107860  # training pairs


def test_user_jsonl_and_tsv(tmp_path):
    jsonl = tmp_path / "pairs.jsonl"
    rows = [
        {"source": "read", "target": "R EH D"},
        {"source": "read", "target": ["R", "IY", "D"]},
        {"source": "cat", "target": "K AE T"},
    ]
    jsonl.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    examples = read_pair_file(jsonl)
    assert [(ex.source, ex.targets) for ex in examples] == [
        ("read", (("R", "EH", "D"), ("R", "IY", "D"))),
        ("cat", (("K", "AE", "T"),)),
    ]
    tsv, test = tmp_path / "pairs.tsv", tmp_path / "test.tsv"
    tsv.write_text("word\tphones\ncat\tK AE T\ndog\tD AO G\n", encoding="utf-8")
    test.write_text("phones\tword\nR EH D\tread\nR IY D\tread\nK AE T\tcat\n", encoding="utf-8")
    cfg = DataConfig(
        dataset=str(tsv), task="seq2seq", source_field="word", target_field="phones", test_file=str(test)
    )
    data = load_seq2seq_data(cfg)
    assert len(data.splits["test"]) == 2 and len(data.splits["train"]) + len(data.splits["dev"]) == 2


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"source": "a", "target": "X"}\n{"source": "", "target": "X"}\n', r"pairs.jsonl:2: empty source"),
        ('{"source": "a", "target": "  "}\n', r"pairs.jsonl:1: empty target"),
        ('{"source": "a"}\n', r"pairs.jsonl:1: no field 'target'.*data.target_field"),
        ('{"source": "a", "target": [1, 2]}\n', r"pairs.jsonl:1: field 'target' must be"),
        ("not json\n", r"pairs.jsonl:1: invalid JSON"),
        ("", r"pairs.jsonl: no pairs"),
    ],
)
def test_bad_pair_files_name_the_line(tmp_path, content, message):
    path = tmp_path / "pairs.jsonl"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_pair_file(path)


def test_bad_tsv_rows(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("source\ttarget\ncat\tK AE T\ndog\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"pairs.tsv:3: 1 columns, the header has 2"):
        read_pair_file(path)
    path.write_text("word\ttarget\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"pairs.tsv:1: no column 'source'.*data.source_field"):
        read_pair_file(path)


def test_pair_jsonl_holding_line_separators_round_trips(tmp_path):
    from scratchlm.data.seq2seq import PairExample, read_pair_file, write_pairs_jsonl

    write_pairs_jsonl(
        tmp_path / "p.jsonl", [PairExample("x\u0085y", (("A", "B"),)), PairExample("z", (("C",),))]
    )
    back = read_pair_file(tmp_path / "p.jsonl")
    assert [(e.source, e.targets) for e in back] == [("x\u0085y", (("A", "B"),)), ("z", (("C",),))]


@fuzz_helpers.fuzz()
@given(data=st.data(), suffix=st.sampled_from([".jsonl", ".tsv"]), mode=st.sampled_from(["gen", "bytes"]))
def test_fuzz_pair_files_only_data_errors(tmp_path_factory, data, suffix, mode):
    """Any .jsonl / .tsv file of pairs: examples or a DataError naming the file."""
    from scratchlm.data.seq2seq import read_pair_file

    path = tmp_path_factory.mktemp("fuzz") / f"p{suffix}"
    value = st.one_of(
        st.none(), st.integers(), st.text(max_size=6), st.lists(st.text(max_size=3), max_size=3)
    )
    if mode == "bytes":
        path.write_bytes(data.draw(st.binary(max_size=200)))
    elif suffix == ".tsv":
        cell = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\t\n\r"), max_size=6)
        rows = data.draw(
            st.lists(st.lists(cell | st.sampled_from(["source", "target"]), max_size=3), max_size=4)
        )
        path.write_text("\n".join("\t".join(r) for r in rows), encoding="utf-8")
    else:
        record = st.dictionaries(st.sampled_from(["source", "target", "x"]), value, max_size=3)
        path.write_text(
            "\n".join(json.dumps(r) for r in data.draw(st.lists(record, max_size=4))), encoding="utf-8"
        )
    try:
        examples = read_pair_file(path)
    except DataError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc), str(exc)
    else:
        assert all(e.targets and all(e.targets) for e in examples)
