"""``scratchlm generate`` on a tiny causal-LM run: streamed text, --json, --input/--output files, the
length limit and bad options as one-line errors, and runs that do not generate."""

from __future__ import annotations

import json

import pytest

from cli_helpers import ROOT, cli, run_cli

SMALL = [
    "model.embed_dim=32",
    "model.encoder.num_layers=1",
    "model.encoder.ffn_dim=64",
    "data.max_seq_len=32",
]
SMALL += ["train.batch_size=8", "train.num_threads=1", "train.progress=false", "train.max_steps=30"]


@pytest.fixture(scope="module")
def clm_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen")
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(f"这本书写得很好第{i}次" for i in range(200)) + "\n", encoding="utf-8")
    sets = [f"data.corpus={corpus}", *SMALL]
    out = root / "run"
    r = run_cli(
        "train",
        str(ROOT / "configs" / "pd1998_clm.yaml"),
        "--out",
        str(out),
        *[a for s in sets for a in ("--set", s)],
    )
    assert r.returncode == 0, r.stderr
    return out


def test_generate_streams_and_json_agree(clm_run, capsys):
    status, out, err = cli(capsys, "generate", str(clm_run), "这本书", "好", "--max-new-tokens", "6")
    assert status == 0, err
    lines = out.splitlines()
    assert len(lines) == 2 and lines[0].startswith("这本书") and lines[1].startswith("好")
    status, out, _ = cli(capsys, "generate", str(clm_run), "--json", "这本书", "好", "--max-new-tokens", "6")
    results = json.loads(out)
    assert [r["prompt"] + r["text"] for r in results] == lines  # batched JSON = streamed one by one
    assert all(r["tokens"] <= 6 and r["finish_reason"] in ("eos", "length", "stop") for r in results)
    sampled = [
        "generate",
        str(clm_run),
        "--json",
        "书",
        "--temperature",
        "1.2",
        "--top-k",
        "5",
        "--seed",
        "4",
    ]
    assert cli(capsys, *sampled)[1] == cli(capsys, *sampled)[1]  # a seed, the same sample


def test_generate_a_file(clm_run, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "这本", "id": 7}\n"书"\n', encoding="utf-8")
    out = tmp_path / "out.jsonl"
    status, _, err = cli(
        capsys, "generate", str(clm_run), "--input", str(src), "--output", str(out), "--max-new-tokens", "4"
    )
    assert status == 0 and "2 generations written" in err
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["id"] == 7 and rows[0]["text"] == "这本"
    assert all(set(r["generated"]) == {"text", "tokens", "prompt_tokens", "finish_reason"} for r in rows)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["这本书", "--max-new-tokens", "40"], "of the model's 32 positions"),
        (["这", "--top-p", "0"], "top_p=0.0"),
        (["这", "--beam-size", "3"], "beam_size applies to seq2seq"),
        (["这", "--input", "x.jsonl"], "not both"),
    ],
)
def test_generate_errors_are_one_line(clm_run, capsys, args, message):
    status, out, err = cli(capsys, "generate", str(clm_run), *args)
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1 and out == ""


def test_a_classifier_run_does_not_generate(tiny_run, capsys):
    status, _, err = cli(capsys, "generate", str(tiny_run), "hello")
    assert status == 2 and "does not generate text" in err
