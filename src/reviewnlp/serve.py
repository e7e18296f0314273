"""A local web page over a finished run: search with filters, and the alignment table.

Standard-library HTTP server (no extra dependency), one self-contained HTML
page, and a small JSON API:

- ``GET /api/search?q=...&k=10&mode=hybrid&kind=&stance=&status=&doc=&from=&to=`` -> hits
- ``GET /api/alignments?status=&body=&q=`` -> alignment rows
- ``GET /files/<doc_id>`` -> the source file, so ``#page=N`` links open the PDF at the page; an HTML or
  text source is sent as sandboxed plain text, never as live HTML
- ``GET /app.js`` -> the page's script (the page itself allows no inline script)

A bad parameter is a 400 with ``{"error": "..."}`` in the API's own words, never Python's.  ``k`` is a whole
number from 1 to :data:`~reviewnlp.search.MAX_K` (100); a larger ``k`` is refused with 400, not clamped, so a
client never takes a shortened list for the whole answer (``k=100000`` once sent 251 MB of JSON).

The server guards a folder of documents that may have been sent by someone else:

- Only requests whose ``Host`` is ``127.0.0.1``, ``localhost`` or ``[::1]`` (with no port or the server's
  port) are answered; anything else, or no ``Host``, is a 403 on every path, so a page on another site cannot
  read the run through DNS rebinding.  Bound with ``host=`` to another address, the server accepts that name
  too; bound to every address (``0.0.0.0``), it accepts this machine's host name and any IP address (a
  rebinding attack needs a domain name, never an IP literal).
- ``/files/<doc_id>`` sends a file only when it is a document the run recorded (``run.json``) and the bytes it
  reads now still hash to the ``doc_id`` (the hash of the file's bytes): an edited ``documents.jsonl`` naming
  ``/etc/shadow``, or a source replaced by a link to elsewhere, gets a 404 or 409, never the bytes.  The bytes
  sent are the bytes hashed; a verified file is not hashed again until its stat changes.
- A connection idle for :data:`IDLE_TIMEOUT_S` seconds is closed, and at most :data:`MAX_CONNECTIONS` are
  served at once (one more is answered 503 at once), so idle sockets cannot starve new requests.
"""
from __future__ import annotations

import ipaddress
import json
import os
import re
import socket
import stat
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from .embed import Embedder
from .errors import InvalidQueryError, ReviewNLPError
from .export.rows import alignment_rows
from .outdir import MANIFEST
from .records import STATUSES, Alignment, Document, content_hash, read_jsonl
from .search import MAX_K, MODES, Searcher

#: Seconds a connection may send nothing before it is closed (57 idle sockets once blocked every request).
IDLE_TIMEOUT_S = 10
#: Connections served at once; one more is answered 503 and closed rather than given a thread.
MAX_CONNECTIONS = 128
#: The largest source file /files/ reads (it is read whole, hashed, then sent).
MAX_FILE_MB = 1024
#: Host names a request may carry when the server is bound to a loopback address.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_EVERY_ADDRESS = ("0.0.0.0", "::", "")
_HOST_RE = re.compile(r"(\[[0-9a-f:.]+\]|[^:\[\]\s]+)(?::([0-9]{1,5}))?")

K_ERROR = f"k must be a whole number from 1 to {MAX_K}"
FILE_CHANGED = "the file has changed since the run; run `reviewnlp run` again"
FILE_GONE = "the file is no longer where the run read it; run `reviewnlp run` again"
NOT_AN_INPUT = "this document is not one of the inputs run.json recorded; run `reviewnlp run` again"
INTERNAL = "the server failed on this request; its terminal shows why"

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
                embedder: Embedder | None = None, idle_timeout_s: float = IDLE_TIMEOUT_S,
                max_connections: int = MAX_CONNECTIONS) -> ThreadingHTTPServer:
    """A server for the run in ``out_dir`` (not started; call ``serve_forever``).

    The port is bound first, so a port in use is reported before the run is loaded.  ``host`` also decides
    which ``Host`` headers are answered (see the module docstring).
    """
    out_dir = Path(out_dir)
    searcher: Searcher
    files: SourceFiles
    rows: list[dict] = []
    names, any_ip = allowed_hosts(host)
    shown = _url_host(host)

    class Handler(BaseHTTPRequestHandler):
        timeout = idle_timeout_s  # StreamRequestHandler sets it on the socket: a silent client is dropped

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
            port_now = self.server.server_address[1]
            if not host_allowed(self.headers.get_all("Host") or [], names, any_ip, port_now):
                self._json({"error": f"this server answers only requests addressed to it; open "
                                     f"http://{shown}:{port_now}/"}, 403)
                return
            try:
                self._route()
            except (ConnectionError, TimeoutError):
                raise  # the client went away or stalled: nothing to answer (the server closes the socket)
            except Exception:  # a bug: the user gets a line in our words, the terminal gets the traceback
                traceback.print_exc()
                self._json({"error": INTERNAL}, 500)

        def _route(self) -> None:
            url = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/":
                self._send(PAGE.encode("utf-8"), "text/html; charset=utf-8")
            elif url.path == "/app.js":
                self._send(SCRIPT.encode("utf-8"), "text/javascript; charset=utf-8")
            elif url.path == "/api/search":
                try:
                    hits = searcher.search(q.get("q", ""), **search_options(q))
                except InvalidQueryError as exc:  # a bad k, mode, filter value or date, in the API's words
                    self._json({"error": str(exc)}, 400)
                    return
                except ReviewNLPError as exc:  # the run's index or model cannot answer (one line of ours)
                    self._json({"error": str(exc)}, 500)
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
                doc_id = url.path[len("/files/"):]
                data, status, error = files.read(doc_id)
                if data is None:
                    self._json({"error": error}, status)
                    return
                self._send(*source_response(Path(files.docs[doc_id].path), data))
            else:
                self._json({"error": "not found"}, 404)

    if not 0 <= port <= 65535:
        raise ReviewNLPError(f"port {port}: not a port number (0-65535)")
    try:
        server = _Server((host, port), Handler, max_connections)
    except OSError as exc:
        raise ReviewNLPError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from exc
    try:
        searcher = Searcher(out_dir, embedder)
        files = SourceFiles(searcher.docs, out_dir)
        if (out_dir / "alignments.jsonl").is_file():  # a folder made stage by stage may not be aligned yet
            rows.extend(alignment_rows(list(read_jsonl(out_dir / "alignments.jsonl", Alignment)),
                                       list(searcher.docs.values())))
    except BaseException:
        server.server_close()
        raise
    return server


def search_options(q: dict[str, str]) -> dict:
    """Keyword arguments for :meth:`Searcher.search` from the API's query parameters.

    ``k`` is checked here, in the API's words (``int()``'s own message once reached the client); the other
    values are checked by the search itself, which raises :class:`InvalidQueryError` in words of its own.
    """
    k = q.get("k", "10").strip()
    if not re.fullmatch(r"[0-9]{1,6}", k) or not 1 <= int(k) <= MAX_K:
        raise InvalidQueryError(K_ERROR)
    return {"k": int(k), "mode": q.get("mode", "hybrid"),
            "documents": [q["doc"]] if q.get("doc") else [],
            "kinds": [q["kind"]] if q.get("kind") else [],
            "stances": [q["stance"]] if q.get("stance") else [],
            "statuses": [q["status"]] if q.get("status") else [],
            "date_from": q.get("from") or None, "date_to": q.get("to") or None}


def allowed_hosts(host: str) -> tuple[frozenset[str], bool]:
    """(host names a request may carry, whether any IP address may be named) for a server bound to ``host``."""
    names = set(LOOPBACK_NAMES)
    bound = host.strip().lower()
    if bound in _EVERY_ADDRESS:
        names.add(socket.gethostname().lower())  # not getfqdn(): a DNS lookup could stall the start
        return frozenset(names), True
    names.add(_url_host(bound))
    return frozenset(names), False


def host_allowed(headers: list[str], names: frozenset[str], any_ip: bool, port: int) -> bool:
    """Whether a request's ``Host`` headers are exactly one allowed name, with no port or ``port``."""
    if len(headers) != 1:
        return False
    m = _HOST_RE.fullmatch(headers[0].strip().lower())
    if not m or (m[2] is not None and int(m[2]) != port):
        return False
    if m[1] in names:
        return True
    if not any_ip:
        return False
    try:
        ipaddress.ip_address(m[1].strip("[]"))
    except ValueError:
        return False
    return True


def is_local_only(host: str) -> bool:
    """Whether a server bound to ``host`` can be reached from this machine only (a loopback address)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    """``host`` as it appears in a URL: an IPv6 address in brackets, every address as 127.0.0.1."""
    host = host.strip().lower()
    if host in _EVERY_ADDRESS:
        return "127.0.0.1"
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


class _Server(ThreadingHTTPServer):
    """A thread per connection, at most ``max_connections`` at once; shutting down waits for none of them."""

    daemon_threads = True
    block_on_close = False  # Ctrl-C must not wait for a browser's idle keep-open sockets

    def __init__(self, address, handler, max_connections: int) -> None:
        self._slots = threading.BoundedSemaphore(max_connections)
        # listen()'s backlog: socketserver's 5 dropped the 6th connection of a burst, and the client waited 1 s
        # to send it again, so 60 sockets opened at once took 9 s to connect.
        self.request_queue_size = max(max_connections, 5)
        self._busy = json.dumps({"error": f"too many open connections (the most is {max_connections}); "
                                          "try again in a few seconds"}).encode("utf-8")
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:
        """Serve the connection in a thread of its own, or answer 503 when every slot is taken."""
        if not self._slots.acquire(blocking=False):
            threading.Thread(target=self._refuse, args=(request,), daemon=True).start()
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            self.shutdown_request(request)
            raise

    def process_request_thread(self, request, client_address) -> None:
        """Serve one connection, then give its slot back."""
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def _refuse(self, request) -> None:
        # Off the accept loop: a client that never reads must not stall the server for anyone else.
        try:
            request.settimeout(1.0)
            request.sendall(b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
                            b"Retry-After: 5\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(self._busy)
                            + self._busy)
            request.shutdown(socket.SHUT_WR)
            while request.recv(65536):  # drain what the client sent, so closing does not reset the answer away
                pass
        except OSError:
            pass
        finally:
            request.close()

    def handle_error(self, request, client_address) -> None:
        """A client that went away or stalled is routine; anything else is printed as usual."""
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class SourceFiles:
    """The run's source files, sent only as the bytes the run read.

    A document's file is sent when the run recorded it (``run.json``'s documents; without a ``run.json``,
    ``documents.jsonl`` is the record) and the bytes read now hash to its ``doc_id``.  The (device, inode, size,
    mtime, ctime) of a file that passed is kept, so a big PDF is hashed once, not on every request; any change
    to the file changes its ctime, which no one can set back, and the file is hashed again.
    """

    def __init__(self, docs: dict[str, Document], out_dir: Path) -> None:
        self.docs = docs
        self.recorded = recorded_documents(out_dir)
        self._verified: dict[str, tuple] = {}
        self._lock = threading.Lock()

    def read(self, doc_id: str) -> tuple[bytes | None, int, str]:
        """(the file's bytes, 200, "") or (None, HTTP status, the error in the API's words)."""
        doc = self.docs.get(doc_id)
        if doc is None:
            return None, 404, "no such document"
        if self.recorded is not None and (doc.doc_id, doc.path) not in self.recorded:
            return None, 404, NOT_AN_INPUT
        try:
            fd = os.open(doc.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        except (FileNotFoundError, NotADirectoryError):
            return None, 404, FILE_GONE
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the recorded path
            return None, 409, f"the file can no longer be read ({getattr(exc, 'strerror', None) or 'bad path'})"
        try:
            before = os.fstat(fd)
            if not stat.S_ISREG(before.st_mode):  # a FIFO or device now under the name: never read it
                return None, 409, FILE_CHANGED
            if before.st_size > MAX_FILE_MB * 1024 * 1024:
                return None, 413, f"the file is larger than {MAX_FILE_MB} MB, the most this server sends"
            os.set_blocking(fd, True)
            with os.fdopen(os.dup(fd), "rb") as fh:
                data = fh.read(before.st_size + 1)
            after = os.fstat(fd)
        except OSError as exc:
            return None, 409, f"the file can no longer be read ({exc.strerror or type(exc).__name__})"
        finally:
            os.close(fd)
        key = _stat_key(before)
        if _stat_key(after) != key or len(data) != before.st_size:  # written to while read
            return None, 409, FILE_CHANGED
        with self._lock:
            known = self._verified.get(doc.path) == (key, doc_id)
        if not known:
            if content_hash(data) != doc_id:
                return None, 409, FILE_CHANGED
            with self._lock:
                self._verified[doc.path] = (key, doc_id)
        return data, 200, ""


def _stat_key(st: os.stat_result) -> tuple:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def recorded_documents(out_dir: str | Path) -> frozenset[tuple[str, str]] | None:
    """The (doc_id, path) of each input ``run.json`` recorded, or None for a folder without ``run.json``."""
    try:
        manifest = json.loads((Path(out_dir) / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return frozenset()  # unreadable: Searcher has refused it already; serve nothing if not
    docs = manifest.get("documents") if isinstance(manifest, dict) else None
    return frozenset((d["doc_id"], d["path"]) for d in docs or ()
                     if isinstance(d, dict) and isinstance(d.get("doc_id"), str) and isinstance(d.get("path"), str))


def source_response(path: Path, data: bytes) -> tuple[bytes, str, int, str]:
    """(body, content type, status, CSP) for a corpus file's verified ``data`` served under ``/files/``.

    Only PDFs are served as themselves; an HTML or text source is document
    data from an unknown site, so it goes out as plain text in a sandbox and
    none of its markup or script can run in this page's origin.
    """
    if path.suffix.lower() == ".pdf":
        return data, "application/pdf", 200, PDF_CSP
    return data, "text/plain; charset=utf-8", 200, FILE_CSP
