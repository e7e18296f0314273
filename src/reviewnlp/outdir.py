"""The output folder: one writer at a time, and a check that its files come from one run.

Two runs writing the same folder would interleave their files (documents and
segments from one, vectors, index and alignments from the other) and both end
with success.  So every command that writes a folder holds an exclusive
``flock`` on ``OUT/.reviewnlp.lock`` (the lock file holds the writer's pid;
the kernel drops the lock when the process dies, even by ``kill -9``), and a
second writer stops at once with one line naming the holder.

``run.json`` records a digest of each file a search reads; :func:`check_consistent`
refuses a folder whose files or stage keys no longer match it, or whose last
run stopped part way (:func:`writing` leaves ``OUT/.reviewnlp.unfinished``
until the run has written its ``run.json``).

A folder you are sent may hold planted links.  Nothing here writes through
one: the lock opens with ``O_NOFOLLOW`` and refuses a file with other names,
:func:`real_dir` replaces a link where a folder of ours should be, and every
file is written by a fresh temp file and a rename (which replaces a link, not
its target).
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import OutputFolderError

LOCK = ".reviewnlp.lock"
UNFINISHED = ".reviewnlp.unfinished"
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
    fd = _open_lock(out_dir)
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


def _open_lock(out_dir: Path) -> int:
    """A descriptor on the folder's own lock file: never a link, never a file with another name elsewhere.

    A symbolic link planted under the lock's name would make the pid write clobber (or create) its target,
    and a hard link would do the same to the file it shares; either is removed (only the name in this
    folder) and a fresh lock file is made.
    """
    path = out_dir / LOCK
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    for _ in range(3):
        try:
            fd = os.open(path, flags, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # a symbolic link: drop the link, not what it names
                _remove_name(path)
                continue
            raise OutputFolderError(f"{out_dir}: cannot write to the output folder ({_why(exc)})") from exc
        st = os.fstat(fd)
        if stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
            return fd
        os.close(fd)
        _remove_name(path)
    raise OutputFolderError(f"{path}: cannot make the lock file (something keeps replacing it)")


def _remove_name(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            raise OutputFolderError(f"{path}: a folder is in the way of reviewnlp's own file; remove it")
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise OutputFolderError(f"{path}: cannot replace it ({_why(exc)})") from exc


def real_dir(out_dir: str | Path, *parts: str) -> Path:
    """``out_dir/parts...`` as real folders, created where missing.

    A symbolic link (or any other non-folder) planted where one of reviewnlp's folders belongs is removed,
    only its name inside the output folder, and a real folder made in its place: cache files are then
    never written into, nor temp files swept out of, a folder elsewhere.
    """
    path = Path(out_dir)
    for part in parts:
        path = path / part
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            st = None
        except OSError as exc:
            raise OutputFolderError(f"{path}: cannot use this folder ({_why(exc)})") from exc
        if st is not None and stat.S_ISDIR(st.st_mode):
            continue
        try:
            if st is not None:
                os.unlink(path)
            path.mkdir(exist_ok=True)
        except OSError as exc:
            raise OutputFolderError(f"{path}: cannot make this folder ({_why(exc)})") from exc
    return path


def _inside(name, folder: Path) -> bool:
    if not name:
        return False
    try:
        return Path(os.path.abspath(os.fsdecode(name))).is_relative_to(Path(os.path.abspath(folder)))
    except (TypeError, ValueError):
        return False


@contextmanager
def writing(out_dir: str | Path) -> Iterator[Path]:
    """Mark ``out_dir`` unfinished while a run rewrites its outputs, and say in one line why a write failed.

    A full disk, a quota or a read-only folder raises :class:`OutputFolderError` naming the file; the
    marker stays, so :func:`check_consistent` refuses the half-written folder until a run finishes.  Work
    already cached is kept and reused by the next run.
    """
    from .records import atomic_write_text

    out_dir = Path(out_dir)
    try:
        atomic_write_text(out_dir / UNFINISHED, f"{os.getpid()}\n")
        yield out_dir
    except OSError as exc:
        if not _inside(exc.filename, out_dir):
            raise
        raise OutputFolderError(f"{os.fsdecode(exc.filename)}: cannot write ({_why(exc)}); the run stopped "
                                "before it finished; make room and run it again (finished work is cached)") from exc
    (out_dir / UNFINISHED).unlink(missing_ok=True)


def _digest(path: Path) -> str | None:
    if not path.exists():
        return None
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def digests(out_dir: str | Path, names: tuple[str, ...] = CHECKED) -> dict[str, str | None]:
    """Digest of each of ``names`` (by default the files search reads; None where absent), for ``run.json``."""
    return {name: _digest(Path(out_dir) / name) for name in names}


def recorded_digests(out_dir: str | Path) -> dict[str, str | None]:
    """The digest ``run.json`` recorded for each output file, or {} when there is no readable manifest."""
    try:
        manifest = json.loads((Path(out_dir) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = manifest.get("file_digests") if isinstance(manifest, dict) else None
    return {k: v for k, v in found.items() if isinstance(k, str)} if isinstance(found, dict) else {}


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
        if isinstance(manifest.get("file_digests"), dict):
            manifest["file_digests"] = digests(out_dir, tuple(manifest["file_digests"]))
        atomic_write_text(path, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def check_consistent(out_dir: str | Path) -> None:
    """Refuse a folder whose files or stage keys differ from what its ``run.json`` recorded.

    A folder without ``run.json`` (files made stage by stage) is not checked.
    """
    out_dir = Path(out_dir)
    if (out_dir / UNFINISHED).exists():
        raise OutputFolderError(f"{out_dir}: the last run here stopped before it finished; "
                                "run `reviewnlp run` again")
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
    if not isinstance(state, dict) or not all(isinstance(v, str) for v in state.values()):
        state = None  # a damaged cache state says nothing about the files (their digests are still checked)
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
