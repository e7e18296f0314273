"""extent: how far one recommendation runs (a lead-in's list items, a labelled block's further asks)."""
import pytest

from reviewnlp.align.extent import asks_below, drop_contained_leadins, lead_in_items
from reviewnlp.cues import bare_leadin
from reviewnlp.records import Document, Recommendation, Segment


def _segments(text, phrases, kinds=None, labels=None, section="s"):
    doc = Document("r", "r.txt", "r", text)
    out, at = [], 0
    for n, phrase in enumerate(phrases):
        start = text.index(phrase, at)
        at = start + len(phrase)
        out.append(Segment(f"r:s{n}", "r", start, at, phrase, 1, section,
                           kind=(kinds or {}).get(n, "other"), label=(labels or {}).get(n)))
    return doc, out


@pytest.mark.parametrize("text", ["I recommend that:", "Accordingly, I recommend that:",
                                  "To this end, we recommend that the Government:", "We recommend that the"])
def test_bare_leadins_ask_nothing_yet(text):
    assert bare_leadin(text)


@pytest.mark.parametrize("text", [
    "We recommend that the Government publish a strategy.",
    "All patients who have contracted hepatitis via a blood transfusion should receive the following care:",
    "The review found that the data was poor:"])
def test_a_recommendation_that_asks_or_does_not_recommend_is_not_a_bare_leadin(text):
    assert not bare_leadin(text)


def test_a_bare_leadin_takes_its_bullets_up_to_the_one_that_ends_a_sentence():
    # The Lords committee's chapter 5 paragraph: the lead-in, three bullets, then the next paragraph.
    text = ("To this end, we recommend that the Government:\n• produce guidance for local authorities;\n"
            "• take steps to ensure that evaluation is of high quality; and\n"
            "• provide funding only for schemes based on sound evidence.\nDemonstration of rigour should be required.")
    doc, segs = _segments(text, ["To this end, we recommend that the Government:",
                                 "produce guidance for local authorities;",
                                 "take steps to ensure that evaluation is of high quality; and",
                                 "provide funding only for schemes based on sound evidence.",
                                 "Demonstration of rigour should be required."])
    assert [s.seg_id for s in lead_in_items(doc, segs[0], segs[1:])] == ["r:s1", "r:s2", "r:s3"]


def test_a_bare_leadin_over_a_numbered_heading_takes_nothing():
    # "I recommend that:" then "7. Patient Safety: Blood transfusions": the numbered list is the recommendations.
    text = "I recommend that:\n7. Patient Safety: Blood transfusions\n(a) Tranexamic acid"
    doc, segs = _segments(text, ["I recommend that:", "Patient Safety: Blood transfusions", "Tranexamic acid"])
    assert lead_in_items(doc, segs[0], segs[1:]) == []


def test_a_lead_in_cut_at_a_line_break_takes_the_line_that_finishes_it():
    text = "We recommend that the\nGovernment (a) establish targets for a reduction in car use.\nCHAPTER 8: CONCLUSIONS"
    doc, segs = _segments(text, ["We recommend that the", "Government (a) establish targets for a reduction in car use.",
                                 "CHAPTER 8: CONCLUSIONS"])
    assert [s.seg_id for s in lead_in_items(doc, segs[0], segs[1:])] == ["r:s1"]


def test_a_labelled_block_goes_on_while_it_asks():
    # dhsc, Recommendation 4: the labelled sentence sets the scene and the ask follows it.
    text = ("More work is needed to map the data on deaths. DHSC should convene the organisations that collect it. "
            "This follow up should be completed by autumn 2023. The review heard from many families.")
    doc, segs = _segments(text, ["More work is needed to map the data on deaths.",
                                 "DHSC should convene the organisations that collect it.",
                                 "This follow up should be completed by autumn 2023.",
                                 "The review heard from many families."], labels={0: "Recommendation 4"})
    got = asks_below(doc, segs[0], segs[1:], {}, segs[0].seg_id)
    assert [s.seg_id for s in got] == ["r:s1", "r:s2"]
    # A sentence already folded into another recommendation, or under a label of its own, ends the block.
    assert asks_below(doc, segs[0], segs[1:], {"r:s1": "x:other"}, segs[0].seg_id) == []


def _rec(rec_id, text):
    return Recommendation(rec_id=rec_id, doc_id="r", start=0, end=len(text), text=text, segments=(rec_id, "r:x"))


def test_a_finished_leadin_that_a_summary_restates_whole_is_left_out():
    chapter = _rec("r:s1", "We recommend that the\nGovernment publish targets.")
    summary = _rec("r:s9", "8.33 We recommend that the Government publish targets. They should report yearly.")
    other = _rec("r:s5", "To this end, we recommend that the Government: fund the pilots.")
    assert drop_contained_leadins([chapter, summary, other], {"r:s1", "r:s5"}) == [summary, other]
