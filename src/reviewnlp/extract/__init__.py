"""Extraction stage: files -> :class:`~reviewnlp.records.Document` with clean text and a page map.

Backends are chosen by suffix; each raises :class:`~reviewnlp.errors.ExtractionError`
with a one-line cause, which :func:`extract_many` records and moves past.
"""
from __future__ import annotations

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


def extract(path: str | Path) -> Document:
    """Extract one file.  ``doc_id`` is the hash of its bytes, so renaming a file keeps its id."""
    path = Path(path)
    backend = BACKENDS.get(path.suffix.lower())
    if backend is None:
        raise ExtractionError(str(path), "unsupported", f"suffix {path.suffix or '(none)'!r}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExtractionError(str(path), "unreadable", exc.strerror or str(exc)) from exc
    return backend(path, content_hash(data))


def discover(inputs: Iterable[str | Path]) -> list[Path]:
    """Expand files and folders into a sorted list of files (hidden files skipped)."""
    found: set[Path] = set()
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found.update(f for f in p.rglob("*") if f.is_file() and not any(
                part.startswith(".") for part in f.relative_to(p).parts) and f.name.lower() != "readme.md")
        else:
            found.add(p)
    return sorted(found)


def extract_many(paths: Iterable[Path]) -> tuple[list[Document], list[FailedFile]]:
    """Extract every file; failures are collected, never raised, so one bad file cannot stop a batch.

    Byte-identical files are extracted once (same ``doc_id``).
    """
    docs: dict[str, Document] = {}
    failed: list[FailedFile] = []
    for path in paths:
        result = extract_or_fail(path)
        if isinstance(result, FailedFile):
            failed.append(result)
        else:
            docs.setdefault(result.doc_id, result)
    return list(docs.values()), failed


def extract_or_fail(path: str | Path, name: str | None = None) -> Document | FailedFile:
    """Extract one file, or say in one line why it could not be (never raises for a bad file).

    ``name`` is the path to report when ``path`` is a temporary copy of the file.
    """
    name = name or str(path)
    try:
        doc = extract(path)
    except ExtractionError as exc:
        return FailedFile(path=name, stage="extract", cause=exc.cause, message=str(exc).replace(str(path), name, 1))
    except Exception as exc:  # a backend bug must not sink the batch either
        msg = f"{name}: unreadable ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})"
        return FailedFile(path=name, stage="extract", cause="unreadable", message=msg)
    return doc if doc.path == name else replace(doc, path=name)
