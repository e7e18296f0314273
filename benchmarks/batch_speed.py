"""Batch runs in one go: cold vs warm vs one-file-changed on the bundled corpus, then how cost grows with size.

usage: python benchmarks/batch_speed.py [--embed-backend B] [--compare-torch] [--keep DIR]
                                        [--corpus all|small] [--corpus-copies K]
                                        [--scale 1,3,10] [--scale-subset small|all] [--copies N]

1. cold: every stage on a fresh copy of corpus/ (fresh cache; ``--corpus small``
   and ``--corpus-copies K``: K copies of the small subset below), with the default
   embedding backend (or ``--embed-backend``); ``--compare-torch`` first does the
   same cold run with the torch backend, so the speed-up is measured in this run;
2. warm: the same run again (everything cached);
3. changed: one seed text edited, the run again; then "code touched": the extraction
   settings carry one more value (as an upgrade touching extraction does), the run again,
   its outputs compared byte for byte with a cold run under the same settings; and "OCR
   appears": a fresh folder run without tesseract, then again with it;
4. scale (``--scale``): the whole pipeline, cold, over K copies of a corpus
   subset (each copy with distinct bytes, so nothing is shared through the
   cache): ``small`` is the seed texts and the PDFs under 300 KB, ``all`` the
   whole corpus.  Time per stage and peak RSS per K;
5. workers (``--copies N``, 0 skips): extraction + segmentation over N copies of
   the corpus PDFs with 1 and 2 workers.

Every run is a separate process, so each peak RSS is its own.  Times are
measured around ``reviewnlp.pipeline.run`` inside that process (model loading
included, interpreter start-up not).  ``--keep DIR`` keeps the cold run's
output folder (e.g. for timing ``reviewnlp search``).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SMALL_PDF_BYTES = 300_000


def one_run(inputs: str, out: str, backend: str, mode: str = "") -> None:
    """Child process: one pipeline run; prints its wall time, peak RSS and manifest summary as JSON.

    ``mode`` "touch": the extraction settings carry one more value (what an upgrade that touches the
    extraction code does to the cache keys); "no-ocr": tesseract is hidden (a machine without it).
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import reviewnlp.batch as batch
    import reviewnlp.extract.ocr as ocr
    from reviewnlp.embed import make_embedder
    from reviewnlp.pipeline import run

    if mode == "touch":
        settings = batch.extract_settings()
        batch.extract_settings = lambda: {**settings, "touched": 1}
    elif mode == "no-ocr":
        ocr.tesseract_version = lambda: None

    t = time.perf_counter()
    m = run([inputs], out, embedder=make_embedder(backend or None),
            workers=int(os.environ.get("REVIEWNLP_BENCH_WORKERS", "1")))
    seconds = time.perf_counter() - t
    print(json.dumps({"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "timings": m["timings_s"], "rates": m.get("segments_per_s", {}), "files": m["files"],
                      "counts": m["counts"], "recomputed": m["cache"]["recomputed"],
                      "embedding": m["models"]["embedding"]}))


def child(inputs: Path, out: Path, backend: str, timeout: float = 3600, mode: str = "") -> dict:
    res = subprocess.run([sys.executable, __file__, "--one-run", str(inputs), str(out), backend or "", mode],
                         capture_output=True, text=True, timeout=timeout)
    if res.returncode:
        raise SystemExit(f"run failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def copy_corpus(dest: Path, copies: int, subset: str) -> int:
    """Write ``copies`` copies of the corpus (or its small subset) with distinct bytes; return the file count."""
    from reviewnlp.extract import discover

    files = [p for p in discover([ROOT / "corpus"])
             if subset == "all" or p.suffix.lower() != ".pdf" or p.stat().st_size < SMALL_PDF_BYTES]
    dest.mkdir(parents=True)
    for k in range(copies):
        for p in files:
            # Bytes after %%EOF are ignored by PDF readers; a text gets a trailing line.  Either way a distinct file.
            tail = f"\n%copy {k}\n" if p.suffix.lower() == ".pdf" else f"\n\nCopy {k}.\n"
            (dest / f"{p.stem}-copy{k}{p.suffix}").write_bytes(p.read_bytes() + tail.encode())
    return len(files)


def stage_line(name: str, r: dict, base: float | None = None) -> str:
    t = r["timings"]
    ratio = f"{base / r['seconds']:6.2f}x" if base else "      "
    return (f"{name:<16}{r['seconds']:8.1f}{ratio} {r['peak_rss_mb']:8.0f}  "
            f"extract+segment {t.get('extract+segment', 0):6.1f}  embed {t.get('embed', 0):6.1f} "
            f"({r['rates'].get('embed', 0):.0f} seg/s)  index {t.get('index', 0):5.1f}  align {t.get('align', 0):6.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--embed-backend", default="", help="backend of the cold run (default: the package default)")
    ap.add_argument("--compare-torch", action="store_true", help="also a cold run with the torch backend, first")
    ap.add_argument("--keep", default=None, help="keep the cold run's output folder here")
    ap.add_argument("--corpus", choices=("all", "small"), default="all", help="what the cold/warm runs read")
    ap.add_argument("--corpus-copies", type=int, default=1, help="copies of it (distinct bytes)")
    ap.add_argument("--scale", default="", help="copies of the subset for the scale runs, e.g. 1,3,10")
    ap.add_argument("--scale-subset", choices=("small", "all"), default="small")
    ap.add_argument("--copies", type=int, default=0, help="copies of the corpus PDFs for the workers comparison")
    ap.add_argument("--workers", type=int, default=1, help="extraction workers of every run (default 1)")
    ap.add_argument("--one-run", nargs=4, help=argparse.SUPPRESS)
    args = ap.parse_args()
    os.environ["REVIEWNLP_BENCH_WORKERS"] = str(args.workers)
    if args.one_run:
        one_run(*args.one_run)
        return
    print(f"{os.cpu_count()} CPUs; load average at start {os.getloadavg()[0]:.1f}")
    work = Path(tempfile.mkdtemp(prefix="reviewnlp-bench-"))
    try:
        corpus = work / "corpus"
        if args.corpus == "all" and args.corpus_copies == 1:
            shutil.copytree(ROOT / "corpus", corpus)
        else:
            copy_corpus(corpus, args.corpus_copies, args.corpus)
        header = f"{'run':<16}{'seconds':>8}{'speed':>7} {'peak MB':>8}  stages (s)"
        rows = []
        if args.compare_torch:
            rows.append(("cold, torch", child(corpus, work / "out-torch", "torch")))
        out = Path(args.keep) if args.keep else work / "out"
        if out.exists():
            shutil.rmtree(out)
        cold = child(corpus, out, args.embed_backend)
        base = rows[0][1]["seconds"] if rows else None
        rows.append(("cold", cold))
        warm = child(corpus, out, args.embed_backend)
        seed = sorted(corpus.rglob("*.txt"))[2]
        seed.write_text(seed.read_text(encoding="utf-8") + "\nThe Government will publish a new plan.\n",
                        encoding="utf-8")
        changed = child(corpus, out, args.embed_backend)
        # An upgrade that touches the extraction code: every unit is re-extracted, and no vector should be redone.
        touched = child(corpus, out, args.embed_backend, mode="touch")
        fresh = work / "out-fresh"
        cold_again = child(corpus, fresh, args.embed_backend, mode="touch")
        same = [n for n in ("documents.jsonl", "segments.jsonl", "vectors.npy", "alignments.jsonl", "alignments.csv")
                if (out / n).read_bytes() == (fresh / n).read_bytes()]
        shutil.rmtree(fresh, ignore_errors=True)
        # OCR appears: a folder first run without tesseract, then with it; one scanned page added to the corpus
        # (the bundled PDFs all have text layers now), so exactly one file has a page to OCR.
        shutil.copy(ROOT / "tests" / "fixtures" / "text_page_then_rasterised_page.pdf", corpus / "scanned.pdf")
        ocr_out = work / "out-ocr"
        no_ocr = child(corpus, ocr_out, args.embed_backend, mode="no-ocr")
        with_ocr = child(corpus, ocr_out, args.embed_backend)
        texts = [json.loads(line)["text"] for line in (out / "segments.jsonl").read_text(encoding="utf-8").splitlines()]
        print(f"corpus ({args.corpus}, {args.corpus_copies} cop{'y' if args.corpus_copies == 1 else 'ies'}): "
              f"{cold['files']['total']} files, {cold['counts']['pages']} pages, "
              f"{cold['counts']['segments']} segments; embedding model {cold['embedding']}")
        print(header)
        for name, r in rows:
            print(stage_line(name, r, base if name == "cold" else None))
        for name, r in (("warm", warm), ("changed", changed), ("code touched", touched), ("OCR appears", with_ocr)):
            redo = ",".join(k for k, v in r["recomputed"].items() if v) or "nothing"
            print(f"{name:<16}{r['seconds']:8.1f}{r['seconds'] / cold['seconds']:7.1%} {r['peak_rss_mb']:8.0f}  "
                  f"recomputed {redo}; files processed {r['files']['done']}, "
                  f"segments embedded {r['counts']['newly_embedded']}")
        print(f"(OCR appears: the corpus plus one scanned page; against the cold run of {cold['seconds']:.1f} s; the run "
              f"before it, without tesseract, took {no_ocr['seconds']:.1f} s and processed {no_ocr['files']['done']} files)")
        print(f"extraction workers: {args.workers}")
        print(f"code touched: outputs byte-identical to a cold run with the same settings ({cold_again['seconds']:.1f} s):"
              f" {len(same)} of 5 ({', '.join(same)})")
        print(f"exact duplicate segment texts in this corpus: {len(texts) - len(set(texts))} of {len(texts)} "
              f"({(len(texts) - len(set(texts))) / max(len(texts), 1):.1%}), each embedded once")
        if args.compare_torch:
            print(f"cold run speed-up over torch, measured in this run: {base / cold['seconds']:.2f}x")

        if args.scale:
            print(f"\nscale: whole pipeline, cold, over K copies of the corpus ({args.scale_subset} subset)")
            print(f"{'K':>3}{'files':>6}{'pages':>7}{'segments':>9}{'seconds':>9}{'peak MB':>9}  stages (s)")
            for k in (int(x) for x in args.scale.split(",")):
                src = work / f"scale-{k}"
                n = copy_corpus(src, k, args.scale_subset)
                r = child(src, work / f"scale-out-{k}", args.embed_backend)
                t = r["timings"]
                print(f"{k:>3}{n * k:>6}{r['counts']['pages']:>7}{r['counts']['segments']:>9}{r['seconds']:>9.1f}"
                      f"{r['peak_rss_mb']:>9.0f}  extract+segment {t['extract+segment']:.1f}, embed {t['embed']:.1f}"
                      f" ({r['rates'].get('embed', 0):.0f} seg/s), index {t['index']:.1f}, align {t['align']:.1f}")
                shutil.rmtree(src, ignore_errors=True)
                shutil.rmtree(work / f"scale-out-{k}", ignore_errors=True)

        if args.copies:
            from reviewnlp.batch import Cache, run_units
            from reviewnlp.extract import discover

            scale = work / "workers"
            scale.mkdir()
            pdfs = [p for p in discover([ROOT / "corpus"]) if p.suffix.lower() == ".pdf"]
            for k in range(args.copies):
                for p in pdfs:
                    (scale / f"{p.stem}-copy{k}.pdf").write_bytes(p.read_bytes() + f"\n%copy {k}\n".encode())
            paths = discover([scale])
            print(f"\nworkers: {len(paths)} PDFs ({args.copies} copies of {len(pdfs)}), extraction + segmentation")
            first = None
            for workers in (1, 2):
                t0 = time.perf_counter()
                units = run_units(paths, Cache(work / f"workers-out-{workers}"), workers=workers)
                t = time.perf_counter() - t0
                pages = sum(len(u.doc.pages) for u in units if u.doc)
                segs = sum(len(u.segments) for u in units)
                first = first or t
                print(f"workers {workers}: {t:7.1f} s  {pages / t:7.1f} pages/s  {segs / t:8.1f} segments/s  "
                      f"speed-up {first / t:4.2f}x")
        print(f"load average at end {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
