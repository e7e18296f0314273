"""recommendations: copies fold into one canonical record; a response's copies are anchors."""
import numpy as np

from reviewnlp.align.recommendations import find_quotes, informal_restatements, list_continuations, prefer_answered
from reviewnlp.extract.build import DocumentBuilder
from reviewnlp.records import Document, Role, Segment


def _doc(doc_id, date):
    return Document(doc_id, f"{doc_id}.txt", doc_id, "x", date=date)


def test_list_continuations_fold_into_the_numbered_item_above_only_inside_a_recommendations_list():
    text = ("Chapter 2\nThe UK government should act.\nIt should also report.\n"
            "List of recommendations\nThe UK government should hold an exercise.\nThis should be done in a year.")
    b = DocumentBuilder()
    for line, heading in [("Chapter 2", 1), ("The UK government should act.", None), ("It should also report.", None),
                          ("List of recommendations", 1), ("The UK government should hold an exercise.", None),
                          ("This should be done in a year.", None)]:
        b.add(line, page=1, heading=heading)
    doc = b.build("r", "r.txt", "t")
    assert doc.text == text

    def seg(n, phrase, label=None):
        start = text.index(phrase)
        return Segment(f"r:s{n}", "r", start, start + len(phrase), phrase, 1, doc.section_at(start),
                       kind="recommendation", label=label)

    segs = [seg(0, "The UK government should act.", "Recommendation 1"), seg(1, "It should also report."),
            seg(2, "The UK government should hold an exercise.", "Recommendation 2"),
            seg(3, "This should be done in a year.")]
    # Outside the list the second sentence stays a recommendation of its own; inside, it finishes item 2.
    assert list_continuations(segs, {"r": doc}) == {"r:s3": "r:s2"}


def test_an_unnumbered_ask_discussing_a_numbered_recommendation_folds_into_it():
    def seg(n, label, vec):
        return Segment(f"r:s{n}", "r", n * 10, n * 10 + 5, "x" * 5, 1, "s", kind="recommendation", label=label), vec

    e = np.eye(5, dtype=np.float32)
    near = (0.8 * e[3] + 0.6 * e[4]).astype(np.float32)  # cosine 0.8 to numbered recommendation 3
    items = [seg(0, "Recommendation 1", e[0]), seg(1, "Recommendation 2", e[1]), seg(2, "Recommendation 3", e[3]),
             seg(3, "6", near), seg(4, None, e[2])]
    recs = [s for s, _ in items]
    vectors = np.stack([v for _, v in items])
    row_of = {s.seg_id: i for i, s in enumerate(recs)}
    assert informal_restatements(recs, {}, vectors, row_of) == {"r:s3": "r:s2"}
    # With fewer than three numbered recommendations the report does not number them: nothing folds.
    assert informal_restatements(recs[1:], {}, vectors, row_of) == {}


def test_the_copy_a_response_answers_becomes_the_canonical_one():
    doc_of = {"r:body": "r", "r:summary": "r", "r:item": "r", "resp:reprint": "resp"}
    quotes = {"r:summary": "r:body", "r:item": "r:body", "resp:reprint": "r:body"}
    # The response answers the summary copy: it becomes the original and everything follows it.
    assert prefer_answered(quotes, {"r:summary"}, doc_of) == {
        "r:body": "r:summary", "r:item": "r:summary", "resp:reprint": "r:summary"}
    # When the first copy is itself answered, or nothing is, nothing moves.
    assert prefer_answered(quotes, {"r:body", "r:summary"}, doc_of) == quotes
    assert prefer_answered(quotes, set(), doc_of) == quotes


def test_find_quotes_needs_near_identity_and_points_to_the_earlier_document():
    segs = [Segment(f"{d}:s{i}", d, 0, 1, "x", None, None, "recommendation") for d in "ab" for i in range(3)]
    vecs = np.eye(6, dtype=np.float32)
    vecs[2] = vecs[0]  # a:s2 repeats a:s0 in the report's closing list
    vecs[3] = vecs[0]  # b:s0 reprints it in the response
    vecs[4] = 0.8 * vecs[1] + 0.6 * vecs[5]  # b:s1 is only similar to a:s1
    row_of = {s.seg_id: i for i, s in enumerate(segs)}
    docs = {"a": _doc("a", "2022-05-23"), "b": _doc("b", "2023-02-02")}
    roles = {d: Role(d, "other") for d in "ab"}
    assert find_quotes(segs, vecs, row_of, {"a": ["b"], "b": ["a"]}, roles, docs) == {"a:s2": "a:s0", "b:s0": "a:s0"}
    docs = {"a": _doc("a", "2024-01-01"), "b": _doc("b", "2023-02-02")}
    # Every copy resolves to the one original, wherever it sits.
    assert find_quotes(segs, vecs, row_of, {"a": ["b"], "b": ["a"]}, roles, docs) == {"a:s2": "b:s0", "a:s0": "b:s0"}
    # Roles outrank dates: the report holds the originals even when the response is dated earlier.
    roles = {"a": Role("a", "report"), "b": Role("b", "response")}
    assert find_quotes(segs, vecs, row_of, {"a": ["b"], "b": ["a"]}, roles, docs) == {"a:s2": "a:s0", "b:s0": "a:s0"}



def test_who_recommends_is_the_reports_author_unless_the_text_quotes_another_body():
    from reviewnlp.align.recommendations import body_of
    from reviewnlp.align.roles import author_of

    report = Document("r", "r.pdf", "UK Covid-19 Inquiry - Module 1",
                      "UK Covid-19 Inquiry\nModule 1: The resilience of the United Kingdom\nThe Crisis Capabilities "
                      "Review found gaps.")
    role = Role("r", "report", (), author_of(report))
    seg = Segment("r:s1", "r", 0, 1, "x", 1, None, "recommendation", body="Crisis Capabilities Review")
    assert body_of(seg, "The UK government should hold a pandemic exercise every three years.", role) == "UK Covid-19 Inquiry"
    assert body_of(seg, "The Crisis Capabilities Review recommended that a red team be set up.", role) == \
        "Crisis Capabilities Review"
    assert body_of(seg, "The Committee recommends that the Government publish its plan.", role) == "UK Covid-19 Inquiry"
    # A briefing reports several bodies: the one the segmenter found in context stands.
    assert body_of(seg, "It should publish data.", Role("r", "briefing")) == "Crisis Capabilities Review"
    web = Document("w", "w.pdf", "Rapid review into data: final report - GOV.UK", "Independent report")
    assert author_of(web) == "Rapid review into data: final report"
