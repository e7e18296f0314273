"""OCR for pages without a text layer: render with pdfium, read with the tesseract command.

tesseract comes from Debian's ``tesseract-ocr`` package (``scripts/install.sh``
installs it).  Without it, image-only pages cannot be read and the extractor
says so.

OCR is the one step whose cost a small file can make huge: a 662-byte PDF with
one 6000 pt page rendered at 300 dpi took 44 s and 6.6 GB, and a page tree may
list one scanned page 100,000 times.  So each render is held to
``MAX_OCR_PIXELS`` (a huge page is read at a lower resolution, or not at all
below ``MIN_OCR_DPI``), and each document to ``MAX_OCR_PAGES`` pages and
``MAX_OCR_SECONDS`` of OCR (:class:`OcrBudget`); the pages a limit leaves
unread are named in the document's ``ocr_limits`` notes.  The page image goes
to tesseract on its stdin, so no temp file is left behind by a killed run.
"""
from __future__ import annotations

import io
import math
import shutil
import subprocess
import time
from functools import lru_cache
from typing import Callable

OCR_DPI = 300
MAX_OCR_PIXELS = 40_000_000  # one page's render: A2 at 300 dpi fits; about 40 MB grey, 0.3 GB in tesseract
MIN_OCR_DPI = 72             # below one pixel per point body text is unreadable: such a page is not OCRed
MAX_OCR_PAGES = 200          # image-only pages OCRed per document
MAX_OCR_SECONDS = 300.0      # OCR time per document, tesseract included
_turned_off = False          # see turn_off_ocr


@lru_cache(maxsize=1)
def tesseract_version() -> str | None:
    """Return tesseract's version string, or None when it is not installed."""
    exe = shutil.which("tesseract")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    first = (out.stdout or out.stderr).splitlines()
    return first[0].strip() if first else "tesseract"


def ocr_available() -> bool:
    """True when pages can be OCRed on this machine."""
    return not _turned_off and tesseract_version() is not None


def turn_off_ocr() -> None:
    """Read image pages in this process as if tesseract were not installed.

    A run's worker does so when the run found no tesseract: the run's cache redoes a file with unread image
    pages once OCR appears, so the run and its workers must agree on whether it is there.
    """
    global _turned_off
    _turned_off = True


def ocr_dpi(width_pt: float, height_pt: float, dpi: int = OCR_DPI, max_pixels: int = MAX_OCR_PIXELS) -> int:
    """The resolution to render a page of this size at: ``dpi``, or lower so the render stays within
    ``max_pixels``.  A result under :data:`MIN_OCR_DPI` means the page is too large to OCR."""
    area = max(width_pt, 1.0) * max(height_pt, 1.0) / (72 * 72)  # square inches
    return min(dpi, math.floor(math.sqrt(max_pixels / area)))


class OcrBudget:
    """What one document may still spend on OCR: pages and seconds (``clock`` is injectable for tests)."""

    def __init__(self, max_pages: int = MAX_OCR_PAGES, max_seconds: float = MAX_OCR_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_pages, self.max_seconds, self.clock = max_pages, max_seconds, clock
        self.pages = 0
        self.seconds = 0.0

    def refusal(self) -> str | None:
        """Why the next page may not be OCRed ("pages", "seconds"), or None when it may."""
        if self.pages >= self.max_pages:
            return "pages"
        if self.seconds >= self.max_seconds:
            return "seconds"
        return None

    def left(self) -> float:
        """Seconds of OCR left: the time limit for the next page's tesseract."""
        return max(0.0, self.max_seconds - self.seconds)

    def spend(self, started: float) -> None:
        """Count one page OCRed since ``started`` (a reading of ``clock``)."""
        self.pages += 1
        self.seconds += self.clock() - started


def ocr_page(page, dpi: int = OCR_DPI, lang: str = "eng", timeout: float = MAX_OCR_SECONDS) -> str:
    """OCR one pypdfium2 page and return its text (lines separated by newlines).

    Raises ``subprocess.TimeoutExpired`` when tesseract runs past ``timeout`` (it is killed first).
    """
    image = page.render(scale=dpi / 72).to_pil().convert("L")
    png = io.BytesIO()
    image.save(png, format="PNG")
    del image
    out = subprocess.run(["tesseract", "stdin", "stdout", "-l", lang, "--psm", "3"], input=png.getvalue(),
                         capture_output=True, timeout=timeout)
    stderr = out.stderr.decode("utf-8", "replace").strip()
    if out.returncode != 0:
        raise RuntimeError(stderr.splitlines()[-1] if stderr else "tesseract failed")
    return out.stdout.decode("utf-8", "replace")
