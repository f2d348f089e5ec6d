"""Seq2seq encoding: every reference a training pair, too-long sources truncated and too-long targets left
out (both counted), batches with targets ending in [SEP]; decoding keeps the input order."""

from __future__ import annotations

import torch

from scratchlm.config import DataConfig, ModelConfig, RunConfig
from scratchlm.data.seq2seq import PairExample
from scratchlm.models.seq2seq import Seq2SeqModel
from scratchlm.tasks.seq2seq import Seq2SeqTask, decode_sources
from scratchlm.tokenizers import build_tokenizer
from scratchlm.tokenizers.vocab import SPECIALS

EXAMPLES = [
    PairExample("read", (("R", "EH", "D"), ("R", "IY", "D"))),
    PairExample("abcdefgh", (("EY",) * 8,)),  # 8 characters, 8 phones
]
LABELS = [*SPECIALS, "R", "EH", "IY", "D", "EY"]


def task(max_seq_len: int) -> tuple[Seq2SeqTask, object]:
    cfg = RunConfig(data=DataConfig(dataset="x.jsonl", task="seq2seq", max_seq_len=max_seq_len))
    t = Seq2SeqTask(cfg)
    return t, build_tokenizer(cfg.data, t.texts(EXAMPLES))


def test_every_reference_is_a_pair_and_long_sequences_are_counted():
    t, tok = task(max_seq_len=6)
    enc = t.encode(tok, EXAMPLES, LABELS)
    assert len(enc.sources) == 2 and enc.refs[0] == EXAMPLES[0].targets
    assert len(enc.sources[1]) == 6 and enc.truncated == 1  # 8 characters cut to 6
    assert enc.skipped == 1 and len(enc.seqs) == 2  # 8 phones > 6 - 1: left out of training
    sep = SPECIALS.index("[SEP]")
    assert enc.targets == [[5, 6, 8, sep], [5, 7, 8, sep]]
    assert "1 of 2 sources truncated" in t.encoding_note(enc) and "1 pairs left out" in t.encoding_note(enc)
    batch = t.batch(enc, [0, 1], 0)
    assert batch.labels.tolist() == enc.targets and t.loss_weight(batch) == 8


def test_decoding_keeps_the_input_order_and_skips_empty_sources():
    cfg = ModelConfig(
        embed_dim=8,
        encoder={"kind": "gru", "rnn_hidden_dim": 4},
        positional={"kind": "none"},
        decoder={"attention": "luong_dot"},
    )
    torch.manual_seed(0)
    model = Seq2SeqModel(cfg, vocab_size=12, target_vocab_size=len(LABELS), max_seq_len=8)
    sources = [[5, 6, 7], [], [8]]
    together = decode_sources(model, sources, LABELS, 0, 2, "cpu", beam_size=2)
    alone = [decode_sources(model, [s], LABELS, 0, 1, "cpu", beam_size=2)[0] for s in sources]
    assert together == alone and together[1] == []
    assert all(set(out) <= set(LABELS[5:]) for out in together)
