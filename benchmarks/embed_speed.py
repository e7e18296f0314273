"""Embedding backends side by side in one run: speed, memory and closeness to torch fp32 on corpus segments.

usage: python benchmarks/embed_speed.py [--n 2000] [--repeats 3] [--backends torch,openvino,openvino-f32]
                                        [--segments outputs/segments.jsonl]

Sentences: real segments, from ``--segments`` (a run's ``segments.jsonl``) when
given or when ``outputs/segments.jsonl`` exists, else from the project's own
extraction and segmentation of corpus/ (smallest files first until there are
twice as many as needed).  ``--n`` of them are drawn with a fixed seed.

Each backend runs in its own process, one after the other, so each peak RSS is
its own (model load included).  Per backend: sentences/s (median of
``--repeats`` timed passes after one warm-up pass over 64 sentences, each
backend with its shipped batch size), the speed ratio to torch fp32 measured in
this run, peak RSS, mean and minimum cosine to torch fp32, and recall@10 of
torch fp32's neighbours: the first 200 sentences query the rest, and recall is
the share of fp32's top 10 that the backend's top 10 keeps.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
QUERIES = 200


def corpus_sentences(n: int, segments: str | None) -> list[str]:
    """``n`` distinct non-empty segment texts, drawn with a fixed seed."""
    path = Path(segments) if segments else ROOT / "outputs" / "segments.jsonl"
    texts: list[str] = []
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            texts = [json.loads(line)["text"] for line in fh]
    else:
        from reviewnlp.units import segment_full
        from reviewnlp.extract import discover, extract_or_fail
        from reviewnlp.records import FailedFile

        for p in sorted(discover([ROOT / "corpus"]), key=lambda p: (p.stat().st_size, p.name)):
            doc = extract_or_fail(p)
            if not isinstance(doc, FailedFile):
                texts += [s.text for s in segment_full(doc)]
            if len(set(texts)) >= 2 * n:
                break
    texts = sorted({t for t in texts if t.strip()})
    if len(texts) < n:
        raise SystemExit(f"only {len(texts)} distinct segments; lower --n")
    rng = np.random.default_rng(0)
    return [texts[i] for i in rng.choice(len(texts), size=n, replace=False)]


def worker(backend: str, sentences_file: str, vectors_file: str, repeats: int) -> None:
    """Run in a child process: load, warm up, time ``repeats`` passes, save the vectors, print one JSON line."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from reviewnlp.embed import make_embedder

    sentences = json.loads(Path(sentences_file).read_text(encoding="utf-8"))
    t = time.perf_counter()
    emb = make_embedder(backend)
    emb.encode(sentences[:64])
    load_s = time.perf_counter() - t
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        vecs = emb.encode(sentences)
        times.append(time.perf_counter() - t)
    np.save(vectors_file, vecs)
    print(json.dumps({"backend": backend, "model_id": emb.model_id, "batch": getattr(emb, "batch_size", None),
                      "load_s": load_s, "seconds": statistics.median(times), "all_s": times,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "torch_loaded": "torch" in sys.modules}))


def recall_at_10(ref: np.ndarray, got: np.ndarray) -> float:
    """Share of fp32's 10 nearest neighbours (first QUERIES rows against the rest) that ``got`` also finds."""
    q = min(QUERIES, len(ref) // 4)
    top = lambda v: np.argsort(-(v[:q] @ v[q:].T), axis=1, kind="stable")[:, :10]
    a, b = top(ref), top(got)
    return float(np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, b)]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--backends", default="torch,openvino,openvino-f32")
    ap.add_argument("--segments", default=None)
    ap.add_argument("--worker", nargs=3, metavar=("BACKEND", "SENTENCES", "VECTORS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(*args.worker, args.repeats)
        return
    backends = args.backends.split(",")
    if backends[0] != "torch":
        backends = ["torch"] + [b for b in backends if b != "torch"]  # the reference comes first
    sentences = corpus_sentences(args.n, args.segments)
    print(f"{len(sentences)} corpus segments, {args.repeats} timed passes each (median), "
          f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="reviewnlp-embed-bench-") as tmp:
        src = Path(tmp) / "sentences.json"
        src.write_text(json.dumps(sentences), encoding="utf-8")
        rows, vecs = [], {}
        for b in backends:
            out = Path(tmp) / f"{b}.npy"
            res = subprocess.run([sys.executable, __file__, "--repeats", str(args.repeats), "--worker", b, str(src),
                                  str(out)], capture_output=True, text=True, check=True)
            rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
            vecs[b] = np.load(out)
    ref = vecs["torch"]
    base = len(sentences) / rows[0]["seconds"]
    print(f"{'backend':<14}{'batch':>6}{'sent/s':>9}{'ratio':>7}{'load s':>8}{'peak RSS MB':>12}"
          f"{'mean cos':>10}{'min cos':>9}{'recall@10':>10}  torch imported")
    for r in rows:
        v = vecs[r["backend"]]
        cos = (v * ref).sum(axis=1)
        rate = len(sentences) / r["seconds"]
        print(f"{r['backend']:<14}{r['batch'] or '-':>6}{rate:>9.1f}{rate / base:>6.2f}x{r['load_s']:>8.1f}"
              f"{r['peak_rss_mb']:>12.0f}{cos.mean():>10.5f}{cos.min():>9.5f}{recall_at_10(ref, v):>10.3f}  "
              f"{'yes' if r['torch_loaded'] else 'no'}")
    for r in rows:
        print(f"  {r['backend']}: {r['model_id']}; passes {', '.join(f'{s:.1f}' for s in r['all_s'])} s")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
