"""Export stage: alignment tables as JSONL (the evaluation contract), CSV, Excel and an HTML report."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Sequence

from .records import Alignment, Document, atomic_write_text, write_jsonl

CSV_COLUMNS = ("rec_id", "body", "label", "recommendation_text", "rec_document", "rec_page", "rec_source", "status",
               "status_confidence", "confidence", "cue", "match", "response_text", "response_document",
               "response_page", "response_block", "response_block_pages", "score", "other_responses")


def alignment_rows(alignments: Sequence[Alignment], docs: Sequence[Document]) -> list[dict]:
    """Flatten alignments into table rows, naming documents by file name."""
    names = {d.doc_id: Path(d.path).name for d in docs}
    rows = []
    for a in alignments:
        rows.append({
            "rec_id": a.rec_id, "body": a.body or "", "label": a.label or "",
            "recommendation_text": a.recommendation_text, "rec_document": names.get(a.rec_doc_id, a.rec_doc_id),
            "rec_page": a.rec_page if a.rec_page is not None else "",
            "rec_source": "; ".join(f"{s.get('source') or ''} {s.get('cited_pages') or ''}".strip()
                                    for s in a.rec_sources),
            "status": a.status, "status_confidence": a.status_confidence,
            "confidence": a.confidence, "cue": a.cue or "", "response_text": a.response_text or "",
            "response_document": names.get(a.response_doc_id or "", a.response_doc_id or ""),
            "response_page": a.response_page if a.response_page is not None else "", "score": a.score,
            "match": a.match,
            "response_block": (a.response_block or {}).get("text", ""),
            "response_block_pages": ", ".join(map(str, (a.response_block or {}).get("pages", ()))),
            "other_responses": "; ".join(f"{names.get(r['doc_id'], r['doc_id'])} p{r['page']} ({r['probability']})"
                                         for r in a.responses[1:]),
        })
    return rows


# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
    """A text cell that a spreadsheet would run as a formula gets a leading ``'``; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(path: str | Path, alignments: Sequence[Alignment], docs: Sequence[Document]) -> None:
    """Write the alignment table as UTF-8 CSV (with BOM, so Excel reads the £ signs).

    Text that would start a formula is prefixed with ``'`` (document text is data, never a formula);
    ``alignments.jsonl`` keeps the exact text.
    """
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: neutralise_formula(v) for k, v in row.items()} for row in alignment_rows(alignments, docs))
    atomic_write_text(path, "\ufeff" + buf.getvalue())


EXPORTS = ("alignments.jsonl", "alignments.csv", "alignments.xlsx", "report.html")


def write_alignments(out_dir: str | Path, alignments: Sequence[Alignment], docs: Sequence[Document]) -> dict:
    """Write the alignment table in every export format into ``out_dir``; return their paths."""
    out_dir = Path(out_dir)
    write_jsonl(out_dir / "alignments.jsonl", alignments)
    write_tables(out_dir, alignments, docs)
    return {name.split(".")[-1]: str(out_dir / name) for name in EXPORTS}


def write_tables(out_dir: Path, alignments: Sequence[Alignment], docs: Sequence[Document]) -> None:
    """Write the reader-facing tables (CSV, Excel, HTML report) from an alignment list."""
    from .report import write_html, write_xlsx

    write_csv(out_dir / "alignments.csv", alignments, docs)
    write_xlsx(out_dir / "alignments.xlsx", alignments, docs)
    write_html(out_dir / "report.html", alignments, docs)
