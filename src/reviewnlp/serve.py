"""A local web page over a finished run: search with filters, and the alignment table an analyst reviews.

Standard-library HTTP server (no extra dependency).  The page, its script and its style are package files
(``reviewnlp/web/``: ``index.html``, ``app.js``, ``style.css``); the JSON API behind them:

- ``GET /api/search?q=...&k=10&mode=hybrid&kind=&stance=&status=&body=&doc=&from=&to=`` -> hits; an empty
  query (or one of stop words only) is a 400 whose error says what to type
- ``GET /api/meta``, ``GET /api/alignments?...``, ``GET /api/passages?rec_id=`` and ``POST /api/review``: the
  alignment table and its review (:mod:`reviewnlp.webapi`)
- ``GET /files/<doc_id>`` -> the source file, so ``#page=N`` links open the PDF at the page; an HTML or
  text source is sent as sandboxed plain text, never as live HTML
- ``GET /app.js``, ``GET /style.css`` -> the page's script and style (the page allows no inline script or style)

A bad parameter is a 400 with ``{"error": "..."}`` in the API's own words, never Python's.  ``k`` is a whole
number from 1 to :data:`~reviewnlp.search.MAX_K` (100); a larger ``k`` is refused with 400, not clamped, so a
client never takes a shortened list for the whole answer (``k=100000`` once sent 251 MB of JSON).

The server guards a folder of documents that may have been sent by someone else:

- Only requests whose ``Host`` is ``127.0.0.1``, ``localhost`` or ``[::1]`` (with no port or the server's
  port) are answered; anything else, or no ``Host``, is a 403 on every path, so a page on another site cannot
  read the run through DNS rebinding.  Bound with ``host=`` to another address, the server accepts that name
  too; bound to every address (``0.0.0.0``), it accepts this machine's host name and any IP address (a
  rebinding attack needs a domain name, never an IP literal).
- A write (``POST /api/review``) must come from the page itself: besides the ``Host`` check, its ``Origin``
  must be this server's own (``http://`` + the ``Host`` it was sent to), it must carry the page's token in
  ``X-Reviewnlp-Token`` (random per server start, given only in the page, which no other site can read), and
  be ``Content-Type: application/json`` of at most :data:`MAX_BODY_BYTES`.  Anything else is refused before
  the body is read.  Methods other than GET and POST are 405.
- ``/files/<doc_id>`` sends a file only when it is a document the run recorded (``run.json``) and the bytes it
  reads now still hash to the ``doc_id`` (the hash of the file's bytes): an edited ``documents.jsonl`` naming
  ``/etc/shadow``, or a source replaced by a link to elsewhere, gets a 404 or 409, never the bytes.  The bytes
  sent are the bytes hashed; a verified file is not hashed again until its stat changes.
- A connection idle for :data:`IDLE_TIMEOUT_S` seconds is closed, and at most :data:`MAX_CONNECTIONS` are
  served at once (one more is answered 503 at once), so idle sockets cannot starve new requests.
"""
from __future__ import annotations

import hmac
import ipaddress
import json
import os
import re
import secrets
import socket
import stat
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from .embed import Embedder
from .errors import InvalidQueryError, ReviewNLPError
from .outdir import MANIFEST
from .records import Document, content_hash
from .search import MAX_K, Searcher
from .webapi import NOT_OBJECT, ApiError, Table

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
#: The largest body a POST may send; a review is a few hundred bytes.
MAX_BODY_BYTES = 64 * 1024
#: The header that carries the page's token on a write.
TOKEN_HEADER = "X-Reviewnlp-Token"
# Paths and the one method each answers, for a 405's Allow header.
GET_PATHS = ("/", "/app.js", "/style.css", "/api/search", "/api/meta", "/api/alignments", "/api/passages")
POST_PATHS = ("/api/review",)
ORIGIN_REFUSED = ("refused: a change must come from this server's own page, and this request's Origin is missing "
                  "or another site's; open {url} and save there")
TOKEN_REFUSED = ("refused: the request lacks the page's token, or has a wrong one (the server may have restarted); "
                 "reload {url} and save again")
NOT_JSON = "the body must be JSON, sent with Content-Type: application/json"
NO_LENGTH = "the request must give its length (Content-Length); a chunked body is not read"
TOO_LARGE = f"the body is larger than {MAX_BODY_BYTES // 1024} KB, the most this server reads"

# The page's own script comes from /app.js; inline script (and so any script text inside document data) never runs.
PAGE_CSP = ("default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
# A corpus file is shown on its own, sandboxed: no script, no same-origin access, whatever it holds.
FILE_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'"
# Chromium's PDF viewer refuses to run in a sandbox; a PDF only must not be framed by another site.
PDF_CSP = "frame-ancestors 'self'"


def make_server(out_dir: str | Path, host: str = "127.0.0.1", port: int = 8000,
                embedder: Embedder | None = None, idle_timeout_s: float = IDLE_TIMEOUT_S,
                max_connections: int = MAX_CONNECTIONS) -> ThreadingHTTPServer:
    """A server for the run in ``out_dir`` (not started; call ``serve_forever``).

    The port is bound first, so a port in use is reported before the run is loaded.  ``host`` also decides
    which ``Host`` headers are answered (see the module docstring).  The page's write token is made here,
    new each time, and is the server's ``token`` attribute.
    """
    out_dir = Path(out_dir)
    searcher: Searcher
    files: SourceFiles
    table: Table
    names, any_ip = allowed_hosts(host)
    shown = _url_host(host)
    token = secrets.token_urlsafe(32)
    assets = {"/": (page_html(token), "text/html; charset=utf-8"),
              "/app.js": (web_asset("app.js"), "text/javascript; charset=utf-8"),
              "/style.css": (web_asset("style.css"), "text/css; charset=utf-8")}

    class Handler(BaseHTTPRequestHandler):
        timeout = idle_timeout_s  # StreamRequestHandler sets it on the socket: a silent client is dropped

        def log_message(self, fmt: str, *args) -> None:  # keep test and terminal output quiet
            pass

        def _send(self, body: bytes, ctype: str, status: int = 200, csp: str = PAGE_CSP,
                  headers: tuple = ()) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", csp)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Cache-Control", "no-store")  # the table changes on review; the page's token per start
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _json(self, obj, status: int = 200, headers: tuple = ()) -> None:
            self._send(json.dumps(obj, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8",
                       status, headers=headers)

        def _guarded(self, route) -> None:
            """Answer through ``route`` when the Host is one of ours; a bug is one line to the client."""
            port_now = self.server.server_address[1]
            if not host_allowed(self.headers.get_all("Host") or [], names, any_ip, port_now):
                self.close_connection = True
                self._json({"error": f"this server answers only requests addressed to it; open "
                                     f"http://{shown}:{port_now}/"}, 403)
                return
            try:
                route()
            except (ConnectionError, TimeoutError):
                raise  # the client went away or stalled: nothing to answer (the server closes the socket)
            except Exception:  # a bug: the user gets a line in our words, the terminal gets the traceback
                traceback.print_exc()
                self._json({"error": INTERNAL}, 500)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self._guarded(self._route)

        def do_POST(self) -> None:  # noqa: N802
            self.close_connection = True  # a refused body is never read: the connection cannot be reused
            self._guarded(self._post)

        def _other_method(self) -> None:
            self.close_connection = True
            self._guarded(lambda: self._not_allowed(urlparse(self.path).path))

        do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = do_TRACE = do_CONNECT = _other_method

        def _not_allowed(self, path: str) -> None:
            allow = "POST" if path in POST_PATHS else "GET" if path in GET_PATHS or path.startswith("/files/") else ""
            if not allow:
                self._json({"error": "not found"}, 404)
                return
            self._json({"error": f"{self.command} is not answered here; {path} answers {allow} only"}, 405,
                       headers=(("Allow", allow),))

        def _route(self) -> None:
            url = urlparse(self.path)
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            try:
                if url.path in assets:
                    self._send(*assets[url.path])
                elif url.path == "/api/search":
                    try:
                        hits = searcher.search(q.get("q", ""), **search_options(q))
                    except InvalidQueryError as exc:  # a bad k, mode, filter value or date; an empty query
                        raise ApiError(400, str(exc)) from exc
                    except ReviewNLPError as exc:  # the run's index or model cannot answer (one line of ours)
                        raise ApiError(500, str(exc)) from exc
                    self._json([h.to_dict() for h in hits])
                elif url.path == "/api/meta":
                    self._json(table.meta())
                elif url.path == "/api/alignments":
                    self._json(table.select(q))
                elif url.path == "/api/passages":
                    self._json(table.passages(q.get("rec_id", "")))
                elif url.path.startswith("/files/"):
                    doc_id = url.path[len("/files/"):]
                    data, status, error = files.read(doc_id)
                    if data is None:
                        raise ApiError(status, error)
                    self._send(*source_response(Path(files.docs[doc_id].path), data))
                else:
                    self._not_allowed(url.path)
            except ApiError as exc:
                self._json({"error": str(exc)}, exc.status)

        def _post(self) -> None:
            path = urlparse(self.path).path
            if path not in POST_PATHS:
                self._not_allowed(path)
                return
            url = f"http://{shown}:{self.server.server_address[1]}/"
            try:
                body = self._read_body(url)
                try:
                    payload = json.loads(body.decode("utf-8"))
                except (UnicodeDecodeError, ValueError, RecursionError):
                    raise ApiError(400, f"the body is not JSON; {NOT_OBJECT}") from None
                row = table.review(payload)
            except ApiError as exc:
                self._json({"error": str(exc)}, exc.status)
                return
            searcher.status[row["rec_id"]] = row["status"]  # the search's status filter sees the review too
            self._json(row)

        def _read_body(self, url: str) -> bytes:
            """The body of a write that passed every check of :func:`write_refusal`; else an :class:`ApiError`."""
            refusal = write_refusal(self.headers, self.server.server_address[1], token)
            if refusal == "origin":
                raise ApiError(403, ORIGIN_REFUSED.format(url=url))
            if refusal == "token":
                raise ApiError(403, TOKEN_REFUSED.format(url=url))
            if refusal == "type":
                raise ApiError(415, NOT_JSON)
            length = self.headers.get("Content-Length", "")
            if self.headers.get("Transfer-Encoding") or not re.fullmatch(r"[0-9]{1,12}", length.strip()):
                raise ApiError(411, NO_LENGTH)
            if int(length) > MAX_BODY_BYTES:
                self._drain(int(length))
                raise ApiError(413, TOO_LARGE)
            return self.rfile.read(int(length))

        def _drain(self, length: int) -> None:
            # Closing on unread bytes makes the kernel reset the connection, and the client may lose the 413;
            # a body up to 1 MB is read and dropped first (a bigger one gets the reset).
            left = length if length <= 1024 * 1024 else 0
            while left > 0:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)

    if not 0 <= port <= 65535:
        raise ReviewNLPError(f"port {port}: not a port number (0-65535)")
    try:
        server = _Server((host, port), Handler, max_connections)
    except OSError as exc:
        raise ReviewNLPError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from exc
    try:
        searcher = Searcher(out_dir, embedder)
        files = SourceFiles(searcher.docs, out_dir)
        table = Table(out_dir, searcher.docs, searcher.segs)
    except BaseException:
        server.server_close()
        raise
    server.token = token
    return server


def web_asset(name: str) -> bytes:
    """A file of the page (``reviewnlp/web/NAME``) as the package holds it."""
    return resources.files("reviewnlp").joinpath("web", name).read_bytes()


def page_html(token: str) -> bytes:
    """The page with this server's write token in its ``<meta name="reviewnlp-token">``.

    Only a page from this origin can read it: another site's script may send requests here but never
    read an answer, so it cannot learn the token.
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]+", token):  # token_urlsafe's alphabet: nothing to escape in an attribute
        raise ValueError("the token must be URL-safe base64")
    return web_asset("index.html").replace(b"__TOKEN__", token.encode("ascii"))


def write_refusal(headers, port: int, token: str) -> str | None:
    """Why a write may not go ahead: ``"origin"``, ``"token"`` or ``"type"``; None when it may.

    ``headers`` have passed the Host check.  The ``Origin`` must be exactly ``http://`` and the ``Host`` the
    request was sent to, with the server's port; the token header must equal ``token`` (compared in constant
    time); the body must be declared JSON.
    """
    origins = headers.get_all("Origin") or []
    m = _HOST_RE.fullmatch((headers.get("Host") or "").strip().lower())
    if m is None or len(origins) != 1:
        return "origin"
    own = {f"http://{m[1]}:{port}"} | ({f"http://{m[1]}"} if port == 80 else set())
    if origins[0].strip().lower() not in own:
        return "origin"
    given = headers.get_all(TOKEN_HEADER) or []
    if len(given) != 1 or not hmac.compare_digest(given[0].strip().encode("utf-8", "replace"), token.encode("ascii")):
        return "token"
    if headers.get_content_type() != "application/json":
        return "type"
    return None


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
            "bodies": [q["body"]] if q.get("body") else [],
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
