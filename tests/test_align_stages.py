"""Structure: answer blocks, the passage that decides, pairing by reprints, and the rows a report keeps.

Each test pins one failure class seen on real report/response pairs, on small documents built like
them (the deterministic fake embedder stands in for MiniLM; the real model runs in the slow tests).
"""
import json

import numpy as np
import pytest

from reviewnlp.align import align
from reviewnlp.extract.build import DocumentBuilder
from reviewnlp.segment import segment_document

from conftest import SHARED_EVAL


def _doc(paras, doc_id, title="test", path=None):
    b = DocumentBuilder()
    for text, heading in paras:
        b.add(text, page=1, heading=heading)
    return b.build(doc_id, path or f"{doc_id}.txt", title)


def _align(embedder, *docs):
    segs = [s for d in docs for s in segment_document(d)]
    vecs = embedder.encode([s.text for s in segs])
    pairing = {}
    rows = align(docs, segs, vecs, {s.seg_id: i for i, s in enumerate(segs)}, pairing=pairing)
    return rows, pairing


REPORT = [
    ("Report of the inquiry into civil emergencies", 1),
    ("The inquiry published this report on 18 July 2024.", None),
    ("Recommendation 1: A single ministerial committee", None),
    ("The UK government should replace its resilience committees with a single ministerial committee for "
     "whole-system civil emergency preparedness.", None),
    ("Recommendation 2: Leadership of preparedness", None),
    ("The UK government should require the Cabinet Office to lead on preparing for whole-system civil "
     "emergencies across departments.", None),
    ("Recommendation 3: Data for research", None),
    ("The UK government should establish mechanisms for the timely collection and sharing of data for research.",
     None),
]
# Printed from a web page: no title word "response", no date the extractor finds, reprints in full.
RESPONSE = [
    ("Civil emergencies: answers", 1),
    ("Recommendation 1: A single ministerial committee", None),
    ("The UK government should replace its resilience committees with a single ministerial committee for "
     "whole-system civil emergency preparedness.", None),
    ("The government agrees that clear governance is needed to build resilience across the UK.", None),
    ("The Prime Minister established a single ministerial committee in July 2024 to oversee resilience.", None),
    ("Recommendation 2: Leadership of preparedness", None),
    ("The UK government should require the Cabinet Office to lead on preparing for whole-system civil "
     "emergencies across departments.", None),
    ("The government agrees with the importance of strong leadership for preparedness.", None),
    ("We will retain the Lead Government Department model, with a greater role for the Cabinet Office.", None),
]


def test_a_web_print_response_pairs_by_its_reprints_and_its_reprints_are_not_rows(fake_embedder):
    report = _doc(REPORT, "report", "Report of the inquiry", "inquiry_report.pdf")
    response = _doc(RESPONSE, "webprint", "Civil emergencies: answers", "page.pdf")
    rows, pairing = _align(fake_embedder, report, response)
    assert [a.rec_doc_id for a in rows] == ["report"] * 3
    assert pairing["report"]["partners"] == [
        {"doc_id": "webprint", "path": "page.pdf", "why": "reprints 2 of its recommendations"}]
    assert pairing["report"]["unpaired"] is False
    assert [(a.match, a.response_doc_id) for a in rows[:2]] == [("explicit", "webprint")] * 2


def test_the_decision_is_the_sentence_that_commits_not_the_warm_opening(fake_embedder):
    report = _doc(REPORT, "report", "Report of the inquiry", "inquiry_report.pdf")
    response = _doc(RESPONSE, "webprint", "Civil emergencies: answers", "page.pdf")
    rows, _ = _align(fake_embedder, report, response)
    second = rows[1]
    assert second.response_text.startswith("We will retain the Lead Government Department model")
    # The whole answer travels with it: the government's own words, the reprint left out.
    block = second.response_block
    assert block["text"].startswith("The government agrees with the importance of strong leadership")
    assert block["text"].endswith("with a greater role for the Cabinet Office.")
    assert response.text[block["start"]:block["end"]] == block["text"]
    # The status evidence is a passage of the block, with true offsets (which one depends on the status
    # the classifier gives; with the fake embedder that status means nothing, so it is not pinned here).
    ev = second.status_evidence
    assert block["start"] <= ev["start"] < ev["end"] <= block["end"] and response.text[ev["start"]:ev["end"]] == ev["text"]
    assert response.text[second.response_start:second.response_end] == second.response_text


def test_a_printed_verdict_line_decides_its_block(fake_embedder):
    verdict = RESPONSE[:3] + [
        ("The government agrees that clear governance is needed to build resilience across the UK.", None),
        ("This recommendation is accepted in full.", None),
        ("A single committee now oversees resilience.", None)]
    rows, _ = _align(fake_embedder, _doc(REPORT, "report", "Report of the inquiry", "inquiry_report.pdf"),
                     _doc(verdict, "resp", "Government response", "govt_response.pdf"))
    first = next(a for a in rows if "single ministerial committee" in a.recommendation_text)
    assert first.response_text == "This recommendation is accepted in full."
    assert first.response_block["verdict"]["text"] == "This recommendation is accepted in full."
    assert first.status_evidence["rules"]["status"] == "accepted"


def test_a_report_alone_lists_its_recommendations_as_unpaired_gaps(fake_embedder):
    report = _doc(REPORT + [("The government has said it will publish a new strategy in 2025.", None)],
                  "report", "Report of the inquiry", "inquiry_report.pdf")
    rows, pairing = _align(fake_embedder, report)
    assert len(rows) == 3 and {(a.status, a.match, a.response_text) for a in rows} == {("gap", "unpaired", None)}
    assert pairing["report"]["unpaired"] is True


def test_a_list_items_later_sentences_fold_into_the_numbered_recommendation(fake_embedder):
    report = REPORT + [
        ("Appendix 1: List of recommendations", 1),
        ("Recommendation 3: Exercises", None),
        ("The UK government should hold a UK-wide pandemic response exercise at least every three years.", None),
        ("The exercise should be put in place within 12 months of the publication of this report.", None),
    ]
    rows, _ = _align(fake_embedder, _doc(report, "report", "Report of the inquiry", "inquiry_report.pdf"),
                     _doc(RESPONSE, "webprint", "Civil emergencies: answers", "page.pdf"))
    texts = [a.recommendation_text for a in rows]
    assert len(texts) == 4
    assert not any(t.startswith("The exercise should be put in place") for t in texts)
    assert sum("pandemic response exercise" in t for t in texts) == 1


def test_an_unnumbered_lead_in_is_not_a_row_but_a_numbered_parent_is(fake_embedder):
    report = REPORT[:2] + [
        ("Accordingly, I recommend that:", None),
        ("(a) The UK government should establish a permanent memorial to those affected.", None),
        ("(b) The UK government should maintain the inquiry website with full functionality online.", None),
    ]
    rows, _ = _align(fake_embedder, _doc(report, "report", "Report of the inquiry", "inquiry_report.pdf"))
    assert [a.label for a in rows] == ["a", "b"]
    assert not any(a.recommendation_text.endswith(":") for a in rows)


def test_records_round_trip_the_answer_block(fake_embedder):
    from reviewnlp.records import Alignment

    rows, _ = _align(fake_embedder, _doc(REPORT, "report", "Report of the inquiry", "inquiry_report.pdf"),
                     _doc(RESPONSE, "webprint", "Civil emergencies: answers", "page.pdf"))
    again = Alignment.from_dict(json.loads(json.dumps(rows[0].to_dict())))
    assert again == rows[0] and again.response_block["pages"] == [1]


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_EVAL / "score.py").exists(), reason="shared eval kit not present")
def test_home_affairs_pair_end_to_end(tmp_path, real_embedder):
    """The bundled Home Affairs pair, run alone, scored by the shared scorer: every row a gold item."""
    import subprocess
    import sys

    from conftest import CORPUS
    from reviewnlp.pipeline import run

    out = tmp_path / "ha"
    run([CORPUS / "dev" / "hoc_home_affairs_summer2024_disorder_report.pdf",
         CORPUS / "dev" / "hoc_home_affairs_summer2024_disorder_govt_response.pdf"], out, embedder=real_embedder)
    res = json.loads(subprocess.run([sys.executable, str(SHARED_EVAL / "score.py"), str(out / "alignments.jsonl"),
                                     str(SHARED_EVAL / "gold" / "home_affairs.jsonl"), "--precision", "--json"],
                                    capture_output=True, text=True, check=True).stdout)
    assert res["recall"] == 1.0 and res["precision"] == 1.0 and res["block_accuracy"] == 1.0
    assert res["response_accuracy"] >= 0.6
    manifest = json.loads((out / "run.json").read_text())
    assert any(p["why"].startswith("reprints") for v in manifest["pairing"].values() for p in v["partners"])


def test_a_committee_summary_chapter_printed_as_a_plain_line_holds_its_numbered_asks():
    paras = [("Behaviour change", 1), ("8.1. Early discussion should be elsewhere.", None),
             ("CHAPTER 8: CONCLUSIONS AND RECOMMENDATIONS", None),
             ("8.2. There is a lack of applied research. To address this problem, the Government will need both to "
              "evaluate its interventions and commission more research (paragraph 3.10).", None),
             ("8.3. We acknowledge that there will be occasions when a government does not act.", None),
             ("8.4. Departmental Chief Scientific Advisers should be responsible for contacts with scientists.", None),
             ("8.5. Although decentralising responsibility may help, we recommend that the Department of Health:",
              None),
             ("• produce guidance for local authorities on how to use evidence effectively;", None),
             ("• provide funding only for those schemes which are based on sound evidence.", None),
             ("APPENDIX 1: LIST OF MEMBERS", None),
             ("9.1. Members should declare their interests.", None)]
    segs = segment_document(_doc(paras, "r", "Behaviour Change", "hol_report.pdf"))
    recs = {s.label: s.text for s in segs if s.kind == "recommendation"}
    assert set(recs) >= {"8.2", "8.4"} and "8.3" not in recs
    items = [s.text for s in segs if s.kind == "recommendation" and s.text.startswith(("produce", "provide"))]
    assert items == ["produce guidance for local authorities on how to use evidence effectively;",
                     "provide funding only for those schemes which are based on sound evidence."]
    assert recs["8.2"].startswith("There is a lack of applied research.") and "will need both to" in recs["8.2"]


SCANNED_ANSWERS = [
    ("Scanned page", 1),
    ("Recommendation 1", None),
    ("Accepted. A single ministerial committee was set up in July 2024 and meets monthly.", None),
    ("Recommendation 2", None),
    ("Not accepted. We will keep the Lead Government Department model for each risk.", None),
    ("Recommendation 3", None),
    ("Accepted in principle. We will pilot data sharing with two universities in 2025.", None),
]


def test_numbered_answers_without_reprints_pair_by_number_and_answer_their_recommendation(fake_embedder):
    # An image-only response read by OCR: no title, no date, no reprints; only the numbers and the answers.
    rows, pairing = _align(fake_embedder, _doc(REPORT, "report", "Report of the inquiry", "inquiry_report.pdf"),
                           _doc(SCANNED_ANSWERS, "scan", "", "scan_0001.pdf"))
    assert pairing["report"]["partners"] == [
        {"doc_id": "scan", "path": "scan_0001.pdf", "why": "answers 3 of its recommendation numbers"}]
    assert [a.rec_doc_id for a in rows] == ["report"] * 3
    assert [(a.match, a.status_evidence["rules"]["status"]) for a in rows] == [
        ("explicit", "accepted"), ("explicit", "rejected"), ("explicit", "partial")]
    assert rows[1].response_text == "Not accepted."


@pytest.mark.slow
@pytest.mark.parametrize("report,response", [
    ("covid_inquiry_module1_report.pdf", "covid_inquiry_module1_govt_response.pdf"),
    ("infected_blood_inquiry_vol1_report.pdf", "infected_blood_inquiry_govt_response.pdf"),
])
def test_bundled_pairs_keep_one_row_per_recommendation_and_answer_from_blocks(tmp_path, real_embedder, report,
                                                                             response):
    """The failure classes on the real documents: contents entries, a list item's later sentences, the
    response's reprints and contents made rows; the warm opening chosen over the sentence that decides."""
    from conftest import CORPUS
    from reviewnlp.align.blocks import CONTENTS_LINE_RE, CONTENTS_RE
    from reviewnlp.pipeline import run
    from reviewnlp.records import Alignment, read_jsonl

    out = tmp_path / "pair"
    run([CORPUS / "dev" / report, CORPUS / "dev" / response], out, embedder=real_embedder)
    rows = list(read_jsonl(out / "alignments.jsonl", Alignment))
    docs = {json.loads(l)["doc_id"]: json.loads(l)["path"] for l in (out / "documents.jsonl").open()}
    assert {docs[a.rec_doc_id].endswith(report) for a in rows} == {True}
    assert not any(CONTENTS_RE.search(a.recommendation_text) or CONTENTS_LINE_RE.match(a.recommendation_text)
                   for a in rows)
    assert not any(a.recommendation_text.startswith("This should be put in place") for a in rows)
    from reviewnlp.vocab import label_key

    numbered = [a for a in rows if label_key(a.label)]
    answered = [a for a in numbered if a.match == "explicit" and a.response_block]
    assert len(numbered) >= 10 and len(answered) >= 0.9 * len(numbered)
    assert not any(a.response_text.startswith("The government agrees that clear governance is needed")
                   for a in answered)
    if report.startswith("covid"):
        second = next(a for a in rows if a.label == "Recommendation 2")
        assert "we will retain the Lead Government Department model" in second.response_text


def test_shared_numbers_alone_never_pair_unrelated_documents(fake_embedder):
    other = [("Review of fostering", 1), ("The review reported on 2 March 2024.", None),
             ("Recommendation 1: Fostering allowances", None),
             ("Local authorities should pay foster carers an allowance at the national minimum rate.", None),
             ("Recommendation 2: Recruitment hubs", None),
             ("The Department for Education should fund regional fostering recruitment hubs.", None),
             ("Recommendation 3: Kinship leave", None),
             ("Employers should give kinship carers paid leave on the same terms as adoption leave.", None)]
    rows, pairing = _align(fake_embedder, _doc(REPORT, "report", "Report of the inquiry", "inquiry_report.pdf"),
                           _doc(SCANNED_ANSWERS, "scan", "", "scan_0001.pdf"),
                           _doc(other, "fostering", "Review of fostering", "fostering_review.pdf"))
    assert pairing["report"]["partners"] == [
        {"doc_id": "scan", "path": "scan_0001.pdf", "why": "answers 3 of its recommendation numbers"}]
    # The scan is the only government text in the run, so it stays a candidate by affinity, but its numbers
    # answer the inquiry's recommendations, not the fostering review's.
    assert not any(p["why"].startswith("answers") for p in pairing["fostering"]["partners"])
    assert not any(a.match == "explicit" for a in rows if a.rec_doc_id == "fostering")


def test_a_numbered_lead_in_and_its_items_are_one_row_spanning_both(fake_embedder):
    paras = [("Behaviour change", 1), ("CHAPTER 8: CONCLUSIONS AND RECOMMENDATIONS", None),
             ("8.4. Departmental Chief Scientific Advisers should be responsible for contacts with scientists.", None),
             ("8.5. Although decentralising responsibility may help, we recommend that the Department of Health:",
              None),
             ("• produce guidance for local authorities on how to use evidence effectively;", None),
             ("• provide funding only for those schemes which are based on sound evidence.", None)]
    doc = _doc(paras, "r", "Behaviour Change", "hol_report.pdf")
    rows, _ = _align(fake_embedder, doc)
    row = next(a for a in rows if a.label == "8.5")
    assert row.recommendation_text.endswith("which are based on sound evidence.")
    assert "• produce guidance for local authorities" in row.recommendation_text
    assert doc.text[row.rec_start:row.rec_end] == row.recommendation_text
    assert len(rows) == 2 and row.rec_copies == ()




def test_a_response_printing_more_recommendations_than_its_report_is_still_the_response(fake_embedder):
    """dhsc: two GOV.UK prints with the same "Updated" date; the response reprints every recommendation and
    adds asks of its own, so by counts it looked like the report and each was paired as answering the other."""
    extra = [("The department should also publish the data every quarter.", None)]
    response = RESPONSE[:5] + extra + RESPONSE[5:]
    report = _doc(REPORT, "report", "Rapid review into civil emergencies: final report", "review_govuk_print.pdf")
    resp = _doc(response, "resp", "Government response to the rapid review", "review_govt_response_govuk_print.pdf")
    report, resp = (type(report)(**{**report.to_dict(), "date": "2024-03-21", "pages": report.pages,
                                    "sections": report.sections}) for report in (report, resp))
    rows, pairing = _align(fake_embedder, report, resp)
    assert pairing["report"]["role"] == "report" and pairing["resp"]["role"] == "response"
    assert {a.rec_doc_id for a in rows} == {"report"} and len(rows) == 3
    assert [a.match for a in rows[:2]] == ["explicit", "explicit"]


def test_a_response_reprinting_whole_paragraphs_finds_the_reports_plain_paragraphs(fake_embedder):
    """space_economy: the report prints its asks as plain summary paragraphs the segmenter does not mark; the
    response reprints each as one "Recommendation N" paragraph holding several of the report's sentences."""
    report = _doc([("The space economy: act now", 1),
                   ("Summary of conclusions", 1),
                   ("The Government has recognised space as critical national infrastructure and ought to prioritise "
                    "funding for space accordingly. It should also publish its space budget every spring.", None),
                   ("Grant funding calls from the agency ought to be streamlined and occur at a known time each "
                    "year. Firms told us that the uncertainty of calls held back their plans.", None)],
                  "report", "The space economy: act now", "space_report.pdf")
    response = _doc([("Government of the United Kingdom", 1),
                     ("Recommendation 1: The Government has recognised space as critical national infrastructure "
                      "and ought to prioritise funding for space accordingly. It should also publish its space budget "
                      "every spring.", None),
                     ("The Government increased the core civil space budget by 8% this year.", None),
                     ("Recommendation 2: Grant funding calls from the agency ought to be streamlined and occur at a "
                      "known time each year. Firms told us that the uncertainty of calls held back their plans.", None),
                     ("We will publish a timetable of grant funding calls every April.", None)],
                    "resp", "Government of the United Kingdom", "space_govt_response.pdf")
    rows, pairing = _align(fake_embedder, report, response)
    assert pairing["resp"]["role"] == "response"
    assert [a.rec_doc_id for a in rows] == ["report", "report"]
    first, second = rows
    assert first.recommendation_text.startswith("The Government has recognised space")
    assert first.recommendation_text.endswith("every spring.")  # the asks of the paragraph the response reprints
    # What the response reprints as the recommendation is the recommendation, its reasons included ("Firms told
    # us ..."): one row, never a row per sentence.
    assert second.recommendation_text.startswith("Grant funding calls")
    assert second.recommendation_text.endswith("held back their plans.")
    assert report.text[first.rec_start:first.rec_end] == first.recommendation_text
    assert second.match == "explicit" and second.response_text.startswith("We will publish a timetable")


def test_a_response_alone_answers_the_recommendations_it_quotes(fake_embedder):
    """aus_pacific_women: an Australian Government response with no report beside it."""
    response = _doc([("Australian Government response to the Joint Standing Committee report", 1),
                     ("Recommendation 1", None),
                     ("The Committee recommends that the Australian Government extend the program for ten years.", None),
                     ("The Australian Government supports this recommendation and will extend the program.", None),
                     ("Recommendation 2", None),
                     ("The Committee recommends that the Australian Government publish annual progress reports.", None),
                     ("The Australian Government notes this recommendation and will consider annual reporting.", None)],
                    "aus", "Australian Government response to the Joint Standing Committee report", "aus_response.txt")
    rows, pairing = _align(fake_embedder, response)
    assert pairing["aus"]["role"] == "response"
    assert [a.label for a in rows] == ["Recommendation 1", "Recommendation 2"]
    assert all(a.match == "explicit" and a.response_doc_id == "aus" for a in rows)
    assert rows[0].response_text.startswith("The Australian Government supports this recommendation")
