from __future__ import annotations

import json

import numpy as np

from scratchlm.serve.synthetic import write_tiny_run
from scratchlm.training.run_dir import load_run
from scratchlm.vectors.base import Vectors
from scratchlm.vectors.cache import write_cache
from scratchlm.viz.token_tiers import token_tiers


def test_normal_init_has_no_tiers(loaded):
    tiers = token_tiers(loaded["sinusoidal"])
    assert tiers.by_token == {} and "normal" in tiers.note
    assert tiers.of(["a", "b"]) == [None, None]


def test_a_transplant_directory_gives_its_tiers(tmp_path):
    source = tmp_path / "transplanted"
    source.mkdir()
    run = load_run(write_tiny_run(tmp_path / "r", init=str(source)))
    tokens = run.tokenizer.vocab.tokens
    recorded = {t: ("exact" if i % 2 else "compose") for i, t in enumerate(tokens)}
    (source / "transplant.json").write_text(json.dumps({"token_tiers": recorded}), encoding="utf-8")
    tiers = token_tiers(run)
    assert tiers.of([tokens[5], tokens[6]]) == [recorded[tokens[5]], recorded[tokens[6]]]
    assert sum(tiers.counts().values()) == len(tokens)


def test_vectors_are_matched_in_the_tiers_training_used(tmp_path):
    run = load_run(write_tiny_run(tmp_path / "r", init=str(tmp_path / "vectors")))
    words = ["这", "ＡＢＣ", "量"]  # "abc" is not in the vocabulary; 质 is not among the words
    write_cache(tmp_path / "vectors", Vectors(words, np.ones((3, 16), np.float32), "test"))
    tiers = token_tiers(run)
    assert tiers.of(["这", "量", "质", "[CLS]"]) == ["exact", "exact", "oov", "special"]


def test_unreadable_vectors_give_a_note_not_an_error(tmp_path):
    run = load_run(write_tiny_run(tmp_path / "r", init=str(tmp_path / "missing.vec")))
    tiers = token_tiers(run)
    assert tiers.by_token == {} and "cannot be read here" in tiers.note
