"""The analyst's web page in headless Chromium (Debian's chromium, driven by Playwright), at 1280 x 800.

One small finished run (a committee report, its government response, and a review nothing answers) is
served for the whole module; the page runs under its own Content-Security-Policy throughout (no
``bypass_csp``), except the page that plays another site.  Screenshots go to ``test-artifacts/``.
"""
import csv
import io
import json
import shutil
import threading

import pytest

from conftest import HashingEmbedder
from test_serve import ARTIFACTS, CHROMIUM, make_paired_run, needs_browser
from reviewnlp.export.rows import CSV_COLUMNS
from reviewnlp.serve import make_server

pytestmark = needs_browser
WIDTH, HEIGHT = 1280, 800


def _serve(out):
    srv = make_server(out, "127.0.0.1", 0, embedder=HashingEmbedder())
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = make_paired_run(tmp_path_factory.mktemp("web_page"))
    srv = _serve(out)
    yield f"http://127.0.0.1:{srv.server_address[1]}", out, srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, accept_downloads=True)
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(site[0] + "/")
    pg.wait_for_selector("#mode option", state="attached")  # /api/meta has filled the filters
    yield pg
    context.close()
    assert errors == []  # no script error on the page, whatever the test did


def _table(page, rows):
    from playwright.sync_api import expect

    page.click("#show-table")
    expect(page.locator("#rows tr")).to_have_count(rows)


def _api(site, path):
    import urllib.request

    with urllib.request.urlopen(site[0] + path, timeout=10) as r:
        return json.loads(r.read())


def _no_horizontal_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    right = page.evaluate("Math.max(...[...document.querySelectorAll('table, #tform, .tablebar')]"
                          ".map(e => e.getBoundingClientRect().right))")
    assert width <= WIDTH and right <= WIDTH, (width, right)


def _column(page, n):
    return page.locator(f"#rows tr td:nth-child({n})").all_inner_texts()


def test_the_table_fits_1280_px_sorts_by_a_click_and_filters(page, site):
    from playwright.sync_api import expect

    _table(page, 12)
    _no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "web_table.png"))
    unpaired = page.locator("#rows tr[data-status=unpaired]")
    expect(unpaired).to_have_count(3)
    assert set(unpaired.locator(".st").all_inner_texts()) == {"unpaired (no response found among the inputs)"}

    # An unpaired row was matched against nothing: no confidence is shown for it ("–"), and it sorts last.
    assert set(unpaired.locator("td:nth-child(8)").all_inner_texts()) == {"–"}
    page.click("th[data-key=confidence]")  # a numeric column sorts as numbers, then the other way
    cells = _column(page, 8)
    values = [float(v) for v in cells[:9]]
    assert values == sorted(values) and cells[9:] == ["–"] * 3
    expect(page.locator("th[data-key=confidence]")).to_have_attribute("aria-sort", "ascending")
    page.click("th[data-key=confidence]")
    assert [float(v) for v in _column(page, 8)[:9]] == sorted(values, reverse=True)
    page.click("th[data-key=rec_document]")
    assert _column(page, 1)[0].startswith("report.pdf") and _column(page, 1)[-1].startswith("respite_review.txt")

    report_id = next(d["doc_id"] for d in _api(site, "/api/meta")["reports"] if d["name"] == "respite_review.txt")
    page.select_option("#treport", report_id)
    expect(page.locator("#count")).to_have_text("3 of 12 recommendations")
    page.select_option("#treport", "")
    page.fill("#tbody", "home affairs")  # the body (or the report's name): the committee's 9 rows
    expect(page.locator("#count")).to_have_text("9 of 12 recommendations")
    page.fill("#tfrom", "2025-04-01")
    page.fill("#tto", "2025-04-30")
    page.select_option("#tstatus", "partial")
    partial = len(_api(site, "/api/alignments?status=partial&body=home+affairs&from=2025-04-01&to=2025-04-30"))
    expect(page.locator("#rows tr")).to_have_count(partial)
    assert partial and set(page.locator("#rows tr").evaluate_all("rs => rs.map(r => r.dataset.status)")) == {"partial"}
    page.select_option("#tstatus", "")
    page.select_option("#tneeds", "yes")
    flagged = len(_api(site, "/api/alignments?needs_review=yes&body=home+affairs&from=2025-04-01&to=2025-04-30"))
    expect(page.locator("#rows tr")).to_have_count(flagged)
    assert page.locator("#rows .flag").count() == flagged
    _no_horizontal_scroll(page)
    page.screenshot(path=str(ARTIFACTS / "web_table_filtered.png"))
    page.click("#tclear")
    expect(page.locator("#count")).to_have_text("12 of 12 recommendations")


def test_the_filtered_sorted_view_exports_as_csv_like_alignments_csv(page, site):
    from playwright.sync_api import expect

    _table(page, 12)
    page.fill("#tbody", "respite")
    expect(page.locator("#rows tr")).to_have_count(3)
    page.click("th[data-key=recommendation_text]")
    page.click("th[data-key=recommendation_text]")  # descending: "The..." first, "=SUM..." last
    shown = page.locator("#rows tr").evaluate_all("rs => rs.map(r => r.dataset.rec)")
    with page.expect_download() as download:
        page.click("#export")
    data = open(download.value.path(), "rb").read()
    assert download.value.suggested_filename == "alignments-view.csv" and data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS and [r["rec_id"] for r in rows] == shown
    assert rows[-1]["recommendation_text"].startswith("'=SUM(1+1) The Government should give respite carers")
    for row in rows:  # nothing a spreadsheet would run
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values())
    exported = {r["rec_id"]: r for r in csv.DictReader(
        (site[1] / "alignments.csv").read_text(encoding="utf-8-sig").splitlines())}
    for row in rows:  # the same cells as the run's own CSV (numbers compared as numbers: 1 and 1.0)
        for col in CSV_COLUMNS:
            a, b = row[col], exported[row["rec_id"]][col]
            try:
                assert float(a) == float(b), col
            except ValueError:
                assert a == b, col


def test_a_row_is_reviewed_on_the_page_and_recorded_in_corrections_jsonl(page, site):
    from playwright.sync_api import expect

    base, out, _ = site
    rows = _api(site, "/api/alignments")
    row = next(r for r in rows if r["response_block"] and r["status"] != "rejected"
               and len(_api(site, f"/api/passages?rec_id={r['rec_id']}")["passages"]) > 2)
    _table(page, 12)
    page.locator(f"#rows tr[data-rec='{row['rec_id']}'] .reviewbtn").click()
    expect(page.locator("#review")).to_be_visible()
    expect(page.locator("#r-passages input:checked")).to_have_count(1)
    other = page.locator("#r-passages input:not(:checked)").first
    other_id = other.get_attribute("value")
    other.check()
    page.select_option("#r-status", "rejected")
    page.fill("#r-note", "the block declines it in its last paragraph")
    page.fill("#r-reviewer", "A. Analyst")
    page.screenshot(path=str(ARTIFACTS / "web_review_form.png"))
    page.click("#r-save")
    expect(page.locator("#review")).to_be_hidden()
    cells = page.locator(f"#rows tr[data-rec='{row['rec_id']}']")
    expect(cells.locator(".st")).to_have_text("rejected")
    expect(cells.locator("td:nth-child(5) .small").first).to_have_text(f"model: {row['status']}")
    expect(cells.locator(".reviewed-flag")).to_have_text("reviewed")

    lines = (out / "corrections.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert (line["rec_id"], line["response_doc_id"], line["reviewed"], line["status"], line["response_id"],
            line["note"], line["reviewer"]) == (row["rec_id"], row["response_doc_id"], True, "rejected", other_id,
                                                "the block declines it in its last paragraph", "A. Analyst")
    page.screenshot(path=str(ARTIFACTS / "web_table_reviewed.png"))

    page.reload()  # the server keeps the review; the browser keeps the reviewer's name
    page.wait_for_selector("#mode option", state="attached")
    page.click("#show-table")
    page.select_option("#treviewed", "yes")
    expect(page.locator("#rows tr")).to_have_count(1)
    page.locator("#rows .reviewbtn").click()
    expect(page.locator("#r-reviewer")).to_have_value("A. Analyst")
    expect(page.locator("#r-note")).to_have_value("the block declines it in its last paragraph")
    expect(page.locator("#r-passages input:checked")).to_have_value(other_id)
    page.click("#r-cancel")


def test_an_empty_search_shows_guidance_and_a_search_shows_tags_with_their_meanings(page, site):
    from playwright.sync_api import expect

    page.click("#sform button[type=submit]")
    expect(page.locator("#guidance")).to_be_visible()
    assert page.locator(".hit").count() == 0
    expect(page.locator("#results .error")).to_have_text(
        "Type what you are looking for first; the examples below show how.")
    assert "What the filters do" in page.locator("#guidance").inner_text()
    page.screenshot(path=str(ARTIFACTS / "web_search_guidance.png"))
    page.fill("#q", "the of")  # stop words only: the API's 400, in its words, and the guidance still shown
    page.click("#sform button[type=submit]")
    expect(page.locator("#results .error")).to_have_text(
        'the query is empty; type what you are looking for, e.g. "financial support for kinship carers"')
    expect(page.locator("#guidance")).to_be_visible()

    page.fill("#q", "respite carers allowance")
    page.select_option("#mode", "lexical")
    page.select_option("#sstatus", "unpaired")
    page.fill("#sbody", "respite")
    page.click("#sform button[type=submit]")
    page.wait_for_selector(".hit")
    expect(page.locator("#guidance")).to_be_hidden()
    hits = _api(site, "/api/search?q=respite+carers+allowance&mode=lexical&status=unpaired&body=respite")
    assert page.locator(".hit").count() == len(hits) > 0
    first = page.locator(".hit").first
    assert first.locator(".tag.kind").get_attribute("title") == (
        "recommendation: an ask of the review, inquiry or committee (or a quote of one)")
    status_tag = first.locator(".tag", has_text="status: unpaired")
    assert "unpaired: no document among the inputs answers its report" in status_tag.get_attribute("title")
    sim = first.locator(".sim").inner_text()
    assert sim == f"similarity {hits[0]['similarity']:.2f}"
    assert str(hits[0]["score"]) not in page.locator("#results").inner_text()  # never the rank fusion score
    page.click("#legend summary")
    page.screenshot(path=str(ARTIFACTS / "web_search_results.png"), full_page=True)


def test_another_sites_script_cannot_read_the_token_or_write_a_correction(browser, site):
    base, out, first = site
    before = (out / "corrections.jsonl").read_bytes() if (out / "corrections.jsonl").exists() else b""
    rec_id = _api(site, "/api/alignments")[0]["rec_id"]
    other = _serve(out)  # another origin: same machine, another port
    try:
        context = browser.new_context(bypass_csp=True)  # the other site has no CSP of ours to stop its fetches
        pg = context.new_page()
        statuses = []
        pg.on("response", lambda r: statuses.append((r.request.method, r.url, r.status)) if r.url.startswith(base)
              else None)
        pg.goto(f"http://127.0.0.1:{other.server_address[1]}/")
        answers = pg.evaluate("""async ([base, token, recId]) => {
          const out = [];
          const body = JSON.stringify({rec_id: recId, status: "rejected", note: "from another site"});
          try { await (await fetch(base + "/")).text(); out.push("read the page"); } catch (e) { out.push("page unreadable"); }
          try {  // even with the real token (which it cannot read) a preflighted write fails
            const r = await fetch(base + "/api/review", {method: "POST", body,
              headers: {"Content-Type": "application/json", "X-Reviewnlp-Token": token}});
            out.push("write answered " + r.status);
          } catch (e) { out.push("write refused"); }
          const r = await fetch(base + "/api/review", {method: "POST", mode: "no-cors", body,
                                                       headers: {"Content-Type": "text/plain"}});
          out.push("simple write " + r.type);
          return out; }""", [base, first.token, rec_id])
        assert answers == ["page unreadable", "write refused", "simple write opaque"]
        assert ("POST", base + "/api/review", 403) in statuses  # the simple POST reached the server: refused
        context.close()
    finally:
        other.shutdown()
        other.server_close()
    after = (out / "corrections.jsonl").read_bytes() if (out / "corrections.jsonl").exists() else b""
    assert after == before
