"""Pages per second: reviewnlp's extractor against plain pdfplumber ``extract_text``, same files, one run.

usage: python benchmarks/extract_speed.py [PDF or folder ...]   (default: corpus/dev)
"""
from __future__ import annotations

import sys
import time

import pdfplumber

from reviewnlp.extract import discover, extract


def main(args: list[str]) -> None:
    paths = [p for p in discover(args or ["corpus/dev"]) if p.suffix.lower() == ".pdf"]
    t = time.perf_counter()
    pages = 0
    for p in paths:
        pages += extract(p).meta["n_pages"]
    ours_s = time.perf_counter() - t
    t = time.perf_counter()
    plumber_pages = 0
    for p in paths:
        with pdfplumber.open(p) as pdf:
            for page in pdf.pages:
                page.extract_text()
                plumber_pages += 1
    plumber_s = time.perf_counter() - t
    print(f"files {len(paths)}  pages {pages}")
    print(f"reviewnlp extract : {ours_s:7.2f} s  {pages / ours_s:8.1f} pages/s")
    print(f"pdfplumber text   : {plumber_s:7.2f} s  {plumber_pages / plumber_s:8.1f} pages/s")
    print(f"speed-up          : {plumber_s / ours_s * pages / plumber_pages:7.1f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
