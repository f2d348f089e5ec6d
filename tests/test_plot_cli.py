"""``scratchlm plot pe`` and ``scratchlm plot embeddings``: JSON matrices against the formulas, PNGs,
trained runs, errors; registration without torch."""

from __future__ import annotations

import json
import math
import subprocess
import sys

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

    return write_tiny_run(tmp_path_factory.mktemp("plot"), positional="learned", max_seq_len=24)


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
    assert "uses model.positional=learned" in capsys.readouterr().err


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


def test_registration_does_not_import_torch():
    code = "import sys, scratchlm.cli as c; c.build_parser(); print('torch' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "False", proc.stderr
