"""Export stage: alignment tables as JSONL (the evaluation contract), CSV, Excel, an HTML report and SQLite.

Imports run one way: :mod:`.rows` flattens alignments into table rows, :mod:`.report` writes the
workbook and the HTML page from them, and this module writes every format.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Sequence

from ..records import Alignment, Document, Segment, atomic_write_text, write_jsonl
from .report import write_html, write_xlsx
from .sqlite import FILE as SQLITE_FILE, write_sqlite
from .rows import CSV_COLUMNS, alignment_rows, neutralise_formula  # noqa: F401 (API)


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


EXPORTS = ("alignments.jsonl", "alignments.csv", "alignments.xlsx", "report.html", "reviewnlp.sqlite")


def write_alignments(out_dir: str | Path, alignments: Sequence[Alignment], docs: Sequence[Document],
                     segments: Sequence[Segment] = (), pairing: dict | None = None) -> dict:
    """Write the alignment table in every export format into ``out_dir``; return their paths.

    ``pairing`` is ``pairing.json``'s content (which documents answer each report); ``segments`` feed the
    exports that carry the whole corpus (SQLite).
    """
    out_dir = Path(out_dir)
    write_jsonl(out_dir / "alignments.jsonl", alignments)
    write_tables(out_dir, alignments, docs, segments, pairing)
    return {name.rsplit(".", 1)[-1]: str(out_dir / name) for name in EXPORTS}


def write_tables(out_dir: Path, alignments: Sequence[Alignment], docs: Sequence[Document],
                 segments: Sequence[Segment] = (), pairing: dict | None = None) -> None:
    """Write the reader-facing tables (CSV, Excel, HTML report, SQLite) from an alignment list."""
    write_csv(out_dir / "alignments.csv", alignments, docs)
    write_xlsx(out_dir / "alignments.xlsx", alignments, docs, pairing)
    write_html(out_dir / "report.html", alignments, docs, pairing)
    write_sqlite(out_dir / SQLITE_FILE, alignments, docs, segments, pairing)
