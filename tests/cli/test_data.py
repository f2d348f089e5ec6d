"""``scratchlm data list|show|export`` as a user runs them, on the built-in classification, tagging and
seq2seq sets."""

from __future__ import annotations

import json

import pytest

from cli_helpers import cli, run_cli


def test_data_commands(tmp_path):
    proc = run_cli("data", "show", "zh-reviews", "--json")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert {k: v["examples"] for k, v in stats["splits"].items()} == {
        "train": 13936,
        "dev": 1697,
        "test": 1730,
    }
    out = tmp_path / "dev.jsonl"
    assert run_cli("data", "export", "zh-reviews", "--split", "dev", "--out", str(out)).returncode == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1697 and set(json.loads(lines[0])) == {"text", "label"}
    assert "zh-reviews" in run_cli("data", "list").stdout


def test_data_commands_know_the_tagging_sets(tmp_path, capsys):
    status, out, err = cli(capsys, "data", "show", "pd1998-ner", "--json")
    assert status == 0, err
    stats = json.loads(out)
    assert {k: v["sentences"] for k, v in stats["splits"].items()} == {
        "train": 15678,
        "dev": 1845,
        "test": 1961,
    }
    assert stats["splits"]["dev"]["spans"] == {"LOC": 2552, "ORG": 317, "PER": 1701}
    _, listing, _ = cli(capsys, "data", "list")
    assert "pd1998-cws" in listing and "pd1998-ner" in listing
    dev = tmp_path / "dev.jsonl"
    assert cli(capsys, "data", "export", "pd1998-cws", "--split", "dev", "--out", str(dev))[0] == 0
    first = json.loads(dev.read_text(encoding="utf-8").splitlines()[0])
    assert set(first) == {"tokens", "tags"} and len(first["tokens"]) == len(first["tags"])


@pytest.mark.slow
def test_data_commands_know_cmudict(tmp_path, capsys):
    status, out, err = cli(capsys, "data", "show", "cmudict-g2p", "--json")
    assert status == 0, err
    stats = json.loads(out)
    assert {k: v["examples"] for k, v in stats["splits"].items()} == {
        "train": 100792,
        "dev": 12620,
        "test": 12640,
    }
    out_file = tmp_path / "test.jsonl"
    status, out, err = cli(capsys, "data", "export", "cmudict-g2p", "--split", "test", "--out", str(out_file))
    assert status == 0, err
    first = json.loads(out_file.read_text().splitlines()[0])
    assert set(first) == {"source", "target"}
    status, out, _ = cli(capsys, "data", "list")
    assert "cmudict-g2p" in out
