"""``scratchlm plot pe``, ``plot embeddings`` and ``plot attention``: JSON matrices against the formulas, PNGs,
trained runs, errors; registration without torch."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from cli_helpers import ROOT, cli_env, run_cli
from scratchlm.cli import main
from scratchlm.config import POSITIONAL_KINDS

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _json(capsys, *args: str) -> dict:
    assert main(list(args)) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("kind", POSITIONAL_KINDS)
def test_pe_json_has_n_rows_and_says_what_it_is(kind, capsys):
    out = _json(capsys, "plot", "pe", "--kind", kind, "--length", "12", "--dim", "6", "--json")
    assert out["kind"] == kind
    width = 12 if kind in ("alibi", "t5_bias") else 6  # biases are (N, N) of head 0
    assert out["shape"] == [12, width] and len(out["matrix"]) == 12
    assert all(len(row) == width for row in out["matrix"])
    assert ("head 0" in out["what"]) == (kind in ("alibi", "t5_bias"))


def test_pe_values_follow_the_formulas(capsys):
    sin = _json(capsys, "plot", "pe", "--kind", "sinusoidal", "--length", "5", "--dim", "4", "--json")[
        "matrix"
    ]
    for p in range(5):
        assert sin[p] == pytest.approx(
            [math.sin(p), math.cos(p), math.sin(p / 100), math.cos(p / 100)], abs=1e-6
        )
    alibi = _json(capsys, "plot", "pe", "--kind", "alibi", "--length", "6", "--json")["matrix"]
    assert alibi == [
        [pytest.approx(-0.5 * abs(i - j)) for j in range(6)] for i in range(6)
    ]  # 8 heads: m_0 = 1/2
    rope = _json(capsys, "plot", "pe", "--kind", "rope", "--length", "9", "--dim", "8", "--json")["matrix"]
    assert rope[0] == pytest.approx([8**-0.5] * 8, abs=1e-6)
    assert all(
        sum(v * v for v in row) == pytest.approx(1.0, abs=1e-5) for row in rope
    )  # rotations keep norms


@pytest.mark.parametrize("kind", ["sinusoidal", "rope", "alibi"])
def test_pe_writes_a_png(kind, tmp_path, capsys):
    out = tmp_path / f"{kind}.png"
    assert main(["plot", "pe", "--kind", kind, "--length", "16", "--dim", "8", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert f"wrote {out}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "rope", "--dim", "7", "--json"], "--dim 7: rope works on pairs"),
        (["--kind", "sinusoidal", "--dim", "5", "--json"], "give an even --dim"),
        (["--kind", "alibi"], "needs --out FILE.png, --json, or both"),
        (["--json"], "needs --kind (sinusoidal, scaled_sinusoidal, learned, rope, alibi, t5_bias, none)"),
        (["--kind", "t5_bias", "--num-buckets", "7", "--json"], "--num-buckets 7"),
        (["--kind", "none", "--length", "1", "--json"], "--length 1: must be >= 2"),
    ],
)
def test_pe_bad_options(args, message, capsys):
    assert main(["plot", "pe", *args]) == 2
    assert message in capsys.readouterr().err


def test_pe_unknown_kind_lists_the_valid_ones():
    proc = run_cli("plot", "pe", "--kind", "rotary", "--json")
    assert proc.returncode == 2
    assert "invalid choice: 'rotary'" in proc.stderr and "t5_bias" in proc.stderr


@pytest.fixture(scope="module")
def learned_run(tmp_path_factory):
    from scratchlm.serve.synthetic import write_tiny_run

    return write_tiny_run(tmp_path_factory.mktemp("plot"), positional={"kind": "learned"}, max_seq_len=24)


def test_pe_of_a_trained_run(learned_run, capsys):
    from safetensors.torch import load_file

    out = _json(capsys, "plot", "pe", "--run", str(learned_run), "--length", "10", "--json")
    weights = load_file(str(learned_run / "model.safetensors"))["input.positional.weight"]
    assert out["kind"] == "learned" and out["shape"] == [10, 16]
    assert out["matrix"][3] == pytest.approx(weights[3].tolist(), abs=1e-6)
    # learned positions end at the run's max_seq_len: 2x is refused with the reason
    assert main(["plot", "pe", "--run", str(learned_run), "--length", "48", "--json"]) == 2
    assert "cannot extrapolate" in capsys.readouterr().err
    assert main(["plot", "pe", "--run", str(learned_run), "--kind", "rope", "--json"]) == 2
    assert "uses model.positional.kind=learned" in capsys.readouterr().err


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_embeddings_plot(method, learned_run, tmp_path, capsys):
    out = tmp_path / "emb.png"
    result = _json(
        capsys, "plot", "embeddings", str(learned_run), "--method", method, "--out", str(out), "--json"
    )
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert result["method"] == method and len(result["points"]) == 40  # the 40 most frequent by default
    assert all(math.isfinite(p["x"]) and math.isfinite(p["y"]) for p in result["points"])
    chosen = _json(capsys, "plot", "embeddings", str(learned_run), "--tokens", "好", "差", "书", "--json")
    assert [p["token"] for p in chosen["points"]] == ["好", "差", "书"]


def test_embeddings_unknown_tokens_are_named(learned_run, capsys):
    assert main(["plot", "embeddings", str(learned_run), "--tokens", "好", "龘", "--json"]) == 2
    assert "not in the run's vocabulary" in capsys.readouterr().err


# ------------------------------------------------------------------------------- plot attention
def _attention_reference(run_dir, ids):
    """Every layer's softmax weights by hand: q, k from each layer's own projections, the scores plus
    the run's relative-position bias, softmax; the layer's output through the SDPA path."""
    import torch

    from scratchlm.training.run_dir import load_run

    model = load_run(run_dir).model
    enc = model.encoder
    with torch.no_grad():
        x = model.input(torch.tensor([ids]))
        s = x.shape[1]
        bias = enc.attention_bias(s)[None] if enc.attention_bias is not None else None  # (1, h, s, s)
        out = []
        for layer in enc.layers:
            attn = layer.attention
            q, k, _ = attn._qkv(layer.attn_norm(x))  # (1, h, s, hd), rotated with rope
            scores = (q @ k.transpose(-1, -2)) / attn.head_dim**0.5  # (1, h, s, s)
            out.append((scores if bias is None else scores + bias).softmax(-1)[0])
            x = layer(x, bias)
    return out


@pytest.mark.parametrize("positional", ["rope", "alibi", "t5_bias"])
def test_attention_json_is_each_layers_softmax(positional, tmp_path, capsys):
    from scratchlm.serve.synthetic import write_tiny_run

    run_dir = write_tiny_run(
        tmp_path, positional={"kind": positional}, encoder={"num_layers": 2, "num_heads": 2}
    )
    text = "质量很差,用了两天"
    last = _json(capsys, "plot", "attention", str(run_dir), text, "--json")
    every = _json(capsys, "plot", "attention", str(run_dir), text, "--layer", "all", "--json")
    assert last["tokens"] == ["[CLS]", *text] and last["truncated"] == 0
    assert [layer["layer"] for layer in last["layers"]] == [1]
    assert [layer["layer"] for layer in every["layers"]] == [0, 1] and every["layers"][1] == last["layers"][0]
    from scratchlm.training.run_dir import load_run

    ids = load_run(run_dir).tokenizer.encode(text).ids
    for layer, want in zip(every["layers"], _attention_reference(run_dir, ids), strict=True):
        assert len(layer["heads"]) == 2
        for head, w in zip(layer["heads"], want, strict=True):
            np.testing.assert_allclose(head, w.numpy(), atol=2e-6, rtol=0)
            assert all(sum(row) == pytest.approx(1, abs=1e-5) for row in head)


def test_attention_png_of_a_tagger_and_errors(tmp_path, capsys):
    from scratchlm.serve.synthetic import write_tiny_run, write_tiny_tagger_run

    tagger = write_tiny_tagger_run(
        tmp_path / "t", encoder={"kind": "transformer", "num_layers": 2}, max_seq_len=6
    )
    out = tmp_path / "att.png"
    assert (
        main(["plot", "attention", str(tagger), "这本书 写得太好了", "--out", str(out), "--layer", "0"]) == 0
    )
    printed = capsys.readouterr()
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert "1 layer(s) x 2 head(s), 6 positions" in printed.out
    assert "2 token(s) past it are not shown" in printed.err  # a tagger reads characters, no [CLS]
    got = _json(capsys, "plot", "attention", str(tagger), "这本书 写", "--layer", "-1", "--json")
    assert got["tokens"] == list("这本书写") and got["layers"][0]["layer"] == 1

    assert main(["plot", "attention", str(tagger), "好", "--layer", "2", "--json"]) == 2
    assert "numbered 0 to 1" in capsys.readouterr().err
    assert main(["plot", "attention", str(tagger), "好"]) == 2
    assert "needs --out" in capsys.readouterr().err
    lstm = write_tiny_run(tmp_path / "l", encoder={"kind": "lstm"}, positional={"kind": "none"})
    assert main(["plot", "attention", str(lstm), "好", "--json"]) == 2
    assert "model.encoder.kind=lstm: a recurrent encoder has no attention" in capsys.readouterr().err


def test_registration_does_not_import_torch():
    code = "import sys, scratchlm.cli as c; c.build_parser(); print('torch' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "False", proc.stderr
