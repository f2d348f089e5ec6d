"""The input layer, fused vs HF ``BertEmbeddings``, side by side in one process.

Both compute ``LayerNorm(E[ids] + P[:s] + T[types])`` (dropout 0.1 in training mode) with the same
weights: HF's eager module, scratchlm's :class:`~scratchlm.modules.input_layer.InputLayer` with its
eager modules (``fused="off"``), and the same layer on its fused path (``fused="on"``: one compiled
region, what CUDA runs by default). Timed: forward (no grad) and forward + backward (sum of the output
times a fixed random tensor), median of ``--repeats`` timings of ``--iters`` steps each, after warm-up
(which includes compilation).

Bandwidth: the forward must read the token rows it gathers, the position and type rows and the ids,
and write the output: ``b s (2 d bytes_per_value + 8 + 8) + s d bytes_per_value`` bytes at least;
``--peak-gbs`` (H100 SXM: 3350) turns bytes / time into a fraction of the memory bandwidth.

    .venv/bin/python benchmarks/input_layer.py                      # CUDA: 64 x 512, hidden 768, bf16
    .venv/bin/python benchmarks/input_layer.py --device cpu --batch 8 --seq 128 --dtype float32

Writes ``benchmarks/results/input_layer_<device>.json``. On CPU the numbers say nothing about the GPU
target; they show the script runs and the paths agree.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent


def build(args, device: str, dtype: torch.dtype):
    from transformers import BertConfig
    from transformers.models.bert.modeling_bert import BertEmbeddings

    from scratchlm.config import EncoderConfig, ModelConfig, PositionalConfig
    from scratchlm.models import components
    from scratchlm.models.hf_bert import copy_bert_embeddings

    torch.manual_seed(0)
    hf_cfg = BertConfig(
        vocab_size=args.vocab,
        hidden_size=args.hidden,
        max_position_embeddings=args.seq,
        type_vocab_size=2,
        hidden_dropout_prob=0.1,
        layer_norm_eps=1e-12,
        pad_token_id=0,
    )
    hf = BertEmbeddings(hf_cfg)
    cfg = ModelConfig(
        embed_dim=args.hidden,
        encoder=EncoderConfig(num_heads=12 if args.hidden % 12 == 0 else 1, ffn_dim=4 * args.hidden),
        positional=PositionalConfig(kind="learned"),
        num_token_types=2,
        embedding_norm="layernorm",
        norm_eps=1e-12,
        embedding_dropout=0.1,
    )
    ours = components.input_layer(
        cfg, components.position_parts(cfg, args.seq), vocab_size=args.vocab, pad_id=0
    )
    copy_bert_embeddings(ours, hf)
    return hf.to(device, dtype).train(), ours.to(device, dtype).train()


def timer(device: str):
    if device.startswith("cuda"):

        def now():
            torch.cuda.synchronize()
            return time.perf_counter()

        return now
    return time.perf_counter


def bench(fn, args, now) -> float:
    """Median milliseconds per call."""
    for _ in range(args.warmup):
        fn()
    times = []
    for _ in range(args.repeats):
        start = now()
        for _ in range(args.iters):
            fn()
        times.append((now() - start) * 1000 / args.iters)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--batch", type=int, help="default 64 on CUDA, 8 on the CPU")
    p.add_argument("--seq", type=int, help="default 512 on CUDA, 128 on the CPU")
    p.add_argument("--hidden", type=int, default=768)
    p.add_argument("--vocab", type=int, default=30522)
    p.add_argument(
        "--dtype",
        choices=("bfloat16", "float16", "float32"),
        help="default bfloat16 on CUDA, float32 on the CPU",
    )
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--peak-gbs", type=float, default=3350.0, help="memory bandwidth in GB/s (H100 SXM 3350)")
    args = p.parse_args()
    cuda = args.device.startswith("cuda")
    if not cuda:
        print(
            "no CUDA: a CPU-sized run that checks the paths agree; its times say nothing about the GPU target"
        )
    args.batch = args.batch or (64 if cuda else 8)
    args.seq = args.seq or (512 if cuda else 128)
    args.dtype = args.dtype or ("bfloat16" if cuda else "float32")
    device, dtype = args.device, getattr(torch, args.dtype)
    hf, ours = build(args, device, dtype)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1, args.vocab, (args.batch, args.seq), generator=g).to(device)
    types = torch.randint(0, 2, (args.batch, args.seq), generator=g).to(device)
    grad_out = torch.randn(args.batch, args.seq, args.hidden, generator=g).to(device, dtype)
    now = timer(device)

    # numerics first: eval mode (no dropout), fused vs modules vs HF
    with torch.no_grad():
        hf.eval(), ours.eval()
        ours.fused = "off"
        ref = hf(ids, types).float()
        eager = ours(ids, types).float()
        ours.fused = "on"
        fused = ours(ids, types).float()
        hf.train(), ours.train()
    agreement = {
        "ours_eager_vs_hf_max_abs": (eager - ref).abs().max().item(),
        "ours_fused_vs_hf_max_abs": (fused - ref).abs().max().item(),
    }

    def run(module, fused: str | None, backward: bool):
        def step():
            if fused is not None:
                module.fused = fused
            if backward:
                out = module(ids, types)
                out.backward(grad_out)
                module.zero_grad(set_to_none=True)
            else:
                with torch.no_grad():
                    module(ids, types)

        return step

    rows = {}
    for name, module, fused in (
        ("hf BertEmbeddings", hf, None),
        ("scratchlm eager", ours, "off"),
        ("scratchlm fused", ours, "on"),
    ):
        rows[name] = {
            "forward_ms": bench(run(module, fused, False), args, now),
            "forward_backward_ms": bench(run(module, fused, True), args, now),
        }
    size = torch.finfo(dtype).bits // 8
    b, s, d = args.batch, args.seq, args.hidden
    forward_bytes = b * s * (2 * d * size + 8 + 8) + s * d * size
    base = rows["hf BertEmbeddings"]
    for row in rows.values():
        row["forward_speedup_vs_hf"] = base["forward_ms"] / row["forward_ms"]
        row["forward_backward_speedup_vs_hf"] = base["forward_backward_ms"] / row["forward_backward_ms"]
        row["forward_bandwidth_gbs"] = forward_bytes / (row["forward_ms"] / 1000) / 1e9
        row["forward_bandwidth_fraction"] = row["forward_bandwidth_gbs"] / args.peak_gbs
    print(f"input layer, {device} {args.dtype}, batch {b} x seq {s}, hidden {d}, vocab {args.vocab}")
    print(f"{'':20s} {'fwd ms':>9s} {'fwd+bwd ms':>11s} {'fwd x HF':>9s} {'f+b x HF':>9s} {'fwd GB/s':>9s}")
    for name, row in rows.items():
        print(
            f"{name:20s} {row['forward_ms']:9.3f} {row['forward_backward_ms']:11.3f} "
            f"{row['forward_speedup_vs_hf']:9.2f} {row['forward_backward_speedup_vs_hf']:9.2f} "
            f"{row['forward_bandwidth_gbs']:9.1f}"
        )
    print("max |difference| to HF (eval):", {k: f"{v:.2e}" for k, v in agreement.items()})
    result = {
        "args": vars(args),
        "device_name": torch.cuda.get_device_name()
        if device.startswith("cuda")
        else platform.processor() or "cpu",
        "torch": torch.__version__,
        "forward_bytes": forward_bytes,
        "agreement": agreement,
        "rows": rows,
    }
    out = ROOT / "benchmarks" / "results" / f"input_layer_{device.split(':')[0]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
