"""Sequence packing for pretraining: texts joined into one token stream, cut into equal blocks.

Each text is ``[CLS] tokens [SEP]``; the stream of all texts is cut every ``block_size`` tokens, so no
block is padded (only the last may be shorter), no text is truncated (a long one continues in the next
block) and every token is used exactly once. Each token also gets its segment: the number of the text it
belongs to within its block (0, 1, ...), which a document mask uses to keep attention inside a text.
Any per-token side sequence (whole-word ids) is cut the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PackedBlocks:
    seqs: list[list[int]]
    segments: list[list[int]]
    extra: list[list[int]] = field(default_factory=list)  # cut like seqs (e.g. word ids); empty if none


def pack_sequences(
    docs: list[list[int]], block_size: int, extra: list[list[int]] | None = None
) -> PackedBlocks:
    """``docs``: one id list per text (separators already in); ``extra``: optional per-token lists of the
    same lengths, renumbered so that a value stays distinct between texts of one block (word ids ``>= 0``
    are shifted past the previous text's; ``-1`` stays ``-1``)."""
    if block_size < 2:
        raise ValueError(f"block_size must be >= 2, got {block_size}")
    out = PackedBlocks([], [], [])
    ids: list[int] = []
    seg: list[int] = []
    ext: list[int] = []
    doc_in_block = 0
    next_word = 0  # the first extra value free in the current block

    def close_block() -> None:
        nonlocal ids, seg, ext, doc_in_block, next_word
        out.seqs.append(ids)
        out.segments.append(seg)
        if extra is not None:
            out.extra.append(ext)
        ids, seg, ext, doc_in_block, next_word = [], [], [], 0, 0

    for d, doc in enumerate(docs):
        start = 0
        while start < len(doc):
            take = min(len(doc) - start, block_size - len(ids))
            ids.extend(doc[start : start + take])
            seg.extend([doc_in_block] * take)
            if extra is not None:
                piece = extra[d][start : start + take]
                valid = [v for v in piece if v >= 0]
                shift = next_word - min(valid) if valid else 0
                ext.extend(v + shift if v >= 0 else -1 for v in piece)
                next_word = max(valid) + shift + 1 if valid else next_word
            start += take
            if len(ids) == block_size:
                close_block()
        if ids:
            doc_in_block += 1
    if ids:
        close_block()
    return out
