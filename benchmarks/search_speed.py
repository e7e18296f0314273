"""Query latency (p50/p95) and recall@10 of the index reviewnlp builds, at 10k, 100k and 1M segments.

usage: python benchmarks/search_speed.py [--sizes 10000,100000,1000000] [--run outputs]
       python benchmarks/search_speed.py --cli outputs     (whole `reviewnlp search` calls, per mode)

Scale points use synthetic 384-d unit vectors drawn around 2,000 topic centres
(real segment embeddings cluster; uniform noise would flatter nothing and
mislead IVF), with queries drawn near stored vectors.  For each size it builds
the flat index and the index ``VectorIndex.build(kind="auto")`` chooses, then
prints latency per single query and recall@10 of the chosen index against flat.
With ``--run`` it also measures the real corpus: the run's own vectors, queries
from its recommendations, IVF forced, recall against flat.
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from reviewnlp.index import VectorIndex


def clustered(n: int, dim: int, rng: np.random.Generator, centres: np.ndarray) -> np.ndarray:
    x = centres[rng.integers(0, len(centres), n)] + 0.35 * rng.normal(size=(n, dim)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def latency(index: VectorIndex, queries: np.ndarray) -> tuple[float, float, list]:
    times, results = [], []
    for q in queries:
        t = time.perf_counter()
        results.append(index.search(q[None, :], k=10)[0])
        times.append((time.perf_counter() - t) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95)), results


def recall(exact: list, approx: list) -> float:
    return float(np.mean([len({a for a, _ in x} & {b for b, _ in y}) / 10 for x, y in zip(exact, approx)]))


def cli_calls(run: Path, repeats: int = 3) -> None:
    """Wall time of whole ``reviewnlp search`` processes (start-up, loading, query, printing), median of ``repeats``."""
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("reviewnlp")
    print(f"`reviewnlp search` on {run}: wall seconds per call (median of {repeats}) and peak RSS")
    for mode in ("hybrid", "dense", "lexical", "phrase"):
        query = "media protocol" if mode == "phrase" else "financial support for kinship carers"
        times, rss = [], 0.0
        for _ in range(repeats):
            t = time.perf_counter()
            proc = subprocess.Popen([str(exe), "search", query, "-o", str(run), "--mode", mode, "-k", "10", "--json"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(proc.pid, 0)
            times.append(time.perf_counter() - t)
            rss = max(rss, usage.ru_maxrss / 1024)
            if status:
                raise SystemExit(f"search --mode {mode} failed: {proc.stderr.read().decode()[-2000:]}")
        print(f"  {mode:<8} {sorted(times)[len(times) // 2]:6.2f} s   peak RSS {rss:5.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--run", default=None, help="a finished run folder (outputs/) for the real-corpus check")
    ap.add_argument("--cli", default=None, help="a finished run folder: time whole `reviewnlp search` calls per mode")
    args = ap.parse_args()
    if args.cli:
        cli_calls(Path(args.cli))
        return
    rng = np.random.default_rng(0)
    dim = 384
    centres = rng.normal(size=(2000, dim)).astype(np.float32)
    print(f"{'size':>9} {'index':>12} {'build s':>8} {'p50 ms':>8} {'p95 ms':>8} {'recall@10':>10}")
    for n in (int(s) for s in args.sizes.split(",")):
        data = clustered(n, dim, rng, centres)
        ids = [str(i) for i in range(n)]
        picks = rng.integers(0, n, args.queries)
        queries = data[picks] + 0.05 * rng.normal(size=(args.queries, dim)).astype(np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        t = time.perf_counter()
        flat = VectorIndex.build(ids, data, "bench", kind="flat")
        flat_build = time.perf_counter() - t
        p50, p95, exact = latency(flat, queries)
        print(f"{n:>9} {'flat':>12} {flat_build:>8.1f} {p50:>8.2f} {p95:>8.2f} {1.0:>10.3f}")
        t = time.perf_counter()
        auto = VectorIndex.build(ids, data, "bench", kind="auto")
        auto_build = time.perf_counter() - t
        name = type(auto.index).__name__
        if name != "IndexFlatIP":
            p50, p95, approx = latency(auto, queries)
            print(f"{n:>9} {'auto=' + name[5:]:>12} {auto_build:>8.1f} {p50:>8.2f} {p95:>8.2f} "
                  f"{recall(exact, approx):>10.3f}")
        else:
            print(f"{n:>9} {'auto=flat':>12} (same index as flat)")
        del data, flat, auto
    if args.run:
        from reviewnlp.embed import load_vectors

        ids, vecs, model_id = load_vectors(Path(args.run) / "vectors.npy")  # whichever backend made the run
        q = vecs[rng.choice(len(vecs), size=min(args.queries, len(vecs)), replace=False)]
        flat = VectorIndex.build(ids, vecs, model_id, kind="flat")
        ivf = VectorIndex.build(ids, vecs, model_id, kind="ivf")
        p50f, p95f, exact = latency(flat, q)
        p50, p95, approx = latency(ivf, q)
        print(f"real corpus ({len(vecs)} segments): flat p50 {p50f:.2f} ms p95 {p95f:.2f} ms; "
              f"IVF p50 {p50:.2f} ms p95 {p95:.2f} ms, recall@10 vs flat {recall(exact, approx):.3f}")


if __name__ == "__main__":
    main()
