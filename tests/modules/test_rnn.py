"""Recurrent encoders: the module harness (packed and reversed paths); packing equals the plain RNN on
unpadded input, reversal within rows equals packing, gradients agree, padding stays zero; the plain RNN
cell against its formula; final states against ``nn.LSTM``'s own ``h_n`` per row."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from harness import run_module_test
from scratchlm.modules.rnn import (
    GRUEncoder,
    LSTMEncoder,
    RecurrentEncoder,
    RNNEncoder,
    final_states,
    reverse_rows,
)

ENCODERS = [LSTMEncoder, GRUEncoder, RNNEncoder]


@pytest.fixture(autouse=True)
def _one_thread():
    # tiny tensors: a second thread only adds synchronisation (and waits when the cores are busy)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _random(cls, bidirectional: bool, num_layers: int = 2) -> RecurrentEncoder:
    torch.manual_seed(0)
    return cls(6, 5, num_layers, bidirectional=bidirectional, dropout=0.3).eval()


@pytest.mark.parametrize("pack", [True, False])
@pytest.mark.parametrize(
    "factory",
    [
        lambda pack: LSTMEncoder(6, 5, 2, dropout=0.1, pack=pack),
        lambda pack: GRUEncoder(6, 5, 1, bidirectional=False, pack=pack),
        lambda pack: RNNEncoder(6, 5, 2, dropout=0.1, pack=pack),
        lambda pack: RecurrentEncoder(nn.GRU(6, 5, batch_first=True, bidirectional=True), pack=pack),
    ],
    ids=["bilstm", "gru", "birnn", "generic"],
)
def test_module_harness(factory, pack):
    x = torch.randn(3, 7, 6)
    mask = torch.arange(7)[None] < torch.tensor([7, 3, 5])[:, None]
    width = factory(pack).output_dim
    out = run_module_test(lambda: factory(pack), (x, mask), expected_shape=(3, 7, width))
    assert not out[1, 3:].any()  # zeros at padding
    run_module_test(lambda: factory(pack), (x,), expected_shape=(3, 7, width))  # no mask: the plain RNN


@pytest.mark.parametrize("cls", ENCODERS)
@pytest.mark.parametrize("bidirectional", [True, False])
def test_packed_equals_unpacked_on_unpadded_input(cls, bidirectional):
    enc = _random(cls, bidirectional)
    x = torch.randn(3, 9, 6)
    full = torch.ones(3, 9, dtype=torch.bool)
    plain = enc.rnn(x)[0]  # nn.LSTM / nn.GRU with no packing at all
    for pack in (True, False):
        enc.pack = pack
        torch.testing.assert_close(enc(x, full), plain, atol=1e-6, rtol=0)
    torch.testing.assert_close(enc(x), plain)


@pytest.mark.parametrize("cls", ENCODERS)
@pytest.mark.parametrize("bidirectional", [True, False])
def test_reversal_within_rows_equals_packing_on_padded_input(cls, bidirectional):
    enc = _random(cls, bidirectional)
    lengths = torch.tensor([9, 4, 1, 6])
    x = torch.randn(4, 9, 6)
    mask = torch.arange(9)[None] < lengths[:, None]
    enc.pack = True
    packed = enc(x, mask)
    enc.pack = False
    reversed_ = enc(x, mask)
    torch.testing.assert_close(reversed_, packed, atol=1e-6, rtol=0)
    # and each row equals the RNN run on that row alone, with zeros at padding
    for i, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(reversed_[i, :n], enc.rnn(x[i : i + 1, :n])[0][0], atol=1e-6, rtol=0)
        assert torch.count_nonzero(reversed_[i, n:]) == 0


@pytest.mark.parametrize("pack", [True, False])
def test_gradients_agree_between_packing_and_reversal(pack):
    enc = _random(LSTMEncoder, True)
    enc.train()
    enc.rnn.dropout = 0.0
    x = torch.randn(3, 7, 6)
    mask = torch.arange(7)[None] < torch.tensor([7, 3, 5])[:, None]
    grads = []
    for mode in (pack, not pack):
        enc.pack = mode
        enc.zero_grad()
        enc(x, mask).pow(2).sum().backward()
        grads.append(enc.rnn.weight_hh_l1_reverse.grad.clone())
    torch.testing.assert_close(grads[0], grads[1], atol=1e-5, rtol=1e-4)


def test_reverse_rows_is_its_own_inverse_and_keeps_padding_in_place():
    x = torch.arange(10).view(2, 5, 1).float()
    lengths = torch.tensor([5, 3])
    r = reverse_rows(x, lengths)
    assert r[:, :, 0].tolist() == [[4, 3, 2, 1, 0], [7, 6, 5, 8, 9]]
    torch.testing.assert_close(reverse_rows(r, lengths), x)


def test_left_padding_is_refused():
    enc = _random(LSTMEncoder, True)
    with pytest.raises(ValueError, match="right-padded"):
        enc(torch.randn(1, 3, 6), torch.tensor([[False, True, True]]))
    with pytest.raises(ValueError, match="batch_first"):
        RecurrentEncoder(nn.LSTM(4, 4))


def test_lstm_forget_gate_bias_starts_at_one():
    enc = LSTMEncoder(4, 3, bidirectional=True)
    for name in ("bias_ih_l0", "bias_ih_l0_reverse"):
        bias = getattr(enc.rnn, name)
        assert bias[3:6].tolist() == [1.0, 1.0, 1.0]
    assert enc.rnn.bias_hh_l0[3:6].abs().sum().item() == 0
    assert enc.output_dim == 6 and GRUEncoder(4, 3, bidirectional=False).output_dim == 3


def test_rnn_cell_follows_its_formula():
    """``h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh)``, by hand, on both paths and padded input."""
    enc = _random(RNNEncoder, False, num_layers=1)
    r = enc.rnn
    x = torch.randn(2, 5, 6)
    lengths = torch.tensor([5, 3])
    mask = torch.arange(5)[None] < lengths[:, None]
    expected = torch.zeros(2, 5, 5)
    for i, n in enumerate(lengths.tolist()):
        h = torch.zeros(5)
        for t in range(n):
            h = torch.tanh(r.weight_ih_l0 @ x[i, t] + r.bias_ih_l0 + r.weight_hh_l0 @ h + r.bias_hh_l0)
            expected[i, t] = h
    for pack in (True, False):
        enc.pack = pack
        torch.testing.assert_close(enc(x, mask), expected, atol=1e-6, rtol=0)
    assert sum(p.numel() for p in r.parameters()) * 4 == sum(
        p.numel() for p in nn.LSTM(6, 5, batch_first=True).parameters()
    )  # a quarter of an LSTM's weights


@pytest.mark.parametrize("cls", ENCODERS)
@pytest.mark.parametrize("bidirectional", [True, False])
def test_final_states_are_the_rnns_own_last_states(cls, bidirectional):
    enc = _random(cls, bidirectional)
    lengths = torch.tensor([7, 2, 5])
    x = torch.randn(3, 7, 6)
    mask = torch.arange(7)[None] < lengths[:, None]
    got = final_states(enc(x, mask), mask, bidirectional=bidirectional)  # (b, o)
    for i, n in enumerate(lengths.tolist()):
        h_n = enc.rnn(x[i : i + 1, :n])[1]
        h_n = h_n[0] if isinstance(h_n, tuple) else h_n  # an LSTM's (h, c): the hidden state
        top = h_n[-2:] if bidirectional else h_n[-1:]  # (directions, 1, H): the top layer's
        torch.testing.assert_close(got[i], top[:, 0].reshape(-1), atol=1e-6, rtol=0)
