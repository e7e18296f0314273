"""The local web page end to end in headless Chromium (Debian's chromium, driven by Playwright)."""
import json
import os
import shutil
import threading
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, SEED_BRIEFING
from reviewnlp.cli import main
from reviewnlp.serve import make_server

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
needs_browser = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                   reason="Debian chromium not installed (scripts/install.sh installs it)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    src = tmp_path_factory.mktemp("serve_in")
    shutil.copy(SEED_BRIEFING, src / SEED_BRIEFING.name)
    shutil.copy(ROOT / "corpus" / "dev" / "hoc_home_affairs_summer2024_disorder_report.pdf", src / "report.pdf")
    out = tmp_path_factory.mktemp("serve_out")
    res = CliRunner().invoke(main, ["run", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    srv = make_server(out, "127.0.0.1", 0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def _get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.status, r.headers.get("Content-Type"), r.read()


def test_api_search_alignments_and_files(server):
    status, ctype, body = _get(server + "/api/search?q=financial+support+for+kinship+carers&k=3")
    hits = json.loads(body)
    assert status == 200 and ctype.startswith("application/json") and "kinship" in hits[0]["text"].lower()
    every = json.loads(_get(server + "/api/alignments")[2])
    status_0 = every[0]["status"]
    rows = json.loads(_get(server + f"/api/alignments?status={status_0}")[2])
    assert rows and {r["status"] for r in rows} == {status_0} and len(rows) <= len(every)
    pdf_hit = json.loads(_get(server + "/api/search?q=media+protocol&doc=report&k=1")[2])[0]
    status, ctype, body = _get(f"{server}/files/{pdf_hit['doc_id']}")
    assert ctype == "application/pdf" and body[:4] == b"%PDF"
    with pytest.raises(urllib.error.HTTPError):
        _get(server + "/api/search?q=x&mode=nonsense")


@needs_browser
def test_browser_search_filter_and_table(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        # Playwright's wait_for_function evaluates its predicate with eval(), which the page's CSP forbids.
        page = browser.new_page(bypass_csp=True)
        page.goto(server + "/")
        page.fill("#q", "financial support for kinship carers")
        page.click("#sform button[type=submit]")
        page.wait_for_selector(".hit")
        texts = page.locator(".hit").all_inner_texts()
        assert len(texts) == 10 and "kinship" in texts[0].lower()
        page.select_option("#kind", "recommendation")
        page.click("#sform button[type=submit]")
        page.wait_for_function("[...document.querySelectorAll('.hit')].every(h => h.dataset.kind === 'recommendation')")
        assert page.locator(".hit mark").first.inner_text()
        page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=True)
        page.click("#show-table")
        page.wait_for_selector("#rows tr")
        first_status = page.locator("#rows tr").first.get_attribute("data-status")
        page.select_option("#tstatus", first_status)
        page.click("#tform button[type=submit]")
        page.wait_for_function(f"[...document.querySelectorAll('#rows tr')].every(r => r.dataset.status === '{first_status}')")
        assert page.locator("#rows tr").count() > 0
        page.screenshot(path=str(ARTIFACTS / "alignment_table.png"), full_page=True)
        browser.close()
    assert (ARTIFACTS / "search.png").stat().st_size > 10_000


# ------------------------------------------------ hostile documents (issue 13)

@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """A run over PDFs whose metadata titles are script, and a saved page with inline script."""
    from conftest import FIXTURES

    src = tmp_path_factory.mktemp("hostile_in")
    for name in ("pdf_title_with_script_tag.pdf", "pdf_title_with_img_onerror.pdf",
                 "html_source_with_inline_script.html"):
        shutil.copy(FIXTURES / name, src / name)
    out = tmp_path_factory.mktemp("hostile_out")
    res = CliRunner().invoke(main, ["run", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    docs = {Path(json.loads(l)["path"]).name: json.loads(l) for l in (out / "documents.jsonl").open()}
    srv = make_server(out, "127.0.0.1", 0)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", docs
    srv.shutdown()
    srv.server_close()


def test_page_forbids_inline_script_and_corpus_html_is_served_as_sandboxed_text(hostile_server):
    base, docs = hostile_server
    with urllib.request.urlopen(base + "/", timeout=30) as r:
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert b"<script>" not in r.read()  # the page's script is /app.js, nothing inline
    html_id = docs["html_source_with_inline_script.html"]["doc_id"]
    with urllib.request.urlopen(f"{base}/files/{html_id}", timeout=30) as r:
        assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert r.headers["Content-Security-Policy"].startswith("sandbox")
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert b"<script>alert(" in r.read()  # the bytes as they are, as text
    pdf_id = docs["pdf_title_with_script_tag.pdf"]["doc_id"]
    with urllib.request.urlopen(f"{base}/files/{pdf_id}", timeout=30) as r:
        assert r.headers["Content-Type"] == "application/pdf" and r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("query,error", [
    ("kind=bogus", "unknown kind 'bogus'; choose from recommendation, commitment, response, commentary, other"),
    ("stance=maybe", "unknown stance 'maybe'; choose from accepted, partial, deferred, rejected"),
    ("status=lost", "unknown status 'lost'; choose from accepted, partial, deferred, rejected, gap"),
    ("k=-1", "k must be a whole number of at least 1, not -1"),
    ("k=ten", "invalid literal for int() with base 10: 'ten'"),
    ("from=notadate", "from date 'notadate' is not a date as YYYY-MM-DD"),
    ("to=2024-13-45", "to date '2024-13-45' is not a date as YYYY-MM-DD"),
])
def test_api_answers_400_to_values_no_filter_accepts(hostile_server, query, error):
    base, _ = hostile_server
    with pytest.raises(urllib.error.HTTPError) as exc:
        _get(f"{base}/api/search?q=kinship&{query}")
    assert exc.value.code == 400 and json.loads(exc.value.read()) == {"error": error}


def test_api_alignments_refuses_an_unknown_status(hostile_server):
    base, _ = hostile_server
    with pytest.raises(urllib.error.HTTPError) as exc:
        _get(f"{base}/api/alignments?status=lost")
    assert exc.value.code == 400
    assert json.loads(exc.value.read()) == {"error": "status must be one of accepted, partial, deferred, rejected, gap"}


@needs_browser
def test_script_in_a_pdf_title_never_runs_in_the_search_results(hostile_server):
    """Once stored XSS: the result link's title went into innerHTML unescaped when a page number was set."""
    from playwright.sync_api import sync_playwright

    base, docs = hostile_server
    html_id = docs["html_source_with_inline_script.html"]["doc_id"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        dialogs = []
        # Twice: with the CSP in force, and with it bypassed, so escaping alone is shown to hold too.
        for bypass_csp in (False, True):
            page = browser.new_page(bypass_csp=bypass_csp)
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(base + "/")
            page.fill("#q", "kinship allowance for carers")
            page.click("#sform button[type=submit]")
            page.wait_for_selector(".hit a")
            links = page.locator(".hit a").all_inner_texts()
            assert "<script>alert(1)</script> p1" in links and '"><img src=x onerror=alert(1)> p1' in links
            assert page.locator(".hit img").count() == 0 and page.locator(".hit script").count() == 0
            page.click("#show-table")
            page.wait_for_selector("#rows tr")
            page.goto(f"{base}/files/{html_id}")  # the corpus page itself: plain text, its script inert
            assert "<script>alert(" in page.locator("body").inner_text()
            page.wait_for_timeout(300)
            page.close()
        browser.close()
    assert dialogs == []


def test_twenty_concurrent_cold_searches_load_the_model_once(tmp_path):
    """Once: a fresh server hit by 20 searches at once loaded the model several times (1.58 GB RSS, p95 7.3 s)."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    from conftest import HashingEmbedder
    from reviewnlp.pipeline import run

    class SlowLoadingEmbedder(HashingEmbedder):
        """Loads its 'model' on first use and counts the loads, like MiniLM's lazy load."""

        def __init__(self):
            self.model, self.loads = None, 0

        def encode(self, texts):
            if self.model is None:
                time.sleep(0.3)  # loading takes a while: the window in which concurrent requests race
                self.loads += 1
                self.model = object()
            return super().encode(texts)

    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SEED_BRIEFING, src / SEED_BRIEFING.name)
    run([src], tmp_path / "out", embedder=HashingEmbedder())
    embedder = SlowLoadingEmbedder()
    srv = make_server(tmp_path / "out", "127.0.0.1", 0, embedder=embedder)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/api/search?q=kinship+carers+allowance+{{}}&k=3"
    try:
        with ThreadPoolExecutor(20) as pool:
            answers = list(pool.map(lambda i: json.loads(_get(url.format(i))[2]), range(20)))
    finally:
        srv.shutdown()
        srv.server_close()
    assert all(len(a) == 3 for a in answers)
    assert embedder.loads == 1
