"""Lexicon features: which dictionary words cover each token, as vectors added to the input layer.

``ids (b, s) -> (b, s, d)``. A dictionary (jieba's, or a file of one word a line) is stored as token-id
sequences under the run's tokenizer. For every window of ``L = 2 .. max_len`` tokens the layer asks
whether the window is a dictionary word, and each position gets the features of the matches that cover
it: *begins* a word of length L, *inside* one, *ends* one; once for any word and once per tag group
(jieba's ``nr`` people, ``ns`` places, ``nt`` organisations, ...). The features are a multi-hot vector
``f (b, s, F)``, ``F = groups x (max_len - 1) x 3``, and the layer returns ``f @ W`` with ``W (F, d)``
zero-initialised: a model starts exactly as it would without the lexicon and learns which matches to
trust. This is the dictionary feature of neural word segmenters (Liu et al. 2018, "Neural Networks
Incorporating Dictionaries for Chinese Word Segmentation") and, with tag groups, SoftLexicon's
B/M/E word sets for NER (Ma et al. 2020, https://arxiv.org/abs/1908.05969) in a form that needs no
word vectors.

The dictionary lives in the model's own buffers (``keys``: sorted 62-bit hashes of the id sequences,
``groups``: a bit per group), so a saved run needs neither jieba nor the file again, and a run loads
whatever dictionary size it was trained with. Membership is ``torch.searchsorted`` over the keys; two
31-bit polynomial hashes make a false match about one in 2^62 per window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

ROLES = ("begin", "inside", "end")
_P1, _B1 = 2_147_483_647, 1_000_003  # 2^31 - 1 and a multiplier below 2^20: h * B + id < 2^52
_P2, _B2 = 2_147_483_629, 999_983  # 2^31 - 19 (prime)


def hash_ids(ids: Sequence[int]) -> int:
    """The key of one id sequence: the same value :meth:`LexiconEmbedding.window_keys` computes."""
    h1 = h2 = 0
    for i in ids:
        h1 = (h1 * _B1 + i + 1) % _P1
        h2 = (h2 * _B2 + i + 1) % _P2
    return h1 * _P2 + h2


class LexiconEmbedding(nn.Module):
    """Dictionary-match features of each position, ``ids (b, s) -> (b, s, embed_dim)``.

    ``group_names``: the tag groups after the first, implicit one (``any``: every word).
    """

    def __init__(self, embed_dim: int, *, max_len: int = 4, group_names: Sequence[str] = (), pad_id: int = 0):
        super().__init__()
        if max_len < 2:
            raise ValueError(f"max_len must be >= 2 (words of one token carry no boundary), got {max_len}")
        self.max_len = max_len
        self.group_names = ("any", *group_names)
        self.pad_id = pad_id
        self.num_features = len(self.group_names) * (max_len - 1) * len(ROLES)
        self.weight = nn.Parameter(torch.zeros(self.num_features, embed_dim))
        self.register_buffer("keys", torch.zeros(0, dtype=torch.int64))
        self.register_buffer("groups", torch.zeros(0, dtype=torch.int64))

    @property
    def num_words(self) -> int:
        return int(self.keys.numel())

    @torch.no_grad()
    def set_words(self, words: Iterable[tuple[Sequence[int], int]]) -> int:
        """Store the dictionary: ``(token ids, group bits)`` per word (bit 0: any word, bit g: group g).
        Words shorter than 2 or longer than ``max_len`` tokens are skipped. Returns how many were kept."""
        merged: dict[int, int] = {}
        for ids, bits in words:
            if 2 <= len(ids) <= self.max_len:
                key = hash_ids(ids)
                merged[key] = merged.get(key, 0) | bits | 1
        keys = sorted(merged)
        device = self.weight.device
        self.keys = torch.tensor(keys, dtype=torch.int64, device=device)
        self.groups = torch.tensor([merged[k] for k in keys], dtype=torch.int64, device=device)
        return len(keys)

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # a saved dictionary has its own size: take it as it is, whatever this one held before loading
        for name in ("keys", "groups"):
            saved = state_dict.get(prefix + name)
            if saved is not None:
                setattr(self, name, torch.empty_like(saved, device=self.weight.device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def window_keys(self, ids: torch.Tensor) -> list[torch.Tensor]:
        """``[(b, s - L + 1) keys for L in 2..max_len]``, -1 where a window touches padding."""
        x = ids.long() + 1
        h1, h2 = x % _P1, x % _P2  # windows of length 1
        valid = ids != self.pad_id
        out = []
        for length in range(2, self.max_len + 1):  # a window longer than the text: (b, 0) keys
            nxt = x[:, length - 1 :]
            h1 = (h1[:, :-1] * _B1 + nxt) % _P1
            h2 = (h2[:, :-1] * _B2 + nxt) % _P2
            valid = valid[:, :-1] & (ids[:, length - 1 :] != self.pad_id)
            out.append(torch.where(valid, h1 * _P2 + h2, torch.full_like(h1, -1)))
        return out

    def matches(self, ids: torch.Tensor) -> list[torch.Tensor]:
        """``[(b, s - L + 1) group bits of the word starting there (0: none) for L in 2..max_len]``."""
        if self.keys.numel() == 0:
            return []
        result = []
        for keys in self.window_keys(ids):
            idx = self._search(keys).clamp(max=self.keys.numel() - 1)
            result.append(torch.where(self.keys[idx] == keys, self.groups[idx], torch.zeros_like(keys)))
        return result

    def _search(self, queries: torch.Tensor) -> torch.Tensor:
        """``torch.searchsorted(self.keys, queries)``; while exporting to ONNX (which has no such operator)
        the same answer by a binary search of ``ceil(log2(n + 1))`` gather-and-compare steps."""
        if not torch.onnx.is_in_onnx_export():
            return torch.searchsorted(self.keys, queries)
        n = self.keys.numel()
        lo, hi = torch.zeros_like(queries), torch.full_like(queries, n)
        for _ in range(max(1, n.bit_length())):
            mid = torch.div(lo + hi, 2, rounding_mode="floor")
            right = self.keys[mid.clamp(max=n - 1)] < queries
            lo = torch.where(right & (lo < hi), mid + 1, lo)
            hi = torch.where(right | (lo >= hi), hi, mid)
        return lo

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        """The multi-hot ``(b, s, F)`` features (order: group, length, role)."""
        b, s = ids.shape
        # padding on the right (max_len - 1 positions, never part of a match) makes every window count
        # positive, ``s + max_len - L``: an exported graph then needs no clamp for a text shorter than a
        # word (torch.export takes ``s - L + 1`` as the count and onnxruntime once failed on such texts)
        ids = F.pad(ids, (0, self.max_len - 1), value=self.pad_id)
        n_groups = len(self.group_names)
        powers = torch.pow(
            2, torch.arange(n_groups, device=ids.device)
        )  # bit g: x // 2^g % 2 (ONNX has no >>)
        per_length = []
        for li, bits in enumerate(self.matches(ids)):
            length = li + 2
            hit = (torch.div(bits.unsqueeze(-1), powers, rounding_mode="floor") % 2).to(self.weight.dtype)
            # hit (b, s + max_len - L, groups): a word of this length starts at i; shift it onto its
            # positions and keep the text's s
            begin = F.pad(hit, (0, 0, 0, length - 1))[:, :s]
            end = F.pad(hit, (0, 0, length - 1, 0))[:, :s]
            inside = torch.zeros_like(begin)
            for k in range(1, length - 1):
                inside = torch.maximum(inside, F.pad(hit, (0, 0, k, length - 1 - k))[:, :s])
            per_length.append(torch.stack((begin, inside, end), dim=-1))  # (b, s, groups, 3)
        if not per_length:  # no dictionary
            return torch.zeros(b, s, self.num_features, dtype=self.weight.dtype, device=ids.device)
        return torch.stack(per_length, dim=3).reshape(b, s, self.num_features)  # (b, s, groups, L, 3)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.features(ids) @ self.weight  # (b, s, F) @ (F, d)
