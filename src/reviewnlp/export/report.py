"""Reader-facing exports of the alignment table: an Excel workbook and a self-contained HTML report.

Both are deterministic (no timestamps, fixed ordering) and written atomically.
"""
from __future__ import annotations

import datetime as _dt
import html
import io
import re
from collections import Counter
from pathlib import Path
from typing import Sequence

from ..records import STATUSES, Alignment, Document, atomic_write_bytes, atomic_write_text
from .rows import alignment_rows

STATUS_COLOURS = {"accepted": "C6EFCE", "partial": "FFEB9C", "deferred": "DDEBF7", "rejected": "FFC7CE",
                  "gap": "E7E6E6"}
XLSX_COLUMNS = (("label", 10), ("recommendation_text", 60), ("rec_document", 24), ("rec_page", 8),
                ("status", 11), ("status_confidence", 11), ("needs_review", 9), ("confidence", 11), ("cue", 18),
                ("response_text", 60),
                ("response_document", 24), ("response_page", 9), ("response_block", 80), ("response_block_pages", 10),
                ("rec_source", 30), ("rec_id", 22))
WRAPPED = {"recommendation_text", "response_text", "response_block", "rec_source", "cue"}
# Workbook metadata carries creation times; a fixed one keeps the file byte-identical across runs.
FIXED_TIME = _dt.datetime(2000, 1, 1)
# Excel's limit on one cell, in UTF-16 code units (a character outside the BMP counts twice).  A longer text
# is cut to fit, ending with CUT_MARKER, so a reader sees that it was cut and where the whole text is.
XLSX_CELL_LIMIT = 32_767
CUT_MARKER = "… [cut: {n:,} characters; full text in alignments.jsonl]"


def sheet_name(body: str, taken: set[str]) -> str:
    """An Excel-safe, unique sheet name (at most 31 characters, none of []:*?/\\)."""
    base = re.sub(r"\s+", " ", re.sub(r"[\[\]:*?/\\]", " ", body)).strip()[:31].strip() or "Unattributed"
    name, i = base, 2
    while name.lower() in taken:
        suffix = f" ({i})"
        name = base[:31 - len(suffix)] + suffix
        i += 1
    taken.add(name.lower())
    return name


def write_xlsx(path: str | Path, alignments: Sequence[Alignment], docs: Sequence[Document]) -> None:
    """One sheet per recommending body, with filters, wrapped text, frozen header and status colours."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment as Align, Font, PatternFill
    from openpyxl.utils import get_column_letter

    rows = alignment_rows(alignments, docs)
    by_body: dict[str, list[dict]] = {}
    for r in rows:
        by_body.setdefault(r["body"] or "Unattributed", []).append(r)
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.created = wb.properties.modified = FIXED_TIME
    taken: set[str] = set()
    fills = {s: PatternFill("solid", start_color=c, end_color=c) for s, c in STATUS_COLOURS.items()}
    for body in sorted(by_body, key=lambda b: (-len(by_body[b]), b)):
        ws = wb.create_sheet(sheet_name(body, taken))
        ws.append([c for c, _ in XLSX_COLUMNS])
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r in by_body[body]:
            ws.append([_cell_value(r[c]) for c, _ in XLSX_COLUMNS])
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # document text is a string, even "=HYPERLINK(...)": never a formula
        status_col = [c for c, _ in XLSX_COLUMNS].index("status") + 1
        for i, (col, width) in enumerate(XLSX_COLUMNS, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
            if col in WRAPPED:
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.alignment = Align(wrap_text=True, vertical="top")
        for (cell,) in ws.iter_rows(min_row=2, min_col=status_col, max_col=status_col):
            if cell.value in fills:
                cell.fill = fills[cell.value]
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = ws.dimensions
    if not wb.worksheets:  # no recommendations is a valid result: an empty table, not a crash
        ws = wb.create_sheet("Recommendations")
        ws.append([c for c, _ in XLSX_COLUMNS])
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    atomic_write_bytes(path, _fix_zip_times(buf.getvalue()))


def _cell_value(value):
    """A value as a cell holds it: strings lose any XML-illegal character (extraction removes them; an old
    alignments.jsonl may not have), and one over Excel's cell limit is cut with a visible marker."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    units = value.encode("utf-16-le")
    if len(units) // 2 <= XLSX_CELL_LIMIT:
        return value
    marker = CUT_MARKER.format(n=len(value))
    room = XLSX_CELL_LIMIT - len(marker.encode("utf-16-le")) // 2
    # "ignore" drops half of a surrogate pair cut at the boundary, never adds a unit.
    return units[:2 * room].decode("utf-16-le", errors="ignore") + marker


def _fix_zip_times(data: bytes) -> bytes:
    """Rewrite the zip with fixed member and metadata times, so the same table gives the same bytes."""
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps the save time as "modified" whatever the properties say.
                body = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>2000-01-01T00:00:00Z", body)
            dst.writestr(fixed, body)
    return out.getvalue()


def write_html(path: str | Path, alignments: Sequence[Alignment], docs: Sequence[Document]) -> None:
    """A single self-contained HTML page: counts by status and body as a chart, then every row."""
    rows = alignment_rows(alignments, docs)
    totals = Counter(r["status"] for r in rows)
    bodies = Counter(r["body"] or "Unattributed" for r in rows)
    by_body = {b: Counter(r["status"] for r in rows if (r["body"] or "Unattributed") == b) for b in bodies}
    e = html.escape
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Alignment report</title>"
             f"<style>{CSS}</style></head><body><h1>Recommendations and government responses</h1>",
             f"<p>{len(rows)} recommendations from {len({r['rec_document'] for r in rows})} documents. "
             + ", ".join(f"{totals.get(s, 0)} {s}" for s in STATUSES) + ".</p>",
             _legend(), _chart(by_body, sorted(bodies, key=lambda b: (-bodies[b], b))),
             "<table><thead><tr><th>Body</th><th>Recommendation</th><th>Status</th><th>Response</th></tr></thead>"
             "<tbody>"]
    for r in rows:
        rec_where = f"{e(r['rec_document'])}, p{r['rec_page']}" if r["rec_page"] != "" else e(r["rec_document"])
        if r["response_text"]:
            resp = (f"{e(r['response_text'])}<div class=src>{e(r['response_document'])}, p{r['response_page']}"
                    f"</div>")
            if r["response_block"]:
                resp += (f"<details><summary>whole answer (pp. {e(r['response_block_pages'])})</summary>"
                         f"{e(r['response_block'])}</details>")
        else:
            resp = "<span class=none>no response found</span>"
        cue = f"<div class=src>cue: {e(r['cue'])}</div>" if r["cue"] else ""
        parts.append(f"<tr><td>{e(r['body'])}</td><td>{e(r['label'] or '')} {e(r['recommendation_text'])}"
                     f"<div class=src>{rec_where}</div></td><td class='st {e(r['status'])}'>{e(r['status'])}"
                     f"<div class=src>status confidence {r['status_confidence']}, match {r['confidence']}"
                     f"{', needs review' if r['needs_review'] else ''}</div>"
                     f"{cue}</td><td>{resp}</td></tr>")
    parts.append("</tbody></table></body></html>\n")
    atomic_write_text(path, "".join(parts))


def _legend() -> str:
    return "<div class=legend>" + "".join(
        f"<span><i style='background:#{STATUS_COLOURS[s]}'></i>{s}</span>" for s in STATUSES) + "</div>"


def _chart(by_body: dict[str, Counter], order: list[str]) -> str:
    """Horizontal stacked bars (inline SVG), one per recommending body."""
    width, bar, gap, label_w = 520, 18, 8, 260
    most = max((sum(c.values()) for c in by_body.values()), default=1)
    out = [f"<svg role=img aria-label='Recommendations by body and status' width={label_w + width + 40} "
           f"height={len(order) * (bar + gap) + gap}>"]
    for i, body in enumerate(order):
        y = gap + i * (bar + gap)
        out.append(f"<text x=0 y={y + bar - 4} font-size=12>{html.escape(body[:40])}</text>")
        x = float(label_w)
        for s in STATUSES:
            n = by_body[body].get(s, 0)
            if n:
                w = width * n / most
                out.append(f"<rect x={x:.1f} y={y} width={w:.1f} height={bar} fill='#{STATUS_COLOURS[s]}' "
                           f"stroke='#888'><title>{s}: {n}</title></rect>")
                x += w
        out.append(f"<text x={x + 4:.1f} y={y + bar - 4} font-size=12>{sum(by_body[body].values())}</text>")
    out.append("</svg>")
    return "".join(out)


CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ccc;padding:6px;vertical-align:top;text-align:left;font-size:14px}
th{background:#f3f3f3;position:sticky;top:0}.src{color:#666;font-size:12px;margin-top:4px}.none{color:#999}
.legend span{margin-right:1em}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;border:1px solid #888}
""" + "".join(f".st.{s}{{background:#{c}}}" for s, c in STATUS_COLOURS.items())
