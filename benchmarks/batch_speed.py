"""Batch runs in one go: cold vs warm vs one-file-changed on the bundled corpus, then a scale run.

usage: python benchmarks/batch_speed.py [--copies N]     (default N=3)

1. cold: every stage on a fresh copy of corpus/ (fresh cache);
2. warm: the same run again (everything cached);
3. changed: one seed text edited, the run again;
4. scale: extraction + segmentation (the stage --workers parallelises) over a folder of N copies
   of the corpus PDFs, each copy with distinct bytes, with 1 and 2 workers.  Embedding stays in
   one process and is reported from the cold run.

Times are wall-clock inside one Python process (model loading included in the cold run).
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

from reviewnlp.batch import Cache, run_units
from reviewnlp.extract import discover
from reviewnlp.pipeline import run

ROOT = Path(__file__).resolve().parent.parent


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main(argv: list[str]) -> None:
    copies = int(argv[argv.index("--copies") + 1]) if "--copies" in argv else 3
    work = Path(tempfile.mkdtemp(prefix="reviewnlp-bench-"))
    try:
        corpus = work / "corpus"
        shutil.copytree(ROOT / "corpus", corpus)
        out = work / "out"
        cold, t_cold = timed(lambda: run([corpus], out))
        warm, t_warm = timed(lambda: run([corpus], out))
        seed = sorted((corpus / "seeds").glob("*.txt"))[2]
        seed.write_text(seed.read_text(encoding="utf-8") + "\nThe Government will publish a new plan.\n",
                        encoding="utf-8")
        changed, t_changed = timed(lambda: run([corpus], out))
        print(f"bundled corpus: {cold['files']['total']} files, {cold['counts']['pages']} pages, "
              f"{cold['counts']['segments']} segments")
        print(f"{'run':<10}{'seconds':>9}{'vs cold':>9}  recomputed / embedded")
        for name, m, t in (("cold", cold, t_cold), ("warm", warm, t_warm), ("changed", changed, t_changed)):
            redo = ",".join(k for k, v in m["cache"]["recomputed"].items() if v) or "nothing"
            print(f"{name:<10}{t:9.1f}{t / t_cold:9.1%}  {redo}; files processed {m['files']['done']}, "
                  f"segments embedded {m['counts']['newly_embedded']}")
        emb = cold["timings_s"]["embed"]
        print(f"embedding (cold, one process): {cold['counts']['segments'] / emb:.0f} segments/s")

        scale = work / "scale"
        scale.mkdir()
        pdfs = [p for p in discover([ROOT / "corpus"]) if p.suffix.lower() == ".pdf"]
        for k in range(copies):
            for p in pdfs:
                # Bytes after %%EOF are ignored by readers but change the content hash: a distinct file.
                (scale / f"{p.stem}-copy{k}.pdf").write_bytes(p.read_bytes() + f"\n%copy {k}\n".encode())
        paths = discover([scale])
        print(f"\nscale: {len(paths)} PDFs ({copies} copies of {len(pdfs)}), extraction + segmentation")
        base = None
        for workers in (1, 2):
            units, t = timed(lambda: run_units(paths, Cache(work / f"scale-out-{workers}"), workers=workers))
            pages = sum(len(u.doc.pages) for u in units if u.doc)
            segs = sum(len(u.segments) for u in units)
            base = base or t
            print(f"workers {workers}: {t:7.1f} s  {pages / t:7.1f} pages/s  {segs / t:8.1f} segments/s  "
                  f"speed-up {base / t:4.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
