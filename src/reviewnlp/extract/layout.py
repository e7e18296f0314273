"""Page layout from text rectangles: lines, reading order, footnote zone, superscript markers.

Pure functions over :class:`Box` tuples (PDF coordinates: origin bottom-left),
so they can be tested without a PDF.  The PDF backend feeds them the text
rectangles pypdfium2 reports for each page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from statistics import median

FOOTNOTE_START_RE = re.compile(r"^(\d{1,3})\s+(\S.*)$")


@dataclass
class Line:
    """One line of a page in reading order, with its box and the footnote markers lifted out of it."""

    text: str
    left: float
    bottom: float
    right: float
    top: float
    markers: list[tuple[int, str]] = field(default_factory=list)  # (char offset in text, marker digits)
    bold: bool = False

    @property
    def height(self) -> float:
        """Line height from loose character boxes: a proxy for type size."""
        return self.top - self.bottom


MARKER_CANDIDATE_RE = re.compile(r"(?<=[A-Za-z.,;:)”’\"'])(\d{1,3})(?=[\s,.;:]|$)")


def lift_markers(text: str, is_raised) -> tuple[str, list[tuple[int, str]]]:
    """Remove footnote markers ("security.”39") from ``text``.

    ``is_raised(i)`` says whether the character at ``i`` is set smaller and
    above the baseline; only such digit runs are markers, so "2027" in running
    text is left alone.
    """
    markers, out, pos = [], [], 0
    for m in MARKER_CANDIDATE_RE.finditer(text):
        if is_raised(m.start()):
            out.append(text[pos:m.start()])
            markers.append((sum(len(o) for o in out), m.group(1)))
            pos = m.end()
    out.append(text[pos:])
    return "".join(out), markers


def body_height(lines: list[Line]) -> float:
    """The typical text height on a page, weighted by how much text each line holds."""
    weighted = [l.height for l in lines for _ in range(max(1, len(l.text) // 10))]
    return median(weighted) if weighted else 0.0


def merge_number_lines(lines: list[Line], body: float) -> list[Line]:
    """Join a footnote number set as its own small line to the note text printed beside it."""
    out: list[Line] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        if (nxt is not None and re.fullmatch(r"\d{1,3}", line.text.strip()) and line.height < 0.9 * body
                and nxt.bottom < line.top and nxt.top > line.bottom and nxt.left >= line.right - 1):
            # The note text's own box measures its type size; the raised number would inflate it.
            out.append(Line(f"{line.text.strip()} {nxt.text}", line.left, nxt.bottom, nxt.right, nxt.top,
                            [(o + len(line.text.strip()) + 1, n) for o, n in nxt.markers], nxt.bold))
            i += 2
            continue
        out.append(line)
        i += 1
    return out


def split_footnotes(lines: list[Line], body: float, page_height: float) -> tuple[list[Line], list[Line]]:
    """Split a page's lines (top to bottom) into running text and the footnote block at its foot.

    The block is the run of small-type lines at the bottom of the page that
    starts with a numbered line ("39 Law Commission, ...").
    """
    if not lines or body <= 0:
        return lines, []
    i = len(lines)
    start = None
    while i > 0:
        line = lines[i - 1]
        if line.height >= 0.9 * body or line.top > 0.6 * page_height:
            break
        i -= 1
        if FOOTNOTE_START_RE.match(line.text):
            start = i
    if start is None:
        return lines, []
    return lines[:start], lines[start:]


def parse_footnotes(lines: list[Line]) -> list[tuple[str, str]]:
    """Turn footnote lines into (number, text) pairs; unnumbered lines continue the previous note."""
    notes: list[tuple[str, str]] = []
    for line in lines:
        m = FOOTNOTE_START_RE.match(line.text)
        if m:
            notes.append((m.group(1), m.group(2).strip()))
        elif notes:
            num, text = notes[-1]
            notes[-1] = (num, f"{text} {line.text}".strip())
    return notes


def order_columns(lines: list[Line], page_width: float) -> tuple[list[Line], bool]:
    """Return lines in reading order and whether the page was read as two columns.

    A page is two-column when many lines sit wholly left or wholly right of the
    middle and few cross it; then each band between full-width lines is read
    left column first, then right.
    """
    mid = page_width / 2
    left = [l for l in lines if l.right < mid + 5]
    right = [l for l in lines if l.left > mid - 5]
    crossing = [l for l in lines if l.left < mid - 5 and l.right > mid + 5]
    if len(left) < 5 or len(right) < 5 or len(crossing) > 0.3 * len(lines):
        return lines, False
    side = ["L" if l.right < mid + 5 else "R" for l in lines if l not in crossing]
    switches = sum(a != b for a, b in zip(side, side[1:]))
    if switches <= 0.25 * len(side):
        return lines, False  # the text stream already reads one column after the other
    lines = sorted(lines, key=lambda l: -l.top)
    out: list[Line] = []
    band_left: list[Line] = []
    band_right: list[Line] = []
    for l in lines:  # already top to bottom
        if l in crossing:
            out.extend(band_left + band_right)
            band_left, band_right = [], []
            out.append(l)
        elif l.right < mid + 5:
            band_left.append(l)
        else:
            band_right.append(l)
    out.extend(band_left + band_right)
    return out, True
