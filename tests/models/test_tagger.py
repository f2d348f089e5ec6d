"""The tagger (softmax or CRF head, any encoder): learns a toy segmentation, ignores padding."""

from __future__ import annotations

import pytest
import torch

from scratchlm.config import ModelConfig
from scratchlm.data.collate import pad_batch
from scratchlm.data.schemes import get_scheme
from scratchlm.models import TokenTagger

LABELS = ["B", "M", "E", "S"]


@pytest.fixture(autouse=True)
def _one_thread():
    # tiny tensors: a second thread only adds synchronisation (and waits when the cores are busy)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _cfg(encoder: str, head: str = "softmax", **kw) -> ModelConfig:
    extra = {} if encoder == "transformer" else {"rnn_hidden_dim": 12, "positional": "none"}
    return ModelConfig(
        embed_dim=16,
        encoder=encoder,
        num_layers=1,
        num_heads=2,
        ffn_dim=32,
        dropout=0.0,
        attention_dropout=0.0,
        embedding_dropout=0.0,
        head=head,
        **extra,
        **kw,
    )


def _tagger(encoder: str, head: str) -> TokenTagger:
    torch.manual_seed(0)
    rules = get_scheme("bmes").transition_rules(LABELS)
    return TokenTagger(
        _cfg(encoder, head, bigram_buckets=64),
        vocab_size=30,
        num_tags=4,
        max_seq_len=32,
        transition_rules=rules,
    )


@pytest.mark.parametrize("encoder", ["transformer", "lstm", "gru"])
@pytest.mark.parametrize("head", ["softmax", "crf"])
def test_tagger_learns_a_toy_segmentation(encoder, head):
    """Words are runs of one repeated id ("7 7 7" is one word): the tagger must learn BMES from ids."""
    model = _tagger(encoder, head)
    torch.manual_seed(1)
    seqs, tags = [], []
    for _ in range(32):
        ids, tg = [], []
        for _ in range(int(torch.randint(2, 5, ()))):
            word, n = int(torch.randint(5, 30, ())), int(torch.randint(1, 4, ()))
            ids += [word] * n
            tg += [3] if n == 1 else [0] + [1] * (n - 2) + [2]
        seqs.append(ids)
        tags.append(tg)
    ids, mask = pad_batch(seqs, 0)
    gold, _ = pad_batch(tags, 0)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    first = None
    for _ in range(60):
        loss = model.loss(ids, mask, gold)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    pred = model.decode(ids, mask)
    assert pred.shape == ids.shape and model(ids, mask).shape == (32, ids.shape[1], 4)
    accuracy = (pred[mask] == gold[mask]).float().mean().item()
    assert loss.item() < first / 3 and accuracy > 0.8, (first, loss.item(), accuracy)
    if head == "crf":  # constrained decoding: every output is a well-formed segmentation
        for row, n in zip(pred.tolist(), mask.sum(1).tolist(), strict=True):
            assert get_scheme("bmes").check([LABELS[i] for i in row[:n]]) is None


@pytest.mark.parametrize("encoder", ["lstm", "gru"])
def test_tagger_outputs_do_not_depend_on_padding(encoder):
    model = _tagger(encoder, "crf").eval()
    with torch.no_grad():
        model.input.bigram_embedding.embedding.weight.normal_()
        alone = model(torch.tensor([[5, 6, 7]]))
        ids, mask = pad_batch([[9, 8, 7, 6, 5, 4], [5, 6, 7]], 0)
        batched = model(ids, mask)
        torch.testing.assert_close(batched[1, :3], alone[0], atol=1e-5, rtol=0)
        assert model.decode(ids, mask)[1, :3].tolist() == model.decode(torch.tensor([[5, 6, 7]]))[0].tolist()
