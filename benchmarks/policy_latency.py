"""Per-step latency of the SafeVLA policy: eager PyTorch vs ONNX Runtime, for each config, in one run.

Both backends step through the same random episode in alternating blocks of steps, so that whatever
else the machine is doing hits both alike while neither runtime's idle thread pool spins against the
other's. A step is the whole ``backend.step`` call: preprocessing, the cached model step,
postprocessing (the instruction is encoded once, in the warm-up). Thread counts are the same for both.

    python benchmarks/policy_latency.py                       # small and safevla, CPU, 2 threads
    python benchmarks/policy_latency.py --threads 1 2         # one table row pair per thread count
    python benchmarks/policy_latency.py --configs small --steps 200 --device auto

Prints a table and writes benchmarks/results/policy_latency.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "policy_latency.json"


def episode(n: int, seed: int = 0):
    from safevla_policy.backends.base import Observation

    rng = np.random.default_rng(seed)
    for t in range(n):
        nav, manip = rng.integers(0, 256, size=(2, 224, 384, 3), dtype=np.uint8)
        yield Observation(nav, manip, "locate an alarm clock", t, int(rng.integers(0, 20)) if t else 20, False)


def measure(config: str, steps: int, warmup: int, device: str, threads: int, onnx_root: Path,
            block: int, spin: bool) -> dict:
    """Time both backends on one config; returns the JSON record."""
    from safevla_policy.backends import make_backend

    started = time.perf_counter()
    backends = {"torch": make_backend("model", config=config, seed=0, device=device, num_threads=threads),
                "onnx": make_backend("onnx", config=config, seed=0, device=device, num_threads=threads,
                                     onnx_dir=onnx_root / config, spin=spin)}
    setup_s = time.perf_counter() - started
    observations = list(episode(warmup + steps))
    times: dict[str, list[float]] = {"torch": [], "onnx": []}
    outputs: dict[str, list] = {"torch": [], "onnx": []}
    for start in range(0, len(observations), block):
        for name, backend in backends.items():
            for i in range(start, min(start + block, len(observations))):
                t0 = time.perf_counter()
                outputs[name].append(backend.step(observations[i]))
                if i >= warmup:
                    times[name].append(time.perf_counter() - t0)
    max_diff = max(max(float(np.abs(a.probs - b.probs).max()), float(np.abs(a.latent - b.latent).max()))
                   for a, b in zip(outputs["torch"], outputs["onnx"]))
    record = {"config": config, "threads": threads, "steps": steps, "warmup": warmup,
              "setup_s": round(setup_s, 1), "onnx_providers": backends["onnx"].providers,
              "torch_device": str(backends["torch"].device), "max_abs_diff_probs_latent": max_diff}
    for name, samples in times.items():
        ms = np.asarray(samples) * 1e3
        record[name] = {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)),
                        "mean_ms": float(ms.mean()), "steps_per_s": float(1e3 / np.percentile(ms, 50))}
    record["ort_over_torch_p50"] = record["onnx"]["p50_ms"] / record["torch"]["p50_ms"]
    record["ort_speedup_p50"] = record["torch"]["p50_ms"] / record["onnx"]["p50_ms"]
    return record


def print_table(records: list[dict]) -> None:
    header = (f"{'config':8} {'threads':>7} {'backend':7} {'p50 ms':>9} {'p95 ms':>9} {'steps/s':>8} "
              f"{'ORT/torch':>10} {'speed-up':>9}")
    print(header)
    print("-" * len(header))
    for r in records:
        for name in ("torch", "onnx"):
            s = r[name]
            ratio = f"{r['ort_over_torch_p50']:10.2f} {r['ort_speedup_p50']:8.2f}x" if name == "onnx" else ""
            print(f"{r['config']:8} {r['threads']:7d} {name:7} {s['p50_ms']:9.1f} {s['p95_ms']:9.1f} "
                  f"{s['steps_per_s']:8.1f} {ratio}")
        print(f"{'':8} max |torch - ORT| over probs and latent: {r['max_abs_diff_probs_latent']:.2e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--configs", nargs="+", default=["small", "safevla"], help="configs to time")
    parser.add_argument("--steps", type=int, default=None,
                        help="timed steps per config (default: 100 for small, 12 for safevla)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (both backends)")
    parser.add_argument("--threads", type=int, nargs="+", default=[2],
                        help="intra-op threads for torch and ORT alike; several values: one run each")
    parser.add_argument("--block", type=int, default=5, help="steps per backend before switching")
    parser.add_argument("--spin", action="store_true",
                        help="library defaults instead of the backends' passive waits: OpenMP's own wait policy "
                             "(spin, then sleep) and ORT's spinning thread pool")
    parser.add_argument("--onnx-dir", type=Path, default=None,
                        help="keep exported graphs here (<dir>/<config>); default: a temporary folder")
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON output")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.spin:  # read when torch loads, just below
        os.environ.pop("OMP_WAIT_POLICY", None)
    else:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    wait_policy = os.environ.get("OMP_WAIT_POLICY", "library default")

    import onnxruntime
    import torch

    with tempfile.TemporaryDirectory(prefix="safevla_bench_") as tmp:
        onnx_root = args.onnx_dir or Path(tmp)
        records = []
        for config in args.configs:
            steps = args.steps or (100 if config == "small" else 12)
            for threads in args.threads:
                records.append(measure(config, steps, args.warmup, args.device, threads, onnx_root, args.block,
                                       args.spin))
    print_table(records)
    report = {"benchmark": "policy_latency", "time": time.strftime("%Y-%m-%d %H:%M:%S"),
              "machine": {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
                          "cpu_count": os.cpu_count(), "threads": args.threads, "device": args.device,
                          "omp_wait_policy": wait_policy,
                          "ort_spinning": args.spin},
              "versions": {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__},
              "results": records}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
