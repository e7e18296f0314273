"""A local web page over a finished run: search with filters, and the alignment table.

Standard-library HTTP server (no extra dependency), one self-contained HTML
page, and a small JSON API:

- ``GET /api/search?q=...&k=10&mode=hybrid&kind=&stance=&status=&doc=`` -> hits
- ``GET /api/alignments?status=&body=&q=`` -> alignment rows
- ``GET /files/<doc_id>`` -> the source file, so ``#page=N`` links open the PDF at the page; an HTML or
  text source is sent as sandboxed plain text, never as live HTML
- ``GET /app.js`` -> the page's script (the page itself allows no inline script)
"""
from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from .embed import Embedder
from .export.rows import alignment_rows
from .records import STATUSES, Alignment, read_jsonl
from .errors import ReviewNLPError
from .search import MODES, Searcher

# The page's own script comes from /app.js; inline script (and so any script text inside document data) never runs.
PAGE_CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# A corpus file is shown on its own, sandboxed: no script, no same-origin access, whatever it holds.
FILE_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
# Chromium's PDF viewer refuses to run in a sandbox; a PDF only must not be framed by another site.
PDF_CSP = "frame-ancestors 'self'"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>reviewnlp</title>
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:70rem;color:#222}
nav button{margin-right:.5rem} .tab{display:none} .tab.on{display:block}
form{display:flex;gap:.5rem;flex-wrap:wrap;margin:1rem 0} input[type=search]{flex:1;min-width:20rem;padding:.4rem}
.hit{border-bottom:1px solid #ddd;padding:.6rem 0} .meta{color:#555;font-size:.85rem} mark{background:#fff3a3}
table{border-collapse:collapse;width:100%;font-size:.85rem} td,th{border:1px solid #ccc;padding:.3rem;vertical-align:top}
.accepted{background:#e3f6e3}.partial{background:#fff6d6}.deferred{background:#e6eefc}.rejected{background:#fbe3e3}.gap{background:#eee}
</style></head><body>
<h1>reviewnlp</h1>
<nav><button id="show-search">Search</button><button id="show-table">Alignment table</button></nav>
<section id="search" class="tab on">
<form id="sform">
<input type="search" id="q" placeholder="e.g. financial support for kinship carers" aria-label="query">
<select id="mode">__MODES__</select>
<select id="kind" aria-label="kind"><option value="">any kind</option><option>recommendation</option>
<option>commitment</option><option>response</option><option>commentary</option><option>other</option></select>
<select id="stance" aria-label="stance"><option value="">any stance</option><option>accepted</option>
<option>partial</option><option>deferred</option><option>rejected</option></select>
<input id="doc" placeholder="document contains" aria-label="document">
<button type="submit">Search</button></form>
<div id="results"></div></section>
<section id="table" class="tab">
<form id="tform"><select id="tstatus" aria-label="status"><option value="">any status</option><option>accepted</option>
<option>partial</option><option>deferred</option><option>rejected</option><option>gap</option></select>
<input id="tbody" placeholder="body contains" aria-label="body"><input id="tq" placeholder="text contains" aria-label="text">
<button type="submit">Filter</button></form>
<div id="count"></div>
<table><thead><tr><th>body</th><th>label</th><th>recommendation</th><th>page</th><th>status</th><th>response</th>
<th>page</th><th>match confidence</th></tr></thead><tbody id="rows"></tbody></table></section>
<script src="/app.js"></script>
</body></html>
""".replace("__MODES__", "".join(f"<option>{m}</option>" for m in MODES))

# Served as /app.js so the page can forbid inline script (CSP): text from a document can never run.
SCRIPT = r"""const $ = id => document.getElementById(id);
// Every string that comes from a document or the API is data: it passes through esc() before innerHTML.
const esc = s => (s ?? "").toString().replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;","'":"&#39;"}[c]));
const num = n => Number.isFinite(Number(n)) ? String(Number(n)) : "";
function show(tab){ for (const t of ["search","table"]) $(t).classList.toggle("on", t===tab); if(tab==="table") loadTable(); }
$("show-search").onclick = () => show("search"); $("show-table").onclick = () => show("table");
function link(doc, page, label){
  return page ? `<a href="/files/${encodeURIComponent(doc)}#page=${num(page)}" target="_blank" rel="noopener">${esc(label)} p${num(page)}</a>` : esc(label); }
$("sform").onsubmit = async e => {
  e.preventDefault();
  const p = new URLSearchParams({q:$("q").value, mode:$("mode").value, kind:$("kind").value, stance:$("stance").value, doc:$("doc").value});
  const hits = await (await fetch("/api/search?" + p)).json();
  $("results").innerHTML = hits.length ? hits.map(h => {
    const [a,b] = h.highlight, c = h.context;
    const ctx = esc(c.slice(Math.max(0,a-240), a)) + "<mark>" + esc(c.slice(a,b)) + "</mark>" + esc(c.slice(b, b+240));
    return `<div class="hit" data-kind="${esc(h.kind)}"><div class="meta">${num(h.score)} · <b>${esc(h.kind)}</b>`
      + `${h.stance ? " · " + esc(h.stance) : ""}${h.status ? " · status " + esc(h.status) : ""} · ${link(h.doc_id, h.page, h.title)}`
      + `${h.section ? " · " + esc(h.section) : ""}</div><div>${ctx}</div></div>`; }).join("")
    : "<p>No results.</p>";
};
async function loadTable(){
  const p = new URLSearchParams({status:$("tstatus").value, body:$("tbody").value, q:$("tq").value});
  const rows = await (await fetch("/api/alignments?" + p)).json();
  $("count").textContent = rows.length + " recommendations";
  $("rows").innerHTML = rows.map(r => `<tr class="${esc(r.status)}" data-status="${esc(r.status)}"><td>${esc(r.body)}</td><td>${esc(r.label)}</td>`
    + `<td>${esc(r.recommendation_text)}</td><td>${esc(r.rec_document)} ${esc(r.rec_page)}</td><td>${esc(r.status)}`
    + `<br><small>${esc(r.cue)} (${esc(r.status_confidence)})</small></td><td>${esc(r.response_text)}`
    + `${r.response_block ? "<details><summary>whole answer (pp. " + esc(r.response_block_pages) + ")</summary>" + esc(r.response_block) + "</details>" : ""}</td>`
    + `<td>${esc(r.response_document)} ${esc(r.response_page)}</td><td>${esc(r.confidence)}</td></tr>`).join("");
}
$("tform").onsubmit = e => { e.preventDefault(); loadTable(); };
"""


def make_server(out_dir: str | Path, host: str = "127.0.0.1", port: int = 8000,
                embedder: Embedder | None = None) -> ThreadingHTTPServer:
    """A server for the run in ``out_dir`` (not started; call ``serve_forever``).

    The port is bound first, so a port in use is reported before the run is loaded.
    """
    out_dir = Path(out_dir)
    searcher: Searcher
    rows: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *args) -> None:  # keep test and terminal output quiet
            pass

        def _send(self, body: bytes, ctype: str, status: int = 200, csp: str = PAGE_CSP) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", csp)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, obj, status: int = 200) -> None:
            self._send(json.dumps(obj, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8", status)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/":
                self._send(PAGE.encode("utf-8"), "text/html; charset=utf-8")
            elif url.path == "/app.js":
                self._send(SCRIPT.encode("utf-8"), "text/javascript; charset=utf-8")
            elif url.path == "/api/search":
                try:
                    hits = searcher.search(q.get("q", ""), k=int(q.get("k", 10)), mode=q.get("mode", "hybrid"),
                                           documents=[q["doc"]] if q.get("doc") else [],
                                           kinds=[q["kind"]] if q.get("kind") else [],
                                           stances=[q["stance"]] if q.get("stance") else [],
                                           statuses=[q["status"]] if q.get("status") else [],
                                           date_from=q.get("from") or None, date_to=q.get("to") or None)
                except ValueError as exc:  # a bad k, mode, filter value or date (InvalidQueryError too)
                    self._json({"error": str(exc)}, 400)
                    return
                self._json([h.to_dict() for h in hits])
            elif url.path == "/api/alignments":
                if q.get("status") and q["status"] not in STATUSES:
                    self._json({"error": f"status must be one of {', '.join(STATUSES)}"}, 400)
                    return
                out = [r for r in rows
                       if (not q.get("status") or r["status"] == q["status"])
                       and (not q.get("body") or q["body"].lower() in r["body"].lower())
                       and (not q.get("q") or q["q"].lower() in (r["recommendation_text"] + " "
                                                                  + r["response_text"]).lower())]
                self._json(out)
            elif url.path.startswith("/files/"):
                doc = searcher.docs.get(url.path[len("/files/"):])
                path = Path(doc.path) if doc else None
                if path is None or not path.is_file():
                    self._json({"error": "no such document"}, 404)
                    return
                self._send(*source_response(path))
            else:
                self._json({"error": "not found"}, 404)

    if not 0 <= port <= 65535:
        raise ReviewNLPError(f"port {port}: not a port number (0-65535)")
    try:
        server = ThreadingHTTPServer((host, port), Handler)
    except OSError as exc:
        raise ReviewNLPError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from exc
    try:
        searcher = Searcher(out_dir, embedder)
        rows.extend(alignment_rows(list(read_jsonl(out_dir / "alignments.jsonl", Alignment)),
                                   list(searcher.docs.values())))
    except BaseException:
        server.server_close()
        raise
    return server


def source_response(path: Path) -> tuple[bytes, str, int, str]:
    """(body, content type, status, CSP) for a corpus file served under ``/files/``.

    Only PDFs are served as themselves; an HTML or text source is document
    data from an unknown site, so it goes out as plain text in a sandbox and
    none of its markup or script can run in this page's origin.
    """
    if path.suffix.lower() == ".pdf":
        return path.read_bytes(), "application/pdf", 200, PDF_CSP
    return path.read_bytes(), "text/plain; charset=utf-8", 200, FILE_CSP
