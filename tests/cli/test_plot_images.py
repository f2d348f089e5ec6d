"""``plot pe`` for 2-D encodings (fresh and from a run) and ``plot patches``: what the matrices hold, the
PNGs, and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli_helpers import cli


@pytest.mark.parametrize("kind", ["none", "learned", "sinusoidal_2d", "learned_2d", "rope_2d"])
def test_pe_grid_json(kind, capsys):
    status, out, _ = cli(capsys, "plot", "pe", "--kind", kind, "--grid", "3", "--dim", "8", "--json")
    obj = json.loads(out)
    sim = np.array(obj["similarity"])
    assert status == 0 and obj["grid"] == [3, 3] and sim.shape == (9, 9)
    if kind != "none":
        assert np.allclose(np.diag(sim), 1.0, atol=1e-5)


def test_rope_2d_similarity_depends_only_on_the_offset(capsys):
    _, out, _ = cli(capsys, "plot", "pe", "--kind", "rope_2d", "--grid", "4", "--dim", "16", "--json")
    sim = np.array(json.loads(out)["similarity"]).reshape(4, 4, 4, 4)
    assert np.isclose(sim[0, 0, 1, 2], sim[2, 1, 3, 3]) and np.isclose(sim[1, 1, 0, 0], sim[3, 2, 2, 1])


def test_run_pe_and_patches(tiny_image_run, tmp_path, capsys):
    status, out, _ = cli(
        capsys, "plot", "pe", "--run", str(tiny_image_run), "--out", str(tmp_path / "pe.png")
    )
    assert status == 0 and "rope_2d" in out and (tmp_path / "pe.png").stat().st_size > 1000
    status, out, _ = cli(capsys, "plot", "patches", str(tiny_image_run), "--json")
    assert status == 0 and json.loads(out)["shape"] == [16, 1, 4, 4]
    status, _, _ = cli(capsys, "plot", "patches", str(tiny_image_run), "--out", str(tmp_path / "p.png"))
    assert status == 0 and (tmp_path / "p.png").stat().st_size > 1000


def test_errors(run_dir, capsys):
    status, _, err = cli(capsys, "plot", "pe", "--kind", "rope_2d", "--grid", "3", "--dim", "6", "--json")
    assert status != 0 and "multiple of 4" in err
    status, _, err = cli(capsys, "plot", "patches", str(run_dir), "--json")
    assert status != 0 and "is a classification run" in err
