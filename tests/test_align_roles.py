"""roles: what each document is, decided before anything is paired."""
import numpy as np

from reviewnlp.align.roles import assign_roles, named_role
from reviewnlp.records import Document, Segment


def _doc(doc_id, title="", path=None, text="Some text.", date=None):
    return Document(doc_id, path or f"{doc_id}.txt", title, text, date=date)


def test_names_decide_first_and_a_report_about_a_response_stays_a_report():
    assert named_role(_doc("a", "Government response to the rapid review"))[0] == "response"
    # A web print whose file name carries the word: "govt_response" is "govt response".
    assert named_role(_doc("a", "Government of the United Kingdom", "in/hol_space_govt_response.pdf"))[0] == "response"
    assert named_role(_doc("a", "Australian Government response to the Joint Standing Committee"))[0] == "response"
    assert named_role(_doc("a", "Summer 2024 disorder", "x_report.pdf",
                           "Police response to the 2024 summer disorder Second Report"))[0] == "report"
    assert named_role(_doc("a", "Government proposals", "001.txt", "Research Briefing / 20 June 2023"))[0] == "briefing"
    assert named_role(_doc("a", "Notes", "notes.txt", "Nothing here says what it is."))[0] is None


def _segs(doc_id, texts, kind):
    return [Segment(f"{doc_id}:s{i}", doc_id, 0, len(t), t, 1, None, kind) for i, t in enumerate(texts)]


def test_of_two_unnamed_documents_printing_the_same_recommendations_the_governments_voice_answers():
    recs = ["The department should publish a strategy every year.", "Providers should share data on every ward."]
    a = _segs("a", recs + ["The committee heard evidence from many witnesses about this."], "recommendation")
    b = _segs("b", recs + ["The Government will publish the strategy in the spring.",
                           "The Government agrees and will fund a new data service."], "recommendation")
    docs = [_doc("a", "Notes"), _doc("b", "Answers")]
    segs = a + b
    vecs = np.eye(len(segs), dtype=np.float32)
    vecs[3], vecs[4] = vecs[0], vecs[1]  # b prints a's two recommendations
    roles = assign_roles(docs, {"a": a, "b": b}, vecs, {s.seg_id: i for i, s in enumerate(segs)})
    assert (roles["a"].role, roles["b"].role) == ("report", "response")
    assert "speaks for the government" in roles["b"].why[0]
    # A later date outranks voice.
    docs = [_doc("a", "Notes", date="2025-01-01"), _doc("b", "Answers", date="2024-01-01")]
    roles = assign_roles(docs, {"a": a, "b": b}, vecs, {s.seg_id: i for i, s in enumerate(segs)})
    assert (roles["a"].role, roles["b"].role) == ("response", "report")


def test_a_named_response_fixes_the_document_it_copies_as_its_report():
    recs = ["The department should publish a strategy every year.", "Providers should share data on every ward."]
    a, b = _segs("a", recs, "recommendation"), _segs("b", recs, "recommendation")
    docs = [_doc("a", "Rapid review into data"), _doc("b", "Government response to the rapid review")]
    vecs = np.vstack([np.eye(2), np.eye(2)]).astype(np.float32)
    roles = assign_roles(docs, {"a": a, "b": b}, vecs, {s.seg_id: i for i, s in enumerate(a + b)})
    assert (roles["a"].role, roles["b"].role) == ("report", "response")
