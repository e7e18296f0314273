"""PDF backend: pypdfium2 text rectangles -> lines -> paragraphs, with furniture, footnotes and OCR.

Why pypdfium2 and not pdfplumber: ``benchmarks/extract_speed.py`` measures both
on the corpus in one run.  pypdfium2 gives every text rectangle with its box,
which is all the layout work here needs (line grouping, two-column order,
footnote zone by type size, superscript markers), at a fraction of
pdfplumber's per-character cost.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path
from statistics import median

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from ..errors import ExtractionError
from ..records import Document
from .build import MARK_CLOSE, MARK_OPEN, DocumentBuilder
from .clean import (BULLET_RE, TERMINAL_RE, find_furniture, is_print_furniture, reflow,
                    strip_furniture)
from .layout import (Line, body_height, lift_markers, merge_number_lines, order_columns, parse_footnotes,
                     split_footnotes)
from .ocr import (MAX_OCR_PIXELS, MIN_OCR_DPI, OCR_DPI, OcrBudget, ocr_available, ocr_dpi, ocr_page,
                  tesseract_version)

ENGINE = f"pypdfium2-{pdfium.PYPDFIUM_INFO}"
NUMBERED_HEADING_RE = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*|chapter \d+|part \d+|annex \w+|appendix \w*)\b", re.I)
# A line that is only a block label ("recommendation", "17. conclusion") in committee reports' boxes.
BLOCK_LABEL_RE = re.compile(r"^(?P<num>\d{1,3}\.\s+)?(?P<label>recommendations?|conclusions?(?: and recommendations?)?"
                            r"|responses?|government response)\s*:?$", re.I)
TOC_ENTRY_RE = re.compile(r"[A-Za-z?)]\s*(?:\.{2,}\s*)?\d{1,3}$")  # "1.1 What was infected blood? 8"
MIN_TEXT_CHARS = 25        # fewer characters than this on a page with an image: OCR it
MIN_OCR_PATHS = 20         # ... or on a page drawing this many vector paths (text as outlines)
COVER_MAX_WORDS = 30       # a page with fewer words and no sentence is a cover or divider


def _open(path: Path) -> pdfium.PdfDocument:
    data = path.read_bytes()
    if not data:
        raise ExtractionError(str(path), "empty", "zero-byte file")
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise ExtractionError(str(path), "corrupt", "no PDF header")
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise ExtractionError(str(path), "encrypted", "password required") from exc
        raise ExtractionError(str(path), "corrupt", str(exc)) from exc


def _lines(textpage) -> list[Line]:
    """Lines of a page in the text stream's order, each with a box from sampled character boxes.

    pdfium's text is one character per index, so a line's span in the string
    gives its characters' boxes directly; a few boxes per line are enough.
    """
    n = textpage.count_chars()
    text = textpage.get_text_range(0, n)
    out = []
    for m in re.finditer(r"[^\r\n]+", text):
        raw = m.group(0)
        if not raw.strip():
            continue
        a = m.start() + len(raw) - len(raw.lstrip())
        b = m.start() + len(raw.rstrip())
        letters = [i for i in range(a, b) if text[i].isalpha()]
        sample = letters[:: max(1, len(letters) // 5)][:6] or [a]
        boxes = [textpage.get_charbox(i, loose=True) for i in sample]
        bottom = median(bx[1] for bx in boxes)
        top = median(bx[3] for bx in boxes)
        left = textpage.get_charbox(a, loose=True)[0]
        right = textpage.get_charbox(b - 1, loose=True)[2]
        height = top - bottom

        def raised(i: int, base: int = a) -> bool:
            bx = textpage.get_charbox(base + i, loose=True)
            return (bx[3] - bx[1]) < 0.8 * height and bx[1] > bottom + 0.2 * height

        clean, markers = lift_markers(text[a:b], raised)
        bold = pdfium_c.FPDFText_GetFontWeight(textpage.raw, sample[0]) >= 600
        out.append(Line(clean.replace("\x02", "-").replace("\ufffe", ""), left, bottom, right, top, markers, bold))
    return out


def draws_something(page) -> bool:
    """True when a page without a text layer still prints something OCR can read: an image, or text drawn
    as vector outlines (a path per glyph).  A rule or a border is a handful of paths, so it takes
    MIN_OCR_PATHS of them to count."""
    paths = 0
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=2):
        if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            return True
        paths += 1
        if paths >= MIN_OCR_PATHS:
            return True
    return False


class _Page:
    """What one PDF page contributes: text lines (markers inline), footnotes, and how it was read."""

    def __init__(self, number: int, lines: list[tuple[str, float, bool, bool]], footnotes: list[tuple[str, str]],
                 body: float, ocr: bool = False, two_column: bool = False) -> None:
        self.number, self.lines, self.footnotes = number, lines, footnotes
        self.body, self.ocr, self.two_column = body, ocr, two_column


def _pages_phrase(pages: list) -> str:
    return f"page {pages[0]}" if len(pages) == 1 else f"{len(pages)} pages (first: page {pages[0]})"


def _ocr_notes(limited: dict[str, list], budget: OcrBudget) -> list[str]:
    """One line for each OCR limit a document met, naming its pages (``meta["ocr_limits"]``)."""
    mp = f"{MAX_OCR_PIXELS / 1e6:g} megapixels (MAX_OCR_PIXELS)"
    notes = []
    if limited["reduced"]:
        _, w, h, dpi = limited["reduced"][0]
        notes.append(f"{_pages_phrase([r[0] for r in limited['reduced']])} OCRed at {dpi} dpi, not {OCR_DPI}: "
                     f"{w:.0f} x {h:.0f} pt at {OCR_DPI} dpi is over {mp}")
    if limited["large"]:
        _, w, h = limited["large"][0]
        notes.append(f"{_pages_phrase([r[0] for r in limited['large']])} not OCRed: too large ({w:.0f} x {h:.0f} pt) "
                     f"to render at {MIN_OCR_DPI} dpi within {mp}")
    if limited["pages"]:
        notes.append(f"{_pages_phrase(limited['pages'])} not OCRed: over the OCR budget of {budget.max_pages} pages "
                     "per document (MAX_OCR_PAGES)")
    if limited["seconds"]:
        notes.append(f"{_pages_phrase(limited['seconds'])} not OCRed: over the OCR budget of {budget.max_seconds:g} s "
                     "per document (MAX_OCR_SECONDS)")
    return notes


def _ocr(page, number: int, width: float, height: float, budget: OcrBudget, limited: dict[str, list]) -> str | None:
    """A page's OCR text within the render cap and the document's budget; None (and a note) when a limit stops it."""
    dpi = ocr_dpi(width, height)
    if dpi < MIN_OCR_DPI:
        limited["large"].append((number, width, height))
        return None
    refusal = budget.refusal()
    if refusal:
        limited[refusal].append(number)
        return None
    started = budget.clock()
    try:
        text = ocr_page(page, dpi, timeout=budget.left())
    except subprocess.TimeoutExpired:  # tesseract was killed: the time budget is spent on this page
        text = None
        limited["seconds"].append(number)
    budget.spend(started)
    if text is not None and dpi < OCR_DPI:
        limited["reduced"].append((number, width, height, dpi))
    return text


def read_pages(path: Path, use_ocr: bool = True, budget: OcrBudget | None = None) -> tuple[list[_Page], dict]:
    """Read every page: lines in reading order with their heights, footnotes lifted out, OCR where needed.

    OCR is held to ``budget`` (default: the module limits) and to a render cap per page; the pages a
    limit left unread are named in ``meta["ocr_limits"]``, one line per limit.
    """
    pdf = _open(path)
    pages: list[_Page] = []
    meta: dict = {"ocr_pages": [], "two_column_pages": [], "image_pages_unread": []}
    budget = budget or OcrBudget()
    limited: dict[str, list] = {"reduced": [], "large": [], "pages": [], "seconds": []}
    try:
        meta["pdf_meta"] = dict(pdf.get_metadata_dict(skip_empty=True))
        for i in range(len(pdf)):
            page = pdf[i]
            width, height = page.get_size()
            textpage = page.get_textpage()
            lines = _lines(textpage)
            textpage.close()
            if sum(len(l.text.strip()) for l in lines) < MIN_TEXT_CHARS and draws_something(page):
                if ocr_dpi(width, height) < MIN_OCR_DPI or use_ocr and ocr_available():
                    text = _ocr(page, i + 1, width, height, budget, limited)
                    if text is None:
                        pages.append(_Page(i + 1, [], [], 0.0))
                    else:
                        lines = [(l.strip(), 0.0, False, False) for l in text.splitlines() if l.strip()]
                        pages.append(_Page(i + 1, lines, [], 0.0, ocr=True))
                        meta["ocr_pages"].append(i + 1)
                else:
                    pages.append(_Page(i + 1, [], [], 0.0))
                    meta["image_pages_unread"].append(i + 1)
                page.close()
                continue
            body = body_height(lines)
            running, notes = split_footnotes(merge_number_lines(lines, body), body, height)
            ordered, two_col = order_columns(running, width)
            if two_col:
                meta["two_column_pages"].append(i + 1)
            out_lines = []
            for line in ordered:
                text = line.text
                for pos, num in reversed(line.markers):
                    text = f"{text[:pos]}{MARK_OPEN}{num}{MARK_CLOSE}{text[pos:]}"
                # Only a short line can be a bold or numbered heading: a paragraph's first line is full width.
                short = line.right - line.left < 0.6 * (width - 100)
                out_lines.append((text, line.height, short and line.bold, short))
            pages.append(_Page(i + 1, out_lines, parse_footnotes(notes), body, two_column=two_col))
            page.close()
    except pdfium.PdfiumError as exc:
        raise ExtractionError(str(path), "corrupt", str(exc)) from exc
    finally:
        pdf.close()
    if any(limited.values()):
        meta["ocr_limits"] = _ocr_notes(limited, budget)
    return pages, meta


def _heading_level(text: str, height: float, body: float, bold: bool = False, short: bool = True) -> int | None:
    """Heading level of a line: by type size, by bold, or by section numbering ("3.2 Title"); else None."""
    words = text.split()
    numbered = re.match(r"^\d{1,2}(?:\.\d{1,2})+\.?\s+[A-Z]", text)
    # A heading starts with a capital or a number; a lower-case line is a wrapped sentence's end.
    if not words or len(words) > 14 or not (text[:1].isupper() or text[:1].isdigit()) or TOC_ENTRY_RE.search(text):
        return None
    if TERMINAL_RE.search(text) and not (numbered and text.rstrip().endswith("?")):
        return None
    if BULLET_RE.match(text) and not NUMBERED_HEADING_RE.match(text):
        return None
    if body and height >= 1.6 * body:
        return 1
    if body and height >= 1.2 * body:
        return 2
    if numbered and short:
        return 2 + text.split()[0].rstrip(".").count(".")
    if bold and len(words) <= 12:
        return 3 if not NUMBERED_HEADING_RE.match(text) else 2
    return None


def _is_cover(page: _Page, doc_body: float) -> bool:
    """A cover or divider: few words, no sentence, and type well above the document's body size."""
    words = sum(len(line[0].split()) for line in page.lines)
    if not 0 < words < COVER_MAX_WORDS or any(re.search(r"\w[.?!](?:\s|$)", line[0]) for line in page.lines):
        return False
    heights = sorted(line[1] for line in page.lines)
    return bool(heights) and heights[len(heights) // 2] >= 1.25 * doc_body


def extract_pdf(path: Path, doc_id: str, use_ocr: bool = True, budget: OcrBudget | None = None) -> Document:
    """Extract a PDF into a Document with an exact page map, footnotes and section headings.

    Raises :class:`ExtractionError` for encrypted, corrupt, empty and image-only files, and ("ocr-limit")
    for a file of which no text was read because its pages were over the OCR limits.
    """
    pages, meta = read_pages(path, use_ocr=use_ocr, budget=budget)
    if not pages:
        raise ExtractionError(str(path), "empty", "no pages")
    if not any(p.lines for p in pages):
        if meta["image_pages_unread"]:
            raise ExtractionError(str(path), "image-only", "no text layer and OCR (tesseract) is not installed")
        if meta.get("ocr_limits"):
            raise ExtractionError(str(path), "ocr-limit", "; ".join(meta["ocr_limits"]))
        raise ExtractionError(str(path), "empty", "no text on any page")
    furniture = find_furniture([[line[0] for line in p.lines] for p in pages if not p.ocr])
    builder = DocumentBuilder()
    meta["cover_pages"] = []
    bodies = sorted(p.body for p in pages if p.body)
    doc_body = bodies[len(bodies) // 2] if bodies else 0.0
    for page in pages:
        texts = [line[0] for line in page.lines]
        keep = set(strip_furniture(texts, furniture))
        lines = [line for line in page.lines if line[0] in keep and not is_print_furniture(line[0])]
        if page.number > 1 and _is_cover(_Page(page.number, lines, [], page.body), doc_body):
            # A divider page names the part that follows: keep it as a top-level heading only.
            meta["cover_pages"].append(page.number)
            builder.add(" ".join(line[0] for line in lines), page=page.number, heading=1, ocr=page.ocr)
            continue
        builder.add_page(page.number, ocr=page.ocr)
        chunk: list[str] = []
        heading: list = []  # [text, level] of a heading that may continue on the next line

        def flush() -> None:
            if heading:
                builder.add(heading[0], page=page.number, heading=heading[1], ocr=page.ocr)
                heading.clear()
            for para in reflow(chunk):
                builder.add(para, page=page.number, ocr=page.ocr)
            chunk.clear()

        for text, height, bold, short in lines:
            label = BLOCK_LABEL_RE.match(text.strip())
            level = None if label else _heading_level(text, height, page.body, bold, short)
            if label:
                flush()
                builder.add(label.group("label").capitalize(), page=page.number, ocr=page.ocr)
                if label.group("num"):
                    chunk.append(label.group("num").strip())  # the paragraph number leads the text below
            elif level:
                if heading and heading[1] == level and not chunk and not re.match(r"\d{1,3}[.)]\s", text):
                    heading[0] = f"{heading[0]} {text}"  # a heading set over two lines
                else:
                    flush()
                    heading[:] = [text, level]
            elif chunk and re.fullmatch(r"\d{1,3}\.", chunk[-1]):
                chunk[-1] = f"{chunk[-1]} {text}"
            else:
                if heading:
                    builder.add(heading[0], page=page.number, heading=heading[1], ocr=page.ocr)
                    heading.clear()
                chunk.append(text)
        flush()
        for num, note in page.footnotes:
            builder.add_footnote(num, note, page.number)
    title = meta["pdf_meta"].get("Title")
    title = title if title and len(title) > 8 else None
    meta.update(n_pages=len(pages), furniture=sorted(furniture))
    extractor = ENGINE + (f"+{tesseract_version()}" if meta["ocr_pages"] else "")
    return builder.build(doc_id, str(path), extractor, title=title, meta=meta)
