"""Domain errors.  Library code raises these; only ``cli.py`` turns them into exit codes."""
from __future__ import annotations


class ReviewNLPError(Exception):
    """Base class of every error reviewnlp raises on purpose."""


class ExtractionError(ReviewNLPError):
    """A file could not be turned into text.

    ``cause`` is one of: encrypted, corrupt, empty, unsupported, image-only, ocr-limit, too-large, unreadable.
    (A failed file's record may also say worker-died or out-of-memory, from :mod:`reviewnlp.workers`, or
    unsegmentable.)
    ``str(err)`` is a single line naming the file and the cause.
    """

    def __init__(self, path: str, cause: str, detail: str = "") -> None:
        self.path = str(path)
        self.cause = cause
        self.detail = detail.splitlines()[0] if detail else ""
        msg = f"{self.path}: {cause}"
        if self.detail:
            msg += f" ({self.detail})"
        super().__init__(msg)


class ModelMismatchError(ReviewNLPError):
    """Vectors or an index were built with another embedding model than the one in use."""


class RecordError(ReviewNLPError):
    """A JSONL file does not hold the records a stage expects."""


class InvalidQueryError(ReviewNLPError, ValueError):
    """A search request with a value no option accepts: k below 1, an unknown kind, stance or status, a bad date.

    It is a ``ValueError`` too, so the web API answers it with 400 like any malformed parameter.
    """


class OutputFolderError(ReviewNLPError):
    """The output folder cannot be used: not writable (or full), locked by another run, holding files of two
    runs, or left by a run that stopped part way."""
