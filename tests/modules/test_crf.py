"""The CRF against brute force: log Z and the NLL equal a log-sum-exp over every tag sequence, Viterbi
equals the best of every sequence, constraints are obeyed, padding is ignored; the module harness."""

from __future__ import annotations

import itertools

import pytest
import torch

from harness import run_module_test
from scratchlm.data.schemes import get_scheme
from scratchlm.modules.crf import ConditionalRandomField


@pytest.fixture(autouse=True)
def _one_thread():
    # tiny tensors: a second thread only adds synchronisation (and waits when the cores are busy)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _crf(num_tags: int, **masks) -> ConditionalRandomField:
    torch.manual_seed(0)
    crf = ConditionalRandomField(num_tags, **masks)
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    return crf


@pytest.mark.parametrize("constrained", [False, True])
def test_module_harness(constrained):
    """The NLL per sentence (b,); padded positions included in the example."""
    labels = ["B", "M", "E", "S"]
    rules = get_scheme("bmes").transition_rules(labels) if constrained else (None, None, None)
    masks = dict(zip(("allowed_start", "allowed_transitions", "allowed_end"), rules, strict=True))
    tags = torch.tensor([[3, 0, 2, 3, 3], [0, 1, 2, 0, 0]])  # well-formed BMES over the real positions
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    run_module_test(
        lambda: _crf(4, **masks),
        (torch.randn(2, 5, 4), tags, mask),
        expected_shape=(2,),
        num_trainable=4 + 16 + 4,
    )


def _brute_score(crf, emissions, tags) -> torch.Tensor:
    start, trans, end = crf._scores()
    s = start[tags[0]] + end[tags[-1]] + sum(emissions[t, tag] for t, tag in enumerate(tags))
    return s + sum(trans[a, b] for a, b in itertools.pairwise(tags))


@pytest.mark.parametrize(("num_tags", "length"), [(2, 1), (3, 4), (4, 5)])
def test_nll_and_viterbi_equal_brute_force(num_tags, length):
    crf = _crf(num_tags)
    emissions = torch.randn(2, length, num_tags)
    mask = torch.ones(2, length, dtype=torch.bool)
    tags = torch.randint(0, num_tags, (2, length))
    nll = crf(emissions, tags, mask)
    best = crf.decode(emissions, mask)
    for b in range(2):
        every = list(itertools.product(range(num_tags), repeat=length))
        scores = torch.stack([_brute_score(crf, emissions[b], seq) for seq in every])
        log_z = torch.logsumexp(scores, 0)
        torch.testing.assert_close(crf.log_partition(emissions, mask)[b], log_z, atol=1e-5, rtol=0)
        expected = log_z - _brute_score(crf, emissions[b], tags[b].tolist())
        torch.testing.assert_close(nll[b], expected, atol=1e-5, rtol=0)
        assert best[b].tolist() == list(every[int(scores.argmax())])


def test_padding_is_ignored():
    crf = _crf(3)
    emissions = torch.randn(2, 6, 3)
    tags = torch.randint(0, 3, (2, 6))
    mask = torch.tensor([[1] * 6, [1] * 3 + [0] * 3], dtype=torch.bool)
    nll = crf(emissions, tags, mask)
    alone = crf(emissions[1:, :3], tags[1:, :3], mask[1:, :3])
    torch.testing.assert_close(nll[1:], alone)
    assert (
        crf.decode(emissions, mask)[1, :3].tolist() == crf.decode(emissions[1:, :3], mask[1:, :3])[0].tolist()
    )
    # padding emissions may be anything
    emissions[1, 3:] = 1e3
    torch.testing.assert_close(crf(emissions, tags, mask)[1:], alone)


def test_probabilities_sum_to_one_and_gradients_are_finite():
    crf = _crf(3)
    emissions = torch.randn(1, 4, 3, requires_grad=True)
    mask = torch.ones(1, 4, dtype=torch.bool)
    total = sum(
        torch.exp(-crf(emissions, torch.tensor([seq]), mask)) for seq in itertools.product(range(3), repeat=4)
    )
    torch.testing.assert_close(total, torch.ones(1), atol=1e-5, rtol=0)
    crf(emissions, torch.zeros(1, 4, dtype=torch.long), mask).sum().backward()
    assert torch.isfinite(emissions.grad).all() and torch.isfinite(crf.transitions.grad).all()


@pytest.mark.parametrize(
    ("scheme", "labels"),
    [("bio", ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]), ("bmes", ["B", "M", "E", "S"])],
)
def test_constrained_viterbi_only_emits_well_formed_sequences(scheme, labels):
    rules = get_scheme(scheme).transition_rules(labels)
    crf = _crf(
        len(labels),
        **dict(
            zip(
                ("allowed_start", "allowed_transitions", "allowed_end"), map(torch.tensor, rules), strict=True
            )
        ),
    )
    torch.manual_seed(1)
    emissions = torch.randn(64, 7, len(labels)) * 5  # strong, random scores: invalid paths tempt
    mask = torch.ones(64, 7, dtype=torch.bool)
    for row in crf.decode(emissions, mask).tolist():
        assert get_scheme(scheme).check([labels[i] for i in row]) is None
    # with the constraints, brute force over the allowed sequences only gives the same best path
    e = emissions[:1, :4]
    allowed = [
        seq
        for seq in itertools.product(range(len(labels)), repeat=4)
        if get_scheme(scheme).check([labels[i] for i in seq]) is None
    ]
    with torch.no_grad():
        best = max(allowed, key=lambda seq: float(_brute_score(crf, e[0], seq)))
    assert crf.decode(e, mask[:1, :4])[0].tolist() == list(best)


def test_bad_constraint_shape_is_refused():
    with pytest.raises(ValueError, match="shape"):
        ConditionalRandomField(3, allowed_transitions=torch.ones(2, 2, dtype=torch.bool))


@pytest.mark.parametrize(("num_tags", "lengths"), [(4, [1]), (3, [6, 6]), (5, [7, 3, 1]), (9, [12, 12, 5])])
def test_scan_viterbi_equals_the_loop(num_tags, lengths):
    """decode_scan (what the ONNX export traces) returns decode's tags, padding and length 1 included,
    with and without constraints."""
    scheme = get_scheme("bmes")
    rules = scheme.transition_rules(["B", "M", "E", "S"]) if num_tags == 4 else (None, None, None)
    crf = _crf(
        num_tags, **dict(zip(("allowed_start", "allowed_transitions", "allowed_end"), rules, strict=True))
    )
    crf.requires_grad_(False)
    s = max(lengths)
    mask = torch.arange(s)[None, :] < torch.tensor(lengths)[:, None]
    for _ in range(5):
        emissions = 3 * torch.randn(len(lengths), s, num_tags)
        want, got = crf.decode(emissions, mask), crf.decode_scan(emissions, mask)
        assert torch.equal(got, want)  # padding positions too (they repeat the last tag)
