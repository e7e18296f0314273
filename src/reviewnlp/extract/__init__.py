"""Extraction stage: files -> :class:`~reviewnlp.records.Document` with clean text and a page map.

Backends are chosen by suffix; each raises :class:`~reviewnlp.errors.ExtractionError`
with a one-line cause, which :func:`extract_many` records and moves past.
"""
from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterable

from ..errors import ExtractionError
from ..records import Document, FailedFile, content_hash
from .html import extract_html
from .pdf import extract_pdf
from .text import extract_text

BACKENDS: dict[str, Callable[[Path, str], Document]] = {
    ".pdf": extract_pdf,
    ".txt": extract_text,
    ".md": extract_text,
    ".html": extract_html,
    ".htm": extract_html,
}


#: Files larger than this are refused (``--max-file-mb``): a 50 GB log or a device must not fill memory.
DEFAULT_MAX_FILE_MB = 200
_KINDS = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"))


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def read_source(path: str | Path, max_mb: float = DEFAULT_MAX_FILE_MB) -> bytes:
    """The bytes of a regular file of at most ``max_mb`` MB; anything else raises :class:`ExtractionError`.

    The file is opened non-blocking and checked before any read, so a FIFO
    cannot hang the run and ``/dev/zero`` cannot exhaust memory.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise ExtractionError(str(path), "unreadable", exc.strerror or str(exc)) from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ExtractionError(str(path), "unsupported", f"{_kind(st.st_mode)}, not a regular file")
        limit = int(max_mb * 1024 * 1024)
        if st.st_size > limit:
            raise ExtractionError(str(path), "too-large",
                                  f"{st.st_size / 1048576:.1f} MB; the limit is {max_mb:g} MB (--max-file-mb)")
        os.set_blocking(fd, True)
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(limit + 1)  # a file growing while read is still held to the limit
    except OSError as exc:
        raise ExtractionError(str(path), "unreadable", exc.strerror or str(exc)) from exc
    finally:
        os.close(fd)
    if len(data) > limit:
        raise ExtractionError(str(path), "too-large", f"over {max_mb:g} MB (--max-file-mb)")
    return data


def extract(path: str | Path, max_mb: float = DEFAULT_MAX_FILE_MB) -> Document:
    """Extract one file.  ``doc_id`` is the hash of its bytes, so renaming a file keeps its id."""
    path = Path(path)
    backend = BACKENDS.get(path.suffix.lower())
    data = read_source(path, max_mb)  # before the suffix: a FIFO named "x.pdf" is not a PDF
    if backend is None:
        raise ExtractionError(str(path), "unsupported", f"suffix {path.suffix or '(none)'!r}")
    return backend(path, content_hash(data))


def shown_path(path: str | Path) -> str:
    """A path as valid UTF-8 text: bytes that are not UTF-8 shown as ``\\xff`` escapes (for messages and JSON)."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _bad_name(path: Path) -> bool:
    try:
        os.fsencode(path).decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


def scan(inputs: Iterable[str | Path]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand files and folders into (sorted files, skipped entries as (path, reason)).

    Inside folders, hidden entries and ``README.md`` are left out silently;
    FIFOs, sockets, devices, broken or looping symlinks, symlinked folders and
    links to files outside the folder are skipped with a reason, so the run can
    say so.  A path named on the command line is always kept: reading it says
    what is wrong with it.  A name that is not UTF-8 is skipped wherever it is:
    every output names its file, and such a name cannot be written as text.
    """
    found: set[Path] = set()
    skipped: dict[str, str] = {}
    for item in inputs:
        p = Path(item)
        if _bad_name(p):
            skipped[shown_path(p)] = NOT_UTF8
        elif p.is_dir():
            _walk(p, found, skipped, Path(os.path.realpath(p)))
        else:
            found.add(p)
    return sorted(found), sorted(skipped.items())


NOT_UTF8 = "the file name is not valid UTF-8; rename it"


def _walk(folder: Path, found: set[Path], skipped: dict[str, str], root: Path) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        skipped[shown_path(folder)] = f"unreadable folder ({exc.strerror or exc})"
        return
    for entry in entries:
        if entry.name.startswith(".") or entry.name.lower() == "readme.md":
            continue
        path = Path(entry.path)
        if _bad_name(path):
            skipped[shown_path(path)] = NOT_UTF8
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                _walk(path, found, skipped, root)
                continue
            if not entry.is_symlink():
                mode = entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISREG(mode):
                    found.add(path)
                else:
                    skipped[str(path)] = f"{_kind(mode)}, not a regular file"
                continue
        except OSError as exc:
            skipped[str(path)] = f"unreadable ({exc.strerror or exc})"
            continue
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            skipped[str(path)] = ("symlink loop" if exc.errno == 40 else "broken symlink"
                                  if exc.errno == 2 else f"symlink: {exc.strerror or exc}")
            continue
        if not stat.S_ISREG(mode):
            # Folders reached through a link are not followed: that is how a link loop starts.
            skipped[str(path)] = f"symlink to {_kind(mode)}, not followed"
        elif not Path(os.path.realpath(path)).is_relative_to(root):
            # A folder you are sent may link to /etc/passwd or /proc/self/status: only name what it holds.
            skipped[str(path)] = "symlink to a file outside the input folder, not followed"
        else:
            found.add(path)


def discover(inputs: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders into a sorted list of files (see :func:`scan`, which also says what it skipped)."""
    return scan(inputs)[0]


def extract_many(paths: Iterable[Path], max_mb: float = DEFAULT_MAX_FILE_MB) -> tuple[list[Document], list[FailedFile]]:
    """Extract every file; failures are collected, never raised, so one bad file cannot stop a batch.

    Byte-identical files are extracted once (same ``doc_id``).
    """
    docs: dict[str, Document] = {}
    failed: list[FailedFile] = []
    for path in paths:
        result = extract_or_fail(path, max_mb=max_mb)
        if isinstance(result, FailedFile):
            failed.append(result)
        else:
            docs.setdefault(result.doc_id, result)
    return list(docs.values()), failed


def extract_or_fail(path: str | Path, name: str | None = None,
                    max_mb: float = DEFAULT_MAX_FILE_MB) -> Document | FailedFile:
    """Extract one file, or say in one line why it could not be (never raises for a bad file).

    ``name`` is the path to report when ``path`` is a temporary copy of the file.
    """
    name = name or str(path)
    try:
        doc = extract(path, max_mb)
    except ExtractionError as exc:
        return FailedFile(path=name, stage="extract", cause=exc.cause, message=str(exc).replace(str(path), name, 1))
    except Exception as exc:  # a backend bug must not sink the batch either
        msg = f"{name}: unreadable ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        return FailedFile(path=name, stage="extract", cause="unreadable", message=msg)
    return doc if doc.path == name else replace(doc, path=name)
