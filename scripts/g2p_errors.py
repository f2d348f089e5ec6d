"""What a G2P run gets wrong: WER and PER both ways (micro and per-word mean), by word length, vowels
against consonants, words with a letter trigram the training split never shows, and the commonest
phone confusions. Decodes the split with the run's beam size (or ``--beam-size``).

    .venv/bin/python scripts/g2p_errors.py runs/recipes/g2p-s13 [--split test] [--json OUT.json]

Prints Markdown tables (docs/seq2seq.md, section 5, shows them for the recipe).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys

from scratchlm.tasks.seq2seq_metrics import edit_distance, seq2seq_metrics

VOWELS = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}
LENGTHS = [(1, 4), (5, 7), (8, 10), (11, 99)]


def alignment(ref, hyp):
    """Levenshtein alignment as (ref phone or None, hyp phone or None) pairs, matches included."""
    n, m = len(ref), len(hyp)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]))
    pairs, i, j = [], n, m
    while i or j:
        if i and j and d[i][j] == d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            pairs.append((ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif i and d[i][j] == d[i - 1][j] + 1:
            pairs.append((ref[i - 1], None))
            i -= 1
        else:
            pairs.append((None, hyp[j - 1]))
            j -= 1
    return pairs[::-1]


def closest(refs, hyp):
    return min(refs, key=lambda r: sum(a != b for a, b in alignment(list(r), hyp)))


def trigrams(word: str) -> set[str]:
    w = f"^{word}$"
    return {w[i : i + 3] for i in range(len(w) - 2)}


def analyse(words, predictions, refs, train_words) -> dict:
    seen = set().union(*(trigrams(w) for w in train_words))
    rows = collections.defaultdict(lambda: [0, 0, 0, 0])  # words, wrong, phone errors, ref phones
    ops = collections.Counter()
    confusions = collections.Counter()
    chars = [0, 0]  # edits and length over the space-joined phone strings ("HH AH L OW")
    for word, hyp, rs in zip(words, predictions, refs, strict=True):
        ref = list(closest(rs, hyp))
        wrong = all(list(r) != hyp for r in rs)
        pairs = alignment(ref, hyp)
        errors = sum(a != b for a, b in pairs)
        n = len(word)
        length = next(f"{lo}-{hi}" if hi < 99 else f"{lo}+" for lo, hi in LENGTHS if lo <= n <= hi)
        novel = "unseen trigram" if trigrams(word) - seen else "all trigrams seen"
        for key in (f"length {length}", novel, "all"):
            r = rows[key]
            r[0], r[1], r[2], r[3] = r[0] + 1, r[1] + wrong, r[2] + errors, r[3] + len(ref)
        chars[0] += edit_distance(" ".join(ref), " ".join(hyp))
        chars[1] += len(" ".join(ref))
        for a, b in pairs:
            if a == b:
                continue
            kind = "substitution" if a and b else ("deletion" if a else "insertion")
            phone = a or b
            ops[(kind, "vowel" if phone in VOWELS else "consonant")] += 1
            if a and b:
                confusions[(a, b)] += 1
    table = {
        k: {"words": w, "wer": wr / w, "per": e / max(p, 1), "phone_errors_per_wrong_word": e / max(wr, 1)}
        for k, (w, wr, e, p) in rows.items()
    }
    return {
        "metrics": {**seq2seq_metrics(predictions, refs), "per_characters": chars[0] / max(chars[1], 1)},
        "groups": table,
        "operations": {f"{k} {c}": v for (k, c), v in sorted(ops.items())},
        "confusions": [[a, b, n] for (a, b), n in confusions.most_common(12)],
    }


def markdown(result: dict) -> str:
    m = result["metrics"]
    lines = [
        f"WER {m['wer']:.4f}; PER micro (edits / reference phones) {m['per']:.4f}; "
        f"PER per-word mean {m['per_word_mean']:.4f}; edits over the space-joined phone strings, per character "
        f"{m['per_characters']:.4f}",
        "",
        "| words | count | WER | PER (micro) | phone errors per wrong word |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, r in sorted(result["groups"].items()):
        lines.append(
            f"| {key} | {r['words']} | {r['wer']:.4f} | {r['per']:.4f} | {r['phone_errors_per_wrong_word']:.2f} |"
        )
    lines += ["", "| edit | count |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in result["operations"].items()]
    lines += ["", "commonest substitutions (reference -> predicted): " + ", ".join(
        f"{a}->{b} {n}" for a, b, n in result["confusions"])]  # fmt: skip
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("run")
    p.add_argument("--split", default="test", choices=["dev", "test"])
    p.add_argument("--beam-size", type=int, default=None)
    p.add_argument("--json", help="also write the figures here")
    args = p.parse_args(argv)
    from scratchlm.training.run_dir import load_run

    run = load_run(args.run)
    task = run.handler(beam_size=args.beam_size)
    task.load()
    examples = task.split(args.split)
    enc = task.encode(run.tokenizer, examples, run.labels)
    pad_id = run.tokenizer.vocab.pad_id
    predictions = task.decode(
        run.model, enc.sources, run.labels, pad_id, run.config.train.eval_batch_size, "cpu"
    )
    words = [ex.text for ex in examples]
    train_words = [ex.text.lower() for ex in task.split("train")]
    result = analyse([w.lower() for w in words], predictions, enc.refs, train_words)
    print(markdown(result))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
