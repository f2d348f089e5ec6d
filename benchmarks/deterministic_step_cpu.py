"""The CPU cost of ``train.deterministic`` on one training step of the demo model, in process CPU time.

Wall-clock throughput on a shared machine moves by 2x from minute to minute; the CPU time a process
spends on a step (one torch thread) moves much less. The model of ``configs/zh_sentiment.yaml``
(26.6M parameters, 25.6M of them the hashed pair table), a random batch of 32 x 200 token ids,
forward + cross-entropy + backward + fused AdamW. Three settings take turns, each ``--steps`` steps
after one warm-up step, ``--rounds`` times: torch's fastest kernels (``off``), deterministic kernels
with torch's fill of new memory (``on, fill``: what ``use_deterministic_algorithms`` alone does), and
deterministic kernels without the fill (``on``: what ``train.deterministic`` does).

    .venv/bin/python benchmarks/deterministic_step_cpu.py

Writes ``benchmarks/results/deterministic_step_cpu.json``.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import torch
import torch.utils.deterministic

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "deterministic_step_cpu.json"
MODES = {"off": (False, True), "on, fill": (True, True), "on": (True, False)}


def main(rounds: int = 5, steps: int = 3) -> None:
    from scratchlm.config import load_config
    from scratchlm.tasks.registry import make_task
    from scratchlm.training.optim import build_optimizer

    torch.set_num_threads(1)
    cfg = load_config(ROOT / "configs" / "zh_sentiment.yaml", ["model.init=normal"])
    model = make_task(cfg).build_model(4355, 2, 0, ["negative", "positive"])
    optimizer = build_optimizer(model, cfg.train)
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 4355, (32, 200), generator=g)
    padding = torch.zeros(32, 200, dtype=torch.bool)
    labels = torch.randint(0, 2, (32,), generator=g)

    def step() -> None:
        loss = torch.nn.functional.cross_entropy(model(ids, padding), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    seconds: dict[str, list[float]] = {k: [] for k in MODES}
    for _ in range(rounds):
        for mode, (deterministic, fill) in MODES.items():
            torch.use_deterministic_algorithms(deterministic)
            torch.utils.deterministic.fill_uninitialized_memory = fill
            step()
            t0 = time.process_time()
            for _ in range(steps):
                step()
            seconds[mode].append((time.process_time() - t0) / steps)
    off = statistics.median(seconds["off"])
    print(f"{'setting':<10}{'CPU s/step (median)':>20}{'vs off':>8}  rounds")
    for mode, values in seconds.items():
        med = statistics.median(values)
        print(f"{mode:<10}{med:>20.3f}{med / off:>8.3f}  {', '.join(f'{v:.3f}' for v in values)}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"torch": torch.__version__, "seconds": seconds}, indent=2) + "\n", encoding="utf-8"
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
