"""One input file's work, the part a worker process runs: extract, then segment, as a JSON-able blob.

:mod:`.workers` runs :func:`process_file` in isolated processes and :mod:`.batch` caches the units it
returns; both import this module, which imports neither.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import ExtractionError, ReviewNLPError
from .extract import DEFAULT_MAX_FILE_MB
from .records import Document, FailedFile, Segment


@dataclass
class Unit:
    """One input file's results: a document and its segments, or the reason it failed."""

    path: str
    doc: Document | None = None
    failure: FailedFile | None = None
    segments: list[Segment] = field(default_factory=list)
    cached: bool = False


def unit_blob(unit: Unit) -> dict:
    """A unit as the JSON-able dict a worker sends and the cache stores."""
    return {"document": unit.doc.to_dict() if unit.doc else None,
            "failure": unit.failure.to_dict() if unit.failure else None,
            "segments": [s.to_dict() for s in unit.segments]}


def unit_from_blob(path: str, blob: dict, cached: bool = False) -> Unit:
    """The unit a blob describes; ValueError when the blob is not a whole unit (exactly one of a document
    and a failure), so a damaged cache file is never read as a file with no document."""
    if not isinstance(blob, dict) or not isinstance(blob.get("segments", []), list) or (
            bool(blob.get("document")) == bool(blob.get("failure"))):
        raise ValueError("not a unit")
    doc = Document.from_dict(blob["document"]) if blob.get("document") else None
    failure = FailedFile.from_dict(blob["failure"]) if blob.get("failure") else None
    if doc is not None and doc.path != path:
        doc = replace(doc, path=path)  # the same bytes under another name: provenance follows the file
    if failure is not None and failure.path != path:
        failure = replace(failure, path=path, message=failure.message.replace(failure.path, path, 1))
    return Unit(path, doc, failure, [Segment.from_dict(s) for s in blob.get("segments", [])], cached)


def segment_full(doc: Document) -> list[Segment]:
    """Segment a document the whole way: cue rules, then the kind classifier, then the document's conventions."""
    from .classify import reclassify
    from .segment import apply_conventions, segment_document

    return apply_conventions(doc, reclassify(segment_document(doc)))


def segment_or_fail(doc: Document, name: str | None = None) -> list[Segment] | FailedFile:
    """Segment a document, or say in one line why it could not be (the segment-stage twin of ``extract_or_fail``)."""
    name = name or doc.path
    try:
        return segment_full(doc)
    except ReviewNLPError:
        raise  # a missing model or a broken install is not this document's fault: stop and say so
    except Exception as exc:  # a rule or spaCy failure on one document must not sink the batch
        first = str(exc).splitlines()[0] if str(exc) else ""
        return FailedFile(path=name, stage="segment", cause="unsegmentable",
                          message=f"{name}: unsegmentable ({type(exc).__name__}: {first[:200]})")


def process_file(path: str, data: bytes | None = None, max_mb: float = DEFAULT_MAX_FILE_MB,
                 segment: bool = True) -> dict:
    """Extract and segment one file; return a JSON-able blob (never raises for a bad file).

    With ``data`` the bytes are processed from a temporary copy under the same
    name (how a Ray worker on another machine sees the file); without, the
    file is read from ``path``.  Without ``segment`` the blob holds the
    document alone (the ``extract`` command).
    """
    from .extract import extract_or_fail

    if data is None:
        result = extract_or_fail(path, max_mb=max_mb)
    else:
        with tempfile.TemporaryDirectory(prefix="reviewnlp-") as tmp_dir:
            source = Path(tmp_dir) / Path(path).name
            source.write_bytes(data)
            result = extract_or_fail(source, name=path, max_mb=max_mb)
    if isinstance(result, FailedFile):
        return unit_blob(Unit(path, failure=result))
    if not segment:
        return unit_blob(Unit(path, doc=result))
    segs = segment_or_fail(result, path)
    if isinstance(segs, FailedFile):
        return unit_blob(Unit(path, failure=segs))
    return unit_blob(Unit(path, doc=result, segments=segs))


def read_file(path: Path, max_mb: float = DEFAULT_MAX_FILE_MB) -> bytes | Unit:
    """The file's bytes, or a failed unit saying why it cannot be read (not a regular file, too large)."""
    from .extract import read_source

    try:
        return read_source(path, max_mb)
    except ExtractionError as exc:
        return Unit(str(path), failure=FailedFile(path=str(path), stage="extract", cause=exc.cause, message=str(exc)))
