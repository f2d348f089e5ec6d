"""``scratchlm encode SOURCE TEXT... [--layer N|last|all] [--json] [--compare WORD]``: the tokens of each
text and their contextual vectors from a checkpoint folder, ``minilm-l6`` or a run."""

from __future__ import annotations

import argparse
import json


def _short(v: list[float], edge: int = 3) -> str:
    """``-0.1148 -0.0134 -0.0225 ... 0.0054 0.0066 0.0047`` (as torch prints a long row)."""
    cells = [f"{x:.4f}" for x in v]
    return " ".join(cells) if len(cells) <= 2 * edge else " ".join([*cells[:edge], "...", *cells[-edge:]])


def _width(token: str) -> int:
    """Columns a token takes in a terminal (CJK characters take two)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in token)


def _rows(states, layers: list[int]) -> dict[int, list[list[float]]]:
    return {i: [[round(x, 6) for x in row] for row in states[i].tolist()] for i in layers}


def cmd_encode(args: argparse.Namespace) -> int:
    from scratchlm.transplant.contextual import (
        compare_word,
        hidden_states,
        layer_index,
        load_encoder,
        sentence_vector,
    )

    encoder = load_encoder(args.source)
    if args.compare:
        return _print_compare(args, encoder, compare_word, layer_index)
    out = []
    for text in args.texts:
        tokens, ids = encoder.encode(text)
        states = hidden_states(encoder, ids)
        layers = layer_index(args.layer, len(states))
        item = {"text": text, "tokens": tokens, "ids": ids, "layers": _rows(states, layers)}
        pooled = sentence_vector(encoder, states[-1])
        if pooled is not None:
            item["sentence_vector"] = pooled
        out.append(item)
    if args.json:
        payload = {"source": args.source, "kind": encoder.kind, "num_layers": len(states) - 1, "texts": out}
        payload.update(pooling=encoder.pooling, normalize=encoder.normalize)
        print(json.dumps(payload, ensure_ascii=False))
        return 0
    print(f"{args.source}: {encoder.kind}, {len(states) - 1} layers")
    for item in out:
        for layer, rows in item["layers"].items():
            name = "last" if layer == len(states) - 1 and args.layer == "last" else str(layer)
            print(f"{item['text']}  ({len(rows)} tokens, layer {name}, {len(rows[0])}-d)")
            width = max(map(_width, item["tokens"]))
            for token, row in zip(item["tokens"], rows, strict=True):
                print(f"  {token}{' ' * (width - _width(token))}  {_short(row)}")
        if "sentence_vector" in item:
            how = f"{encoder.pooling} pooling" + (", normalized" if encoder.normalize else "")
            print(f"  sentence vector ({how}): {_short(item['sentence_vector'])}")
    return 0


def _print_compare(args, encoder, compare_word, layer_index) -> int:
    from scratchlm.errors import DataError

    if len(args.texts) < 2:
        raise DataError("--compare WORD needs two texts or more (the word in different contexts)")
    _tokens, ids = encoder.encode(args.texts[0])
    num_states = encoder.num_layers + 1
    layers = layer_index(args.layer, num_states)
    if len(layers) != 1:
        raise DataError("--compare takes one layer (a number or last), not all")
    report = compare_word(encoder, args.texts, args.compare, layers[0])
    report["layer"] = layers[0]
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    n = len(args.texts)
    print(
        f"{args.compare!r} (pieces {report['pieces']}) in {n} texts, layer {layers[0]} of {num_states - 1}:"
    )
    print("contextual vectors, cosine similarity:")
    print("          " + "".join(f"text {j + 1:<4}" for j in range(n)))
    for i, row in enumerate(report["contextual_cosine"]):
        print(f"  text {i + 1:<3}" + "".join(f"{c:<9.4f}" for c in row))
    vs = report["contextual_vs_static"]
    static = (
        "; contextual vs static: " + ", ".join(f"text {i + 1} {c:.4f}" for i, c in enumerate(vs))
        if vs
        else ""
    )
    print(
        f"static embedding row ({report['static_dim']}-d): the same row in every text, cosine 1.0000{static}"
    )
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "encode",
        help="tokens and contextual vectors of texts from a checkpoint folder, minilm-l6 or a run",
        description="Print each text's tokens and their hidden states (layer 0: the input layer's output; "
        "last: the encoder's output), read from a BERT-family checkpoint folder (any layout: "
        "model.safetensors, shards, pytorch_model.bin, sentence-transformers), minilm-l6, or a scratchlm run.",
    )
    p.add_argument("source", help="a checkpoint folder, minilm-l6, or a run directory")
    p.add_argument("texts", nargs="+", metavar="TEXT")
    p.add_argument("--layer", default="last", help="N (0: the input layer), last or all (default: last)")
    p.add_argument(
        "--json", action="store_true", help="print tokens, ids, full vectors and the sentence vector as JSON"
    )
    p.add_argument(
        "--compare",
        metavar="WORD",
        help="cosine similarity of WORD's contextual vectors across the texts, next to its static embedding row",
    )
    p.set_defaults(func=cmd_encode)
