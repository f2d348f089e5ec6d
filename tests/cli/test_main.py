"""``scratchlm COMMAND`` (cli/main.py): a user's mistake is one line on stderr and exit status 2, never a
traceback; ``--help`` builds the parser without importing torch."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cli_helpers import ROOT, TINY, run_cli


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["train", str(TINY), "--set", "train.lrr=3", "--out", "/tmp/never"], "did you mean 'lr'"),
        (["train", "no/such.yaml", "--out", "/tmp/never"], "no/such.yaml: config file not found"),
        (["train", str(TINY), "--set", "model.encoder.num_heads=5", "--out", "/tmp/never"], "divisible"),
        (["eval", str(ROOT / "configs")], "not a scratchlm run directory"),
        (["eval", "/no/such/run"], "no such run directory"),
    ],
)
def test_bad_input_is_one_line_error(args, needle):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_help_is_fast_and_does_not_import_torch():
    code = "import sys, scratchlm.cli; scratchlm.cli.build_parser(); print('torch' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.strip() == "False", proc.stderr


def test_an_error_quoting_a_line_break_is_printed_on_one_line(tmp_path, capsys):
    """Found by fuzzing: a CSV header cell holding a quoted line break, echoed in the error."""
    from scratchlm.cli import main

    data = tmp_path / "d.csv"
    data.write_text('"re\nview",label\n"好",pos\n', encoding="utf-8")
    assert main(["data", "show", str(data)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no column 'text'" in err and "'re\\nview'" in err
