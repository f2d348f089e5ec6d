"""``scratchlm encode``: tokens and vectors of a checkpoint folder, minilm-l6 and a run; --compare; the
errors of a folder that is not a checkpoint, a pickle-only .bin and an unknown architecture, one line each."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from hf_helpers import checkpoint_dir
from scratchlm.cli import main


def _out(capsys, argv: list[str]) -> tuple[int, str, str]:
    rc = main(argv)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_encode_prints_tokens_and_vectors(tmp_path_factory, capsys):
    folder = str(checkpoint_dir(tmp_path_factory, "bert", "legacy"))
    rc, out, _ = _out(capsys, ["encode", folder, "你好，世界！"])
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == f"{folder}: bert checkpoint (model.safetensors), 2 layers"
    assert lines[1] == "你好，世界！  (8 tokens, layer last, 32-d)"
    assert [line.split()[0] for line in lines[2:]] == ["[CLS]", "你", "好", "，", "世", "界", "！", "[SEP]"]
    assert all(" ... " in line for line in lines[2:])
    rc, out, _ = _out(capsys, ["encode", folder, "你好", "世界", "--layer", "all", "--json"])
    data = json.loads(out)
    assert rc == 0 and data["num_layers"] == 2 and len(data["texts"]) == 2
    layers = data["texts"][0]["layers"]
    assert list(layers) == ["0", "1", "2"] and len(layers["2"]) == 4 and len(layers["2"][0]) == 32


@pytest.mark.parametrize("source", ["minilm-l6", "albert"])
def test_compare_a_word_in_two_contexts(tmp_path_factory, capsys, source):
    if source == "albert":
        source = str(checkpoint_dir(tmp_path_factory, "albert", "bin"))
        texts, word = ["我在银行存钱", "我们在河边的银行散步"], "银行"
    else:
        texts, word = ["I went to the bank to deposit money", "we sat on the river bank"], "bank"
    rc, out, _ = _out(capsys, ["encode", source, *texts, "--compare", word, "--json"])
    report = json.loads(out)
    assert rc == 0 and report["static_cosine_between_texts"] == 1.0
    cos = report["contextual_cosine"]
    assert cos[0][1] == cos[1][0] and cos[0][1] < 0.99
    assert (report["contextual_vs_static"] is None) == (
        source != "minilm-l6"
    )  # ALBERT: 16-d rows, 32-d vectors
    rc, out, _ = _out(capsys, ["encode", source, *texts, "--compare", word])
    assert rc == 0 and "contextual vectors, cosine similarity:" in out and "the same row in every text" in out


def test_a_run_as_source(tiny_run, capsys):
    rc, out, _ = _out(capsys, ["encode", str(tiny_run), "很好", "--layer", "0"])
    assert rc == 0 and out.splitlines()[1].startswith("很好  (3 tokens, layer 0, ")


def test_errors_are_one_line(tmp_path_factory, tmp_path, capsys):
    import numpy as np

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.json").write_text("{}")
    pickled = tmp_path / "pickled"
    shutil.copytree(checkpoint_dir(tmp_path_factory, "bert", "bin"), pickled)
    torch.save({"w": np.zeros(2)}, pickled / "pytorch_model.bin")
    gpt = tmp_path / "gpt"
    shutil.copytree(checkpoint_dir(tmp_path_factory, "bert", "safetensors"), gpt)
    config = json.loads((gpt / "config.json").read_text())
    (gpt / "config.json").write_text(
        json.dumps({**config, "model_type": "gpt2", "architectures": ["GPT2Model"]})
    )
    cases = [
        ([str(empty), "x"], "not a checkpoint folder: none of model.safetensors"),
        ([str(pickled), "x"], "pytorch_model.bin: needs pickle code to load"),
        ([str(gpt), "x"], "unknown architecture (model_type 'gpt2', architectures ['GPT2Model'])"),
        ([str(gpt.parent / "nope"), "x"], "not a directory"),
        (["minilm-l6", "bank", "--compare", "bank"], "needs two texts or more"),
        (["minilm-l6", "a", "b", "--layer", "9"], "--layer 9: use last, all, or a number from 0"),
    ]
    capsys.readouterr()
    for argv, message in cases:
        rc, _, err = _out(capsys, ["encode", *argv])
        assert rc == 2 and message in err and err.count("\n") == 1, (argv, err)


@pytest.mark.slow  # loads MiniLM twice (about 15 s)
def test_a_sentence_transformers_folder_gives_its_own_sentence_vector(capsys):
    """minilm-l6 is a sentence-transformers folder (mean pooling, Normalize): encode's sentence vector is
    SentenceTransformer.encode's."""
    st = pytest.importorskip("sentence_transformers")
    from scratchlm.data.builtin import bert_directory

    text = "I went to the bank to deposit money"
    want = st.SentenceTransformer(str(bert_directory("minilm-l6")), device="cpu").encode([text])[0]
    rc, out, _ = _out(capsys, ["encode", "minilm-l6", text, "--json"])
    data = json.loads(out)
    assert rc == 0 and (data["pooling"], data["normalize"]) == ("mean", True)
    got = torch.tensor(data["texts"][0]["sentence_vector"])
    torch.testing.assert_close(got, torch.from_numpy(want), atol=1e-5, rtol=0)
    rc, out, _ = _out(capsys, ["encode", "minilm-l6", text])
    assert "sentence vector (mean pooling, normalized): " in out
