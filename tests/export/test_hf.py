"""``export hf``'s tokenizer files: a run's tokenizer written beside the BertModel for AutoTokenizer, and a
jieba run's note saying why not (the model itself is still written; tests/cli/test_transplant.py runs the
whole export)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from scratchlm.export.hf import _write_tokenizer
from scratchlm.export.hf_tokenizer import JIEBA_ERROR
from scratchlm.tokenizers.factory import train_tokenizer

TEXTS = ["质量很好，物流也快", "不太喜欢 the color", "还行吧"]


def test_char_run_gets_tokenizer_files_jieba_a_note(tmp_path):
    run = SimpleNamespace(tokenizer=train_tokenizer("char", TEXTS))
    report = _write_tokenizer(run, tmp_path, 64)
    assert report["files"] == ["tokenizer.json", "tokenizer_config.json"]
    assert (tmp_path / "tokenizer.json").is_file() and '"model_max_length": 64' in (
        tmp_path / "tokenizer_config.json"
    ).read_text(encoding="utf-8")
    pytest.importorskip("jieba")
    jieba_run = SimpleNamespace(tokenizer=train_tokenizer("jieba", TEXTS))
    note = _write_tokenizer(jieba_run, tmp_path / "j", 64)
    assert note == {"note": f"no tokenizer.json: {JIEBA_ERROR}"} and not (tmp_path / "j").exists()
