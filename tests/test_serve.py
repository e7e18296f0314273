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
        page = browser.new_page()
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
