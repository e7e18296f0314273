"""match: structure first, retrieval only without a block, and what dates may and may not rule out."""
from reviewnlp.align.match import section_words
from reviewnlp.vocab import idf_share
from reviewnlp.extract.build import DocumentBuilder
from reviewnlp.records import Document

from test_align_stages import REPORT, RESPONSE, _align, _doc


def _dated(doc: Document, date: str) -> Document:
    return Document(**{**doc.to_dict(), "date": date, "pages": doc.pages, "sections": doc.sections})


def test_an_answer_under_a_reprint_answers_whatever_a_web_prints_dates_say(fake_embedder):
    """dhsc: the report's print says "Updated 21 March 2024"; its response was published months before."""
    report = _dated(_doc(REPORT, "report", "Report of the inquiry", "inquiry_report.pdf"), "2024-03-21")
    response = _dated(_doc(RESPONSE, "resp", "Government response to the inquiry", "govt_response.pdf"), "2023-06-28")
    rows, _ = _align(fake_embedder, report, response)
    answered = [a for a in rows if a.match == "explicit"]
    assert len(answered) == 2 and all(a.response_doc_id == "resp" for a in answered)


def test_idf_share_weights_rare_words_and_section_words_drop_numbers():
    assert idf_share(["kinship", "care"], {"kinship"}, {"kinship": 3.0, "care": 1.0}) == 0.75
    assert idf_share([], {"x"}, {}) == 0.0
    assert section_words("Recommendation 5: Kinship care") == {"kinship", "care"}
