"""The output folder: one writer at a time, and a check that its files come from one run.

Two runs writing the same folder would interleave their files (documents and
segments from one, vectors, index and alignments from the other) and both end
with success.  So every command that writes a folder holds an exclusive
``flock`` on ``OUT/.reviewnlp.lock`` (the lock file holds the writer's pid;
the kernel drops the lock when the process dies, even by ``kill -9``), and a
second writer stops at once with one line naming the holder.

``run.json`` records a digest of each file a search reads; :func:`check_consistent`
refuses a folder whose files or stage keys no longer match it.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import OutputFolderError

LOCK = ".reviewnlp.lock"
MANIFEST = "run.json"
STATE = Path("cache") / "state.json"
# What search and the web page read together; a mix of two runs among these gives wrong answers.
CHECKED = ("documents.jsonl", "segments.jsonl", "vectors.json", "index.faiss", "index.faiss.json", "alignments.jsonl")
_held: dict[Path, int] = {}  # folders this process has locked, so nested users do not deadlock on themselves


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def prepare(out_dir: str | Path) -> Path:
    """Create ``out_dir`` (and parents); raise :class:`OutputFolderError` in one line when that is impossible."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise OutputFolderError(f"{out_dir}: cannot create the output folder (a file is in the way)") from exc
    except OSError as exc:
        raise OutputFolderError(f"{out_dir}: cannot create the output folder ({_why(exc)})") from exc
    return out_dir


@contextmanager
def locked(out_dir: str | Path) -> Iterator[Path]:
    """Hold the folder's writer lock for the ``with`` block (created if needed; re-entrant in one process)."""
    out_dir = prepare(out_dir)
    key = out_dir.resolve()
    if key in _held:
        yield out_dir
        return
    path = out_dir / LOCK
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputFolderError(f"{out_dir}: cannot write to the output folder ({_why(exc)})") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise OutputFolderError(f"{out_dir}: another reviewnlp run (pid {holder}) is writing to this folder; "
                                    "wait for it to finish or choose another -o") from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except OSError as exc:
            raise OutputFolderError(f"{out_dir}: cannot write to the output folder ({_why(exc)})") from exc
        _held[key] = fd
        try:
            yield out_dir
        finally:
            _held.pop(key, None)
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _digest(path: Path) -> str | None:
    if not path.exists():
        return None
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def digests(out_dir: str | Path) -> dict[str, str | None]:
    """Digest of each file search reads (None where it is absent), for ``run.json``."""
    return {name: _digest(Path(out_dir) / name) for name in CHECKED}


def refresh_manifest(out_dir: str | Path) -> None:
    """After a stage command rewrote some files, record their new digests in an existing ``run.json``."""
    from .records import atomic_write_text

    path = Path(out_dir) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if isinstance(manifest, dict) and "output_digests" in manifest:
        manifest["output_digests"] = digests(out_dir)
        atomic_write_text(path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def check_consistent(out_dir: str | Path) -> None:
    """Refuse a folder whose files or stage keys differ from what its ``run.json`` recorded.

    A folder without ``run.json`` (files made stage by stage) is not checked.
    """
    out_dir = Path(out_dir)
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        raise OutputFolderError(f"{out_dir / MANIFEST}: unreadable ({exc}); run `reviewnlp run` again") from exc
    if not isinstance(manifest, dict):
        raise OutputFolderError(f"{out_dir / MANIFEST}: not a run manifest; run `reviewnlp run` again")
    try:
        state = json.loads((out_dir / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = None
    keys = (manifest.get("cache") or {}).get("keys") or {}
    if state is not None and keys:
        stale = sorted(k for k, v in keys.items() if state.get(k) != v)
        if stale:
            raise OutputFolderError(f"{out_dir}: stage keys in run.json do not match the folder's files "
                                    f"({', '.join(stale)}: another run wrote them); run `reviewnlp run` again")
    for name, want in (manifest.get("output_digests") or {}).items():
        if _digest(out_dir / name) != want:
            raise OutputFolderError(f"{out_dir}: {name} is not the file run.json recorded (another run or stage "
                                    "wrote it); run `reviewnlp run` again")
