"""The encoder-decoder on tiny random weights: incremental decoding equals the teacher-forced pass,
padding changes nothing at real positions, beam size 1 is greedy, and the loss counts real tokens only."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from scratchlm.config import ModelConfig
from scratchlm.models.seq2seq import BOS_ID, EOS_ID, Seq2SeqModel

VOCAB, TARGETS = 20, 12

KINDS = {  # (model.encoder, model.positional.kind, model.decoder.attention)
    "bahdanau": ({"kind": "lstm", "rnn_hidden_dim": 8}, "none", "bahdanau"),
    "luong_dot": ({"kind": "lstm", "rnn_hidden_dim": 8}, "none", "luong_dot"),
    "luong_general_gru": ({"kind": "gru", "rnn_hidden_dim": 8}, "none", "luong_general"),
    "bahdanau_rnn": ({"kind": "rnn", "rnn_hidden_dim": 8}, "none", "bahdanau"),
    "no_attention_lstm": ({"kind": "lstm", "rnn_hidden_dim": 8}, "none", "none"),
    "no_attention_rnn": ({"kind": "rnn", "rnn_hidden_dim": 8, "bidirectional": False}, "none", "none"),
    "transformer": ({"kind": "transformer", "num_heads": 2, "ffn_dim": 32}, "sinusoidal", "bahdanau"),
    "transformer_rope": ({"kind": "transformer", "num_heads": 2, "ffn_dim": 32}, "rope", "bahdanau"),
    "transformer_learned": ({"kind": "transformer", "num_heads": 2, "ffn_dim": 32}, "learned", "bahdanau"),
}


def model(kind: str, num_layers: int = 2) -> Seq2SeqModel:
    torch.manual_seed(0)
    encoder, positional, attention = KINDS[kind]
    cfg = ModelConfig(
        embed_dim=16,
        encoder={**encoder, "num_layers": num_layers, "attention_dropout": 0.0},
        positional={"kind": positional},
        decoder={"attention": attention},
        dropout=0.0,
    )
    m = Seq2SeqModel(cfg, vocab_size=VOCAB, target_vocab_size=TARGETS, max_seq_len=16)
    for p in m.parameters():  # larger random weights than the init: outputs that differ visibly
        torch.nn.init.normal_(p, std=0.3)
    return m.eval()


@pytest.mark.parametrize("cache_len", [0, 8], ids=["recompute", "kv_cache"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_step_by_step_decoding_equals_the_teacher_forced_pass(kind, cache_len):
    m = model(kind)
    ids = torch.randint(5, VOCAB, (3, 7))
    mask = torch.ones_like(ids, dtype=torch.bool)
    targets = torch.randint(5, TARGETS, (3, 6))
    full = m(ids, mask, targets).log_softmax(-1)  # (b, t, V)
    state = m.encode(ids, mask, cache_len=cache_len)
    assert ("cache" in state) == (cache_len > 0 and not m.recurrent)
    prefix = m.decoder_inputs(targets)[:, :1]
    for i in range(targets.shape[1]):
        step, state = m.step(state, prefix)
        torch.testing.assert_close(step, full[:, i], atol=1e-5, rtol=1e-5)
        prefix = torch.cat((prefix, targets[:, i : i + 1]), 1)


@pytest.mark.parametrize("kind", list(KINDS))
def test_padding_changes_nothing_at_real_positions(kind):
    m = model(kind)
    short_src, short_tgt = torch.randint(5, VOCAB, (1, 4)), torch.randint(5, TARGETS, (1, 3))
    long_src, long_tgt = torch.randint(5, VOCAB, (1, 9)), torch.randint(5, TARGETS, (1, 7))
    alone = m(short_src, short_src != 0, short_tgt)
    ids = torch.zeros(2, 9, dtype=torch.long)
    ids[0, :4], ids[1] = short_src[0], long_src[0]
    targets = torch.zeros(2, 7, dtype=torch.long)
    targets[0, :3], targets[1] = short_tgt[0], long_tgt[0]
    batched = m(ids, ids != 0, targets)
    torch.testing.assert_close(batched[0, :3], alone[0], atol=1e-5, rtol=1e-5)
    assert m.generate(ids, beam_size=3)[0] == m.generate(short_src, beam_size=3)[0]


@pytest.mark.parametrize("kind", list(KINDS))
def test_beam_size_one_is_greedy_and_beams_are_at_least_as_likely(kind):
    m = model(kind)
    ids = torch.randint(5, VOCAB, (6, 5))
    greedy = m.generate(ids, beam_size=1, max_len=8)
    from scratchlm.modules.decoding import beam_search

    state = m.encode(ids, ids != 0)
    one = beam_search(
        m.step, m.reorder, state, 6, beam_size=1, bos_id=BOS_ID, eos_id=EOS_ID, max_len=8, length_penalty=0.0
    )
    assert one == greedy

    @torch.no_grad()
    def log_prob(src, out):
        tgt = torch.tensor([[*out, EOS_ID]]) if len(out) < 8 else torch.tensor([out])
        lp = m(src[None], None, tgt).log_softmax(-1)[0]
        return float(lp.gather(1, tgt[0][:, None]).sum())

    beams = m.generate(ids, beam_size=4, max_len=8, length_penalty=0.0)
    if not m.recurrent:  # beam search reorders the KV cache's rows with the hypotheses
        assert m.generate(ids, beam_size=4, max_len=8, length_penalty=0.0, use_cache=False) == beams
    for src, g, b in zip(ids, greedy, beams, strict=True):
        assert log_prob(src, b) >= log_prob(src, g) - 1e-4  # length_penalty 0: the plain sum is compared


def test_loss_is_the_mean_cross_entropy_of_real_target_tokens():
    m = model("luong_dot", num_layers=1)
    ids = torch.randint(5, VOCAB, (2, 5))
    targets = torch.tensor([[6, 7, EOS_ID, 0], [8, 9, 10, EOS_ID]])
    logits = m(ids, ids != 0, targets)
    expected = torch.cat(
        [
            F.cross_entropy(logits[0, :3], targets[0, :3], reduction="none"),
            F.cross_entropy(logits[1], targets[1], reduction="none"),
        ]
    ).mean()
    torch.testing.assert_close(m.loss(ids, ids != 0, targets), expected)
    assert m(ids).shape == (2, 5, TARGETS)  # summary's probe: a target as long as the source


def test_without_attention_the_final_state_is_the_only_bridge():
    """The decoder's state is the projected final encoder states (the left-to-right pass at the last
    token, the right-to-left pass at the first) and nothing else, and the model's outputs are the decoder's
    run from that state alone."""
    from scratchlm.modules.rnn import final_states

    m = model("no_attention_lstm", num_layers=1)
    ids = torch.randint(5, VOCAB, (2, 6))
    mask = torch.ones_like(ids, dtype=torch.bool)
    targets = torch.randint(5, TARGETS, (2, 4))
    state = m.encode(ids, mask)
    assert set(state) == {"h", "c"}
    memory = m.encoder(m.input(ids), mask)
    torch.testing.assert_close(
        state["h"], m.decoder.start(final_states(memory, mask, bidirectional=True))["h"]
    )
    with torch.no_grad():  # outputs through the decoder alone, from that state, equal the model's
        h, _, _ = m.decoder(m.target_input(m.decoder_inputs(targets)), state)
        torch.testing.assert_close(m.proj(h), m(ids, mask, targets))


def test_pair_and_lexicon_vectors_stay_on_the_source_side(tmp_path):
    """The target input gets neither: its vector at position i would hold the token the decoder must
    predict next. A run of an earlier version that had target-side pair vectors is refused by name."""
    from scratchlm.errors import RunDirError
    from scratchlm.io import save_tensors
    from scratchlm.training.run_dir import load_run_weights

    cfg = ModelConfig(
        embed_dim=16,
        encoder={"kind": "lstm", "rnn_hidden_dim": 8},
        positional={"kind": "none"},
        bigram_buckets=50,
        lexicon={"source": "jieba", "max_len": 3},
    )
    m = Seq2SeqModel(cfg, vocab_size=VOCAB, target_vocab_size=TARGETS, max_seq_len=16)
    assert m.input.bigram_embedding is not None and m.input.lexicon_embedding is not None
    assert m.target_input.bigram_embedding is None and m.target_input.lexicon_embedding is None
    old = {k: v.clone() for k, v in m.state_dict().items()}
    old["target_input.bigram_embedding.embedding.weight"] = torch.zeros(50, 16)
    save_tensors(tmp_path / "model.safetensors", old)
    with pytest.raises(RunDirError, match="earlier version with model.bigram_buckets on the target side"):
        load_run_weights(m, tmp_path / "model.safetensors", "cpu")
