"""Greedy generation speed: scratchlm's causal LM with its KV cache vs HF ``GPT2LMHeadModel.generate`` vs
scratchlm without the cache, the same shape, side by side in one process.

Shape: GPT-2 small (12 layers, hidden 768, 12 heads, FFN 3072, vocabulary 50257, learned positions,
1024 of them, output matrix tied to the token embedding), random weights (speed does not depend on
what the weights learned). For each batch size (default 1 and 8): a ``--prompt``-token prompt
(default 128, random ids, the same for the three), then ``--new-tokens`` greedy tokens (default 256)
with no end token (every row generates all of them). Each contender first runs a short warm-up; then
the three take turns ``--repeats`` times and the best time of each counts. Reported: new tokens per
second (batch x new tokens / seconds, the prompt's forward pass included) and the ratios ours/HF and
ours/no-cache. ``--no-cache-tokens`` shortens the no-cache contender's run (its step cost grows with
the length, so its tokens/s at the full length would be lower still; the table says when it was cut).

    .venv/bin/python benchmarks/generate.py                      # CPU, fp32
    .venv/bin/python benchmarks/generate.py --device cuda --dtype bf16

Writes ``benchmarks/results/generate_<device>.json`` (``--out`` elsewhere). The cache and no-cache
paths are also checked to produce the same tokens.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
VOCAB, LAYERS, HIDDEN, HEADS, POSITIONS = 50257, 12, 768, 12, 1024


def build(device: str, dtype: torch.dtype):
    from transformers import GPT2Config, GPT2LMHeadModel

    from scratchlm.config import EncoderConfig, ModelConfig, PositionalConfig
    from scratchlm.models.causal_lm import CausalLanguageModel

    torch.manual_seed(0)
    hf = GPT2LMHeadModel(
        GPT2Config(
            vocab_size=VOCAB,
            n_positions=POSITIONS,
            n_embd=HIDDEN,
            n_layer=LAYERS,
            n_head=HEADS,
            attn_implementation="sdpa",
        )
    )
    cfg = ModelConfig(
        embed_dim=HIDDEN,
        encoder=EncoderConfig(num_layers=LAYERS, num_heads=HEADS, ffn_dim=4 * HIDDEN, attention_dropout=0.0),
        positional=PositionalConfig(kind="learned"),
        embedding_norm="none",
        dropout=0.0,
        embedding_dropout=0.0,
        tie_embeddings=True,
    )
    ours = CausalLanguageModel(cfg, vocab_size=VOCAB, max_seq_len=POSITIONS)
    return hf.to(device, dtype).eval(), ours.to(device, dtype).eval()


def ours_generate(model, prompts: torch.Tensor, new_tokens: int, use_cache: bool) -> list[list[int]]:
    from scratchlm.predict.generate import causal_lm_streams
    from scratchlm.predict.sampling import GenerationOptions

    streams = causal_lm_streams(
        model,
        prompts.tolist(),
        GenerationOptions(max_new_tokens=new_tokens),
        eos_id=-1,
        pad_id=0,
        use_cache=use_cache,
    )
    assert all(len(s.ids) == new_tokens for s in streams)
    return [s.ids for s in streams]


@torch.no_grad()
def hf_generate(model, prompts: torch.Tensor, new_tokens: int) -> list[list[int]]:
    out = model.generate(
        prompts,
        attention_mask=torch.ones_like(prompts),
        max_new_tokens=new_tokens,
        min_new_tokens=new_tokens,
        do_sample=False,
        pad_token_id=0,
    )
    assert out.shape[1] == prompts.shape[1] + new_tokens
    return out[:, prompts.shape[1] :].tolist()


def timed(fn, device: str) -> tuple[float, object]:
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, out


def run_batch(hf, ours, args, batch: int) -> dict:
    g = torch.Generator().manual_seed(batch)
    prompts = torch.randint(5, VOCAB, (batch, args.prompt), generator=g).to(args.device)
    n, m = args.new_tokens, args.no_cache_tokens or args.new_tokens
    contenders = {
        "scratchlm": (lambda: ours_generate(ours, prompts, n, True), n),
        "hf": (lambda: hf_generate(hf, prompts, n), n),
        "scratchlm_no_cache": (lambda: ours_generate(ours, prompts, m, False), m),
    }
    # warm-up (kernels, allocator): a few tokens each
    ours_generate(ours, prompts, 4, True)
    hf_generate(hf, prompts, 4)
    ours_generate(ours, prompts, 4, False)
    best = {name: float("inf") for name in contenders}
    outputs = {}
    for _ in range(args.repeats):
        for name, (fn, _) in contenders.items():
            seconds, outputs[name] = timed(fn, args.device)
            best[name] = min(best[name], seconds)
    same = [row[:m] for row in outputs["scratchlm"]] == outputs["scratchlm_no_cache"]
    row = {
        "batch": batch,
        "prompt": args.prompt,
        "new_tokens": n,
        "no_cache_new_tokens": m,
        "cache_equals_no_cache": same,
    }
    for name, (_, tokens) in contenders.items():
        row[f"{name}_seconds"] = round(best[name], 3)
        row[f"{name}_tokens_per_s"] = round(batch * tokens / best[name], 2)
    row["vs_hf"] = round(row["scratchlm_tokens_per_s"] / row["hf_tokens_per_s"], 3)
    row["vs_no_cache"] = round(row["scratchlm_tokens_per_s"] / row["scratchlm_no_cache_tokens_per_s"], 3)
    return row


def main() -> None:
    global HIDDEN, VOCAB
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="fp32", choices=["fp32", "bf16"])
    p.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    p.add_argument("--prompt", type=int, default=128)
    p.add_argument("--new-tokens", type=int, default=256)
    p.add_argument("--no-cache-tokens", type=int, default=None, help="fewer new tokens for the no-cache path")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--hidden", type=int, default=HIDDEN, help="model width (768: GPT-2 small)")
    p.add_argument("--vocab", type=int, default=VOCAB, help="vocabulary (50257: GPT-2)")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    HIDDEN, VOCAB = args.hidden, args.vocab
    dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[args.dtype]
    hf, ours = build(args.device, dtype)
    rows = []
    for batch in args.batches:
        rows.append(run_batch(hf, ours, args, batch))
        r = rows[-1]
        print(
            f"batch {batch}: scratchlm {r['scratchlm_tokens_per_s']} tok/s, HF {r['hf_tokens_per_s']} tok/s, "
            f"no cache {r['scratchlm_no_cache_tokens_per_s']} tok/s ({r['no_cache_new_tokens']} tokens); "
            f"{r['vs_hf']}x HF, {r['vs_no_cache']}x no cache; same tokens: {r['cache_equals_no_cache']}",
            flush=True,
        )
    import transformers

    result = {
        "device": args.device,
        "dtype": args.dtype,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "machine": platform.machine(),
        "gpu": torch.cuda.get_device_name() if args.device == "cuda" else None,
        "rows": rows,
    }
    out = args.out or ROOT / "benchmarks" / "results" / f"generate_{args.device}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
