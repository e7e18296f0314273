"""OCR for pages without a text layer: render with pdfium, read with the tesseract command.

tesseract comes from Debian's ``tesseract-ocr`` package (``scripts/install.sh``
installs it).  Without it, image-only pages cannot be read and the extractor
says so.
"""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

OCR_DPI = 300


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
    return tesseract_version() is not None


def ocr_page(page, dpi: int = OCR_DPI, lang: str = "eng") -> str:
    """OCR one pypdfium2 page and return its text (lines separated by newlines)."""
    image = page.render(scale=dpi / 72).to_pil().convert("L")
    with tempfile.TemporaryDirectory(prefix="reviewnlp-ocr-") as tmp:
        png = Path(tmp) / "page.png"
        image.save(png)
        out = subprocess.run(["tesseract", str(png), "stdout", "-l", lang, "--psm", "3"],
                             capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "tesseract failed")
    return out.stdout
