"""Hostile-folder benchmark: every bad input of issues 13 and 21 plus two good files, in one ``reviewnlp run``.

The folder holds PDFs whose titles are script, a saved page with inline script,
formula-like and control-character recommendations, UTF-16 and NUL-laden text,
a GOV.UK page, an encrypted, a truncated, an empty and an unsupported file, a
one-line text of ``--giant-mb`` MB, a hard-wrapped text of ``--wrapped-mb`` MB
with no blank line, a sparse file over the size limit, a FIFO, a socket, a
symlink loop and a link to /dev/zero; a second FIFO and /dev/zero itself are
named on the command line.  Round two (issue 21) adds links to /etc/passwd and
to a decoy file outside the folder, a file name that is not UTF-8, a markdown
file with a 200 KB heading, a decompression bomb (its worker dies), and
image-only pages too large to OCR as they are; and the output folder is one
someone sent you, with its lock file, a cache folder, a vector folder and two
temp names planted as links into a decoy folder.  The run must exit 0, write
every output, give each bad input one ``error:`` or ``skipped:`` line, and
leave the decoy folder exactly as it was (sha256 of every file before and after).

    .venv/bin/python benchmarks/hostile_folder.py [--giant-mb 50] [--wrapped-mb 6.5] [--workers 2]

Prints what it measured (exit code, wall time, peak memory of the run, the
lines, the outputs) and exits 1 if any expectation failed.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
GOOD = {"good_briefing.txt": ROOT / "corpus" / "seeds" / "001_5724dfca3f690e85.txt",
        "good_response.pdf": ROOT / "corpus" / "dev" / "hoc_home_affairs_summer2024_disorder_govt_response.pdf"}
# Hostile files that are still documents: each must be processed, its danger neutralised.
PROCESSED = ["pdf_title_with_script_tag.pdf", "pdf_title_with_img_onerror.pdf", "html_source_with_inline_script.html",
             "recommendation_starting_with_formula.txt", "recommendation_with_bel_control_char.txt",
             "utf16_le_text_with_bom.txt", "nul_bytes_after_first_4kb.txt",
             "govuk_page_with_feedback_and_related_links.html"]
# Bad inputs and the line each must get: (name, "error"/"skipped", text the line must contain).
EXPECTED_LINES = [
    ("encrypted.pdf", "error", "encrypted"), ("truncated.pdf", "error", "corrupt"), ("empty.txt", "error", "empty"),
    ("notes.docx", "error", "unsupported"), ("too_large_sparse.txt", "error", "too-large"),
    ("pipe.txt", "skipped", "a FIFO"), ("sock.txt", "skipped", "a socket"), ("loop_a.txt", "skipped", "symlink loop"),
    ("loop_b", "skipped", "symlink loop"), ("zero.txt", "skipped", "symlink to a character device"),
    ("outside_pipe.txt", "error", "a FIFO"), ("/dev/zero", "error", "a character device"),
    ("passwd.txt", "skipped", "outside the input folder"), ("decoy_secret.txt", "skipped", "outside the input folder"),
    ("latin1_\\xe9t\\xe9.txt", "skipped", "not valid UTF-8"),
    ("bomb.pdf", "error", "worker died"),
    ("huge_page_14400pt.pdf", "error", "too large"),
]
OUTPUTS = ("documents.jsonl", "segments.jsonl", "vectors.npy", "vectors.json", "index.faiss", "index.faiss.json",
           "alignments.jsonl", "alignments.csv", "alignments.xlsx", "report.html", "errors.jsonl", "run.json")
WORDS = ("data", "record", "line", "value", "field", "entry", "item", "block", "token", "series")


def _soup(n_bytes: int, seed: int) -> str:
    """Lower-case words with no sentence punctuation: a data dump or log saved as text."""
    rng = random.Random(seed)
    out, size = [], 0
    while size < n_bytes:
        w = rng.choice(WORDS)
        out.append(w)
        size += len(w) + 1
    return " ".join(out)


def build_folder(root: Path, giant_mb: float = 50.0, wrapped_mb: float = 6.5) -> tuple[Path, list[str], socket.socket]:
    """Create the hostile folder under ``root``; return (folder, extra command-line inputs, the bound socket).

    The socket must stay open while the run scans the folder, and be closed after.
    """
    folder = root / "hostile"
    folder.mkdir(parents=True)
    for name, src in GOOD.items():
        shutil.copy(src, folder / name)
    for name in PROCESSED:
        shutil.copy(FIXTURES / name, folder / name)
    shutil.copy(FIXTURES / "encrypted_user_password.pdf", folder / "encrypted.pdf")
    shutil.copy(FIXTURES / "truncated_half_file.pdf", folder / "truncated.pdf")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "notes.docx").write_bytes(b"PK\x03\x04 not a supported format")
    with open(folder / "too_large_sparse.txt", "wb") as fh:  # 250 MB of holes: refused before a byte is read
        fh.truncate(250 * 1024 * 1024)
    (folder / "giant_one_line.txt").write_text(_soup(int(giant_mb * 1e6), 1) + "\n", encoding="utf-8")
    wrapped = "\n".join(textwrap.wrap(_soup(int(wrapped_mb * 1e6), 2), 72)) + "\n"
    (folder / "hard_wrapped_no_blank_lines.txt").write_text(wrapped, encoding="utf-8")
    os.mkfifo(folder / "pipe.txt")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(folder / "sock.txt"))
    os.symlink("loop_b", folder / "loop_a.txt")
    os.symlink("loop_a.txt", folder / "loop_b")
    os.symlink("/dev/zero", folder / "zero.txt")
    os.mkfifo(root / "outside_pipe.txt")
    # Round two (issue 21): links out of the folder, a name that is not UTF-8, a 200 KB heading.
    decoy = root / "decoy"
    os.symlink("/etc/passwd", folder / "passwd.txt")
    os.symlink(decoy / "secret.txt", folder / "decoy_secret.txt")
    with open(os.fsencode(folder) + b"/latin1_\xe9t\xe9.txt", "wb") as fh:
        fh.write(b"We recommend that this file is never read.\n")
    heading = "# " + " ".join(_soup(200_000, 3).split()) + "\n\n"
    sentences = "".join(f"Sentence {i} says that the council should publish item {i}.\n\n" for i in range(1000))
    (folder / "long_heading.md").write_text(heading + sentences, encoding="utf-8")
    # A 5.7 KB PDF whose content stream inflates to 3 GB (pdfium aborts the worker), and image-only pages
    # too large to OCR at full resolution (6000 pt: read at a lower dpi) or at all (14400 pt).
    shutil.copy(FIXTURES / "content_stream_inflating_to_3_gb.pdf", folder / "bomb.pdf")
    shutil.copy(FIXTURES / "image_only_page_6000_pt_square.pdf", folder / "huge_page_6000pt.pdf")
    shutil.copy(FIXTURES / "image_only_page_14400_pt_square.pdf", folder / "huge_page_14400pt.pdf")
    return folder, [str(root / "outside_pipe.txt"), "/dev/zero"], sock


def build_decoy(root: Path) -> Path:
    """Files outside both folders that planted links point at: none may change, appear or vanish."""
    decoy = root / "decoy"
    (decoy / "dir").mkdir(parents=True)
    (decoy / "secret.txt").write_text("We recommend that this secret is never read.\n", encoding="utf-8")
    (decoy / "victim.txt").write_text("precious\n", encoding="utf-8")
    (decoy / "dir" / ".old.json.x.tmp").write_text("a temp sweep must not delete this\n", encoding="utf-8")
    (decoy / "dir" / "keep.json").write_text("{}\n", encoding="utf-8")
    return decoy


def plant_links(out: Path, decoy: Path) -> None:
    """An output folder someone sent you: its lock, a cache folder and a fixed temp name link outside."""
    (out / "cache" / "vectors").mkdir(parents=True)
    os.symlink(decoy / "victim.txt", out / ".reviewnlp.lock")
    os.symlink(decoy / "dir", out / "cache" / "units")
    os.symlink(decoy / "dir", out / "cache" / "vectors" / "0000000000000000")
    os.symlink(decoy / "victim.txt", out / ".index.faiss.tmp")
    os.symlink(decoy / "not_there.txt", out / ".documents.jsonl.abc.tmp")


def checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (links listed by target), for a before/after comparison."""
    import hashlib

    out = {}
    for p in sorted(folder.rglob("*")):
        rel = str(p.relative_to(folder))
        out[rel] = ("link -> " + os.readlink(p) if p.is_symlink() else "dir" if p.is_dir()
                    else hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def check(out: Path, folder: Path, stdout: str, stderr: str, rc: int) -> list[str]:
    """Every expectation the run missed, as one line each (empty when all hold)."""
    problems = [] if rc == 0 else [f"exit code {rc}"]
    problems += [f"missing output {n}" for n in OUTPUTS if not (out / n).exists()]
    if problems:
        return problems
    lines = (stdout + stderr).splitlines()
    for name, kind, text in EXPECTED_LINES:
        path = name if name.startswith("/") else str((folder.parent if name.startswith("outside") else folder) / name)
        mine = [l for l in lines if l.startswith(f"{kind}: {path}: ")]
        if len(mine) != 1 or text not in mine[0]:
            problems.append(f"{name}: expected one '{kind}:' line with {text!r}, got {mine}")
    docs = {Path(json.loads(l)["path"]).name for l in (out / "documents.jsonl").open(encoding="utf-8")}
    want = set(GOOD) | set(PROCESSED) | {"giant_one_line.txt", "hard_wrapped_no_blank_lines.txt", "long_heading.md",
                                           "huge_page_6000pt.pdf"}
    problems += [f"no document for {n}" for n in sorted(want - docs)]
    if not any(l.startswith(f"  OCR limit: {folder / 'huge_page_6000pt.pdf'}: page 1 OCRed at 75 dpi") for l in lines):
        problems.append("no 'OCR limit:' line for huge_page_6000pt.pdf")
    errors = [json.loads(l) for l in (out / "errors.jsonl").open(encoding="utf-8")]
    if len(errors) != sum(kind == "error" for _, kind, _ in EXPECTED_LINES):
        problems.append(f"errors.jsonl has {len(errors)} rows")
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    if manifest["files"]["skipped"] != sum(kind == "skipped" for _, kind, _ in EXPECTED_LINES):
        problems.append(f"run.json counts {manifest['files']['skipped']} skipped")
    with open(out / "alignments.csv", encoding="utf-8-sig") as fh:
        if any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for row in csv.DictReader(fh) for v in row.values()):
            problems.append("alignments.csv holds a cell that starts a formula")
    segments = (out / "segments.jsonl").read_text(encoding="utf-8")
    if any(c in segments for c in ("\\u0000", "\\u0007")):
        problems.append("segments.jsonl holds a NUL or BEL")
    if "never read" in segments or "root:x:" in segments:
        problems.append("a file outside the input folder was read")
    size = sum((out / n).stat().st_size for n in ("documents.jsonl", "segments.jsonl"))
    if size > 40 * 1024 * 1024:
        problems.append(f"documents and segments take {size / 1048576:.0f} MB (a long heading repeated?)")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Build the folder, run the real CLI on it, print the measurements; 0 when every expectation held."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--giant-mb", type=float, default=50.0, help="size of the one-line text (default 50)")
    ap.add_argument("--wrapped-mb", type=float, default=6.5, help="size of the hard-wrapped text (default 6.5)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds before the run counts as hung")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        decoy = build_decoy(root)
        folder, extra, sock = build_folder(root, args.giant_mb, args.wrapped_mb)
        out = root / "out"
        plant_links(out, decoy)
        before = checksums(decoy)
        built = time.perf_counter() - t0
        cmd = [sys.executable, "-m", "reviewnlp.cli", "run", str(folder), *extra, "-o", str(out),
               "--workers", str(args.workers)]
        t0 = time.perf_counter()
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout,
                                 env={**os.environ, "HF_HUB_OFFLINE": "1"})
            rc, stdout, stderr = res.returncode, res.stdout, res.stderr
        except subprocess.TimeoutExpired as exc:
            rc, stdout, stderr = "timeout", exc.stdout or "", exc.stderr or ""
        wall = time.perf_counter() - t0
        sock.close()
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        problems = check(out, folder, stdout, stderr, rc) if rc != "timeout" else ["the run hung"]
        after = checksums(decoy)
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        problems += [f"outside the output folder, {k} changed" for k in changed]
        n_files = sum(1 for _ in folder.iterdir())
        print(f"hostile folder: {n_files} entries ({args.giant_mb:g} MB one-line text, {args.wrapped_mb:g} MB "
              f"hard-wrapped text), plus {len(extra)} on the command line; built in {built:.1f}s")
        print(f"command: reviewnlp run hostile/ {' '.join(extra[:1] and [Path(extra[0]).name] + extra[1:])} -o out "
              f"--workers {args.workers}")
        print(f"exit code {rc}, wall {wall:.1f}s, peak RSS of the largest process {peak_mb:.0f} MB")
        print("--- lines printed (progress lines left out):")
        print("\n".join(l for l in (stderr + stdout).replace(str(root) + "/", "").splitlines()
                        if not l.startswith("[")))
        if (out / "run.json").exists():
            m = json.loads((out / "run.json").read_text(encoding="utf-8"))
            print("--- run.json: files", json.dumps(m["files"]), "| counts", json.dumps(
                {k: m["counts"][k] for k in ("documents", "segments", "recommendations")}))
            print("--- outputs:", ", ".join(f"{n} {(out / n).stat().st_size:,}B" for n in OUTPUTS if (out / n).exists()))
        print(f"--- decoy folder outside: {len(before)} entries before, {len(after)} after, {len(changed)} changed")
        print("--- expectations:", "all held" if not problems else f"{len(problems)} failed")
        for p in problems:
            print("  FAILED:", p)
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
