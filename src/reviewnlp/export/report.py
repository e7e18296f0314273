"""Reader-facing exports of the alignment table: an Excel workbook and a self-contained HTML report.

Both are organised by report (:mod:`.reports`): the workbook opens on a summary of the reports, then every
row, then a sheet per report; the page has a section per report.  Both are deterministic (no timestamps,
fixed ordering) and written atomically.
"""
from __future__ import annotations

import datetime as _dt
import html
import io
import re
from collections import Counter
from pathlib import Path
from typing import Mapping, Sequence

from ..records import (NO_RESPONSE, SHOWN_STATUSES, STATUSES, UNPAIRED, Alignment, Document, atomic_write_bytes,
                       atomic_write_text)
from .reports import (STATUS_COLOURS, UNPAIRED_NOTE, UNPAIRED_WHY, ReportGroup, counts_text, group_reports,
                      responses_text)
from .rows import row_status

XLSX_COLUMNS = (("report", 24), ("label", 10), ("recommendation_text", 60), ("rec_page", 8), ("body", 20),
                ("status", 11), ("model_status", 11), ("match", 10), ("status_confidence", 11),
                ("needs_review", 9), ("confidence", 11), ("cue", 18), ("response_text", 60),
                ("response_document", 24), ("response_page", 9), ("response_date", 11), ("response_block", 80),
                ("response_block_pages", 10), ("reviewed", 9), ("reviewer", 14), ("reviewed_at", 12),
                ("review_note", 30), ("rec_source", 30), ("rec_id", 22))
SUMMARY_COLUMNS = (("report", 40), ("title", 40), ("date", 11), ("role", 10), ("responses", 40), ("why", 50),
                   ("recommendations", 10), *((s, 10) for s in SHOWN_STATUSES), ("note", 50), ("sheet", 24))
WRAPPED = {"recommendation_text", "response_text", "response_block", "rec_source", "cue", "review_note",
           "title", "responses", "why", "note"}
SUMMARY, ALL = "Summary", "All"
# Workbook metadata carries creation times; a fixed one keeps the file byte-identical across runs.
FIXED_TIME = _dt.datetime(2000, 1, 1)
# Excel's limit on one cell, in UTF-16 code units (a character outside the BMP counts twice).  A longer text
# is cut to fit, ending with CUT_MARKER, so a reader sees that it was cut and where the whole text is.
XLSX_CELL_LIMIT = 32_767
CUT_MARKER = "… [cut: {n:,} characters; full text in alignments.jsonl]"
# Excel refuses a sheet of this name (any case): it keeps it for change tracking.
RESERVED_SHEET_NAMES = {"history"}


def sheet_name(body: str, taken: set[str]) -> str:
    """An Excel-safe, unique sheet name (at most 31 characters, none of []:*?/\\, no ' at either end)."""
    base = re.sub(r"\s+", " ", re.sub(r"[\[\]:*?/\\]", " ", body)).strip(" '")[:31].strip(" '") or "Unattributed"
    name, i = base, 2
    while name.lower() in taken or name.lower() in RESERVED_SHEET_NAMES:
        suffix = f" ({i})"
        name = base[:31 - len(suffix)].rstrip(" '") + suffix
        i += 1
    taken.add(name.lower())
    return name


def report_sheet_base(name: str) -> str:
    """A report's file name as a sheet name's stem: no suffix, and a long one keeps both ends
    ("hoc_home_affai…_disorder_report"), since the end is what tells a report from its response."""
    stem = Path(name).stem or name
    return stem if len(stem) <= 31 else stem[:14] + "…" + stem[-16:]


def write_xlsx(path: str | Path, alignments: Sequence[Alignment], docs: Sequence[Document],
               pairing: Mapping[str, dict] | None = None) -> None:
    """A "Summary" sheet (one row per report and the totals), an "All" sheet (every row, with its report),
    then one sheet per report; each with filters, frozen header and wrapped text, statuses coloured.

    A row of a report nothing in the run answers shows status ``unpaired`` (``model_status`` and
    ``alignments.csv`` keep the model's ``gap``).
    """
    from openpyxl import Workbook

    groups = group_reports(alignments, docs, pairing)
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.created = wb.properties.modified = FIXED_TIME
    taken = {SUMMARY.lower(), ALL.lower()}
    sheets = [sheet_name(report_sheet_base(g.name), taken) for g in groups]
    _summary_sheet(_sheet(wb, SUMMARY, SUMMARY_COLUMNS), groups, sheets)
    _row_sheet(_sheet(wb, ALL, XLSX_COLUMNS), [(g, r) for g in groups for r in g.rows])
    for g, name in zip(groups, sheets):
        _row_sheet(_sheet(wb, name, XLSX_COLUMNS), [(g, r) for r in g.rows])
    wb.active = 0
    buf = io.BytesIO()
    wb.save(buf)
    atomic_write_bytes(path, _fix_zip_times(buf.getvalue()))


def _summary_sheet(ws, groups: Sequence[ReportGroup], sheets: Sequence[str]) -> None:
    """One row per report, each naming (and linking to) its sheet, then a bold totals row outside the filter."""
    from openpyxl.styles import Font
    from openpyxl.worksheet.hyperlink import Hyperlink

    for g, sheet in zip(groups, sheets):
        counts = g.counts
        if g.unpaired:
            responses, why = NO_RESPONSE, ""
        else:
            responses = "; ".join([a.name for a in g.answered_by] + (["itself"] if g.answers_itself else []))
            why = "; ".join([f"{a.name}: {a.why}" for a in g.answered_by]
                            + ([f"itself: {g.answers_itself}"] if g.answers_itself else []))
            responses = responses or responses_text(g)
        _append(ws, [g.name, g.title, g.date, g.role, responses, why, len(g.rows), *(counts[s] for s in SHOWN_STATUSES),
                     UNPAIRED_NOTE if g.unpaired else "", sheet])
        link = ws.cell(row=ws.max_row, column=len(SUMMARY_COLUMNS))
        link.hyperlink = Hyperlink(ref=link.coordinate, location="'" + sheet.replace("'", "''") + "'!A1")
        link.style = "Hyperlink"
    totals = Counter(row_status(r) for g in groups for r in g.rows)
    _format(ws, SUMMARY_COLUMNS, ws.max_row)
    _append(ws, [f"All {len(groups)} reports", "", "", "", "", "", sum(totals.values()),
                 *(totals.get(s, 0) for s in SHOWN_STATUSES), "", ""])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for i, (col, _) in enumerate(SUMMARY_COLUMNS, start=1):
        if col in STATUS_COLOURS:
            ws.cell(row=1, column=i).fill = _fill(col)


def _row_sheet(ws, rows: Sequence[tuple[ReportGroup, dict]]) -> None:
    for g, r in rows:
        _append(ws, [g.name if c == "report" else row_status(r) if c == "status" else r[c]
                     for c, _ in XLSX_COLUMNS])
    _format(ws, XLSX_COLUMNS, ws.max_row)


def _sheet(wb, title: str, columns):
    """A new sheet holding the bold header row."""
    from openpyxl.styles import Font

    ws = wb.create_sheet(title)
    ws.append([c for c, _ in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    return ws


def _append(ws, values: list) -> None:
    """Append a row; text cells stay text."""
    ws.append([_cell_value(v) for v in values])
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"  # document text is a string, even "=HYPERLINK(...)": never a formula


def _format(ws, columns, last_row: int) -> None:
    """Frozen header with a filter over rows 1..last_row, column widths, wrapped text, status colours."""
    from openpyxl.styles import Alignment as Align
    from openpyxl.utils import get_column_letter

    for i, (col, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
        if col in WRAPPED:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.alignment = Align(wrap_text=True, vertical="top")
        if col == "status":
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                if cell.value in STATUS_COLOURS:
                    cell.fill = _fill(cell.value)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last_row}"


def _fill(status: str):
    from openpyxl.styles import PatternFill

    return PatternFill("solid", start_color=STATUS_COLOURS[status], end_color=STATUS_COLOURS[status])


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


def write_html(path: str | Path, alignments: Sequence[Alignment], docs: Sequence[Document],
               pairing: Mapping[str, dict] | None = None) -> None:
    """A single self-contained page (no scripts, no external files): the counts, a table of the reports
    with a status bar each, then a section per report (what answers it and why, its bar, its rows).

    A report nothing in the run answers says "no response found among the inputs", and its rows show
    ``unpaired``, not ``gap``: nothing in the run could have answered them.
    """
    groups = group_reports(alignments, docs, pairing)
    totals = Counter(row_status(r) for g in groups for r in g.rows)
    n = sum(totals.values())
    e = html.escape
    counts = ", ".join(f"{totals.get(s, 0)} {s}" for s in STATUSES)
    if totals.get(UNPAIRED):
        unpaired_reports = sum(g.unpaired for g in groups)
        counts += (f"; and {totals[UNPAIRED]} unpaired, from {unpaired_reports} report"
                   f"{'' if unpaired_reports == 1 else 's'} with {NO_RESPONSE} (not counted as gaps)")
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Alignment report</title>"
             f"<style>{CSS}</style></head><body><h1>Recommendations and government responses</h1>",
             f"<p>{n} recommendations from {len(groups)} report{'' if len(groups) == 1 else 's'}. {counts}.</p>",
             _legend()]
    if groups:
        most = max(len(g.rows) for g in groups)
        parts.append("<table class=reports><thead><tr><th>Report</th><th>Answered by</th><th>Statuses</th>"
                     "</tr></thead><tbody>")
        for i, g in enumerate(groups, start=1):
            parts.append(f"<tr><td><a href='#report-{i}'>{e(g.name)}</a>{_about(g)}</td>"
                         f"<td>{e(responses_text(g))}</td>"
                         f"<td>{_bar(g.counts, 300 * len(g.rows) / most)}<div class=src>{e(counts_text(g))}</div>"
                         f"</td></tr>")
        parts.append("</tbody></table>")
    for i, g in enumerate(groups, start=1):
        parts.append(_section(i, g))
    parts.append("</body></html>\n")
    atomic_write_text(path, "".join(parts))


def _about(g: ReportGroup) -> str:
    """The report's title, date and role under its name."""
    bits = [b for b in (g.title, g.date, g.role) if b]
    return f"<div class=src>{html.escape(' · '.join(bits))}</div>" if bits else ""


def _section(i: int, g: ReportGroup) -> str:
    e = html.escape
    if g.unpaired:
        answers = f"<p class=unpaired><b>{e(NO_RESPONSE)}</b>: {e(UNPAIRED_WHY)}.</p>"
    elif g.answered_by or g.answers_itself:
        items = [f"<li><b>{e(a.name)}</b>: {e(a.why)}</li>" for a in g.answered_by]
        if g.answers_itself:
            items.append(f"<li><b>itself</b>: {e(g.answers_itself)}</li>")
        answers = f"<div class=answers>Answered by:<ul>{''.join(items)}</ul></div>"
    else:
        answers = f"<p class=answers>{e(responses_text(g))}.</p>"
    out = [f"<section id='report-{i}'><h2>{e(g.name)}</h2>{_about(g)}{answers}",
           f"{_bar(g.counts, 600)}<p>{e(counts_text(g))}</p>",
           "<table class=rows><thead><tr><th>Recommendation</th><th>Status</th><th>Response</th></tr></thead><tbody>"]
    out.extend(_row(r) for r in g.rows)
    out.append("</tbody></table></section>")
    return "".join(out)


def _row(r: dict) -> str:
    e = html.escape
    status = row_status(r)
    # The section names the report; each row says where in it, and whose recommendation it reports.
    where = ", ".join(x for x in (f"p{r['rec_page']}" if r["rec_page"] != "" else "", e(r["body"])) if x)
    where = f"<div class=src>{where}</div>" if where else ""
    detail = ""
    if status == UNPAIRED:
        resp = f"<span class=none>{e(NO_RESPONSE)}</span>"
    else:
        if r["response_text"]:
            page = f", p{r['response_page']}" if r["response_page"] != "" else ""  # a text file has no pages
            resp = f"{e(r['response_text'])}<div class=src>{e(r['response_document'])}{page}</div>"
            if r["response_block"]:
                resp += (f"<details><summary>whole answer (pp. {e(r['response_block_pages'])})</summary>"
                         f"{e(r['response_block'])}</details>")
        else:
            resp = "<span class=none>no response found</span>"
        detail = (f"<div class=src>status confidence {r['status_confidence']}, match {r['confidence']}"
                  f"{', needs review' if r['needs_review'] else ''}</div>")
        if r["cue"]:
            detail += f"<div class=src>cue: {e(r['cue'])}</div>"
    if r.get("reviewed"):
        by = f" by {e(r['reviewer'])}" if r.get("reviewer") else ""
        model = f"; the model said {e(r['model_status'])}" if r.get("model_status") not in ("", r["status"]) else ""
        note = f": {e(r['review_note'])}" if r.get("review_note") else ""
        detail += f"<div class=src>reviewed{by}{model}{note}</div>"
    return (f"<tr><td>{e(r['label'] or '')} {e(r['recommendation_text'])}{where}</td>"
            f"<td class='st {e(status)}'>{e(status)}{detail}</td><td>{resp}</td></tr>")


def _legend() -> str:
    return "<div class=legend>" + "".join(
        f"<span><i style='background:#{STATUS_COLOURS[s]}'></i>{s}</span>" for s in SHOWN_STATUSES) + "</div>"


def _bar(counts: Mapping[str, int], width: float, height: int = 16) -> str:
    """One horizontal bar of ``width`` pixels (inline SVG), split by status in proportion to the counts."""
    total = sum(counts.values())
    width = max(width, 4.0)
    out = [f"<svg role=img aria-label='{html.escape(', '.join(f'{n} {s}' for s, n in counts.items() if n))}' "
           f"width={width:.0f} height={height}>"]
    x = 0.0
    for s in SHOWN_STATUSES:
        n = counts.get(s, 0)
        if n and total:
            w = width * n / total
            out.append(f"<rect x={x:.1f} y=0 width={w:.1f} height={height} fill='#{STATUS_COLOURS[s]}' "
                       f"stroke='#888'><title>{s}: {n}</title></rect>")
            x += w
    out.append("</svg>")
    return "".join(out)


CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #ccc;padding:6px;vertical-align:top;text-align:left;font-size:14px}
th{background:#f3f3f3;position:sticky;top:0}.src{color:#666;font-size:12px;margin-top:4px}.none{color:#999}
section{margin-top:2.5em}section>svg{display:block;margin:8px 0 0}h2{margin-bottom:0;overflow-wrap:anywhere}
.answers ul{margin:4px 0}
p.unpaired{background:#f6f3fa;border-left:4px solid #8e7cc3;padding:6px 10px}table.reports td:first-child{width:35%}
.rows th:nth-child(1),.rows th:nth-child(3){width:44%}
.legend{margin:1em 0}.legend span{margin-right:1em}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;border:1px solid #888}
""" + "".join(f".st.{s}{{background:#{c}}}" for s, c in STATUS_COLOURS.items())
