"""Alignment logic on small documents, with a deterministic embedder (the real model is tested elsewhere)."""
import numpy as np

from reviewnlp.align import align
from reviewnlp.extract.build import DocumentBuilder
from reviewnlp.records import Segment
from reviewnlp.segment import segment_document

REPORT = [
    ("Final report", 1),
    ("The review was published on 23 May 2022. Its recommendations included:", None),
    ("• Local authorities should pay a financial allowance to kinship carers at the fostering rate.", None),
    ("• The Government should invest around £2 billion in Family Help services for families.", None),
    ("• A windfall tax should be levied on profits of the largest children's home providers.", None),
    ("• The Government should make care experience a protected characteristic.", None),
]
RESPONSE = [
    ("Government response", 1),
    ("The Government published its response on 2 February 2023.", None),
    ("It says the Government will:", None),
    ("• Explore the case for mandating a financial allowance for kinship carers.", None),
    ("• Provide £45 million for Family Help services for families in pathfinder areas.", None),
    ("The Government rejected the recommendation that care experience become a protected characteristic.", None),
]


def _doc(paras, doc_id):
    b = DocumentBuilder()
    for text, heading in paras:
        b.add(text, page=1, heading=heading)
    return b.build(doc_id, f"{doc_id}.txt", "test")


def _align(fake_embedder, report, response, names=("report", "response")):
    docs = [_doc(report, names[0]), _doc(response, names[1])]
    segs = [s for d in docs for s in segment_document(d)]
    vecs = fake_embedder.encode([s.text for s in segs])
    return align(docs, segs, vecs, {s.seg_id: i for i, s in enumerate(segs)})


def _run(fake_embedder, response=RESPONSE):
    return {a.recommendation_text: a for a in _align(fake_embedder, REPORT, response)}


def _rules(a):
    """The cue rules' reading, which the classifier takes as features (the fake embedder makes the
    classifier's own verdict meaningless here; tests/test_status.py checks it with real vectors)."""
    assert a.status_method.startswith("model+status-") and a.status in ("accepted", "partial", "deferred", "rejected")
    return a.status_evidence["rules"]["status"]


def test_statuses_and_gaps(fake_embedder):
    rows = _run(fake_embedder)
    allowance = rows["Local authorities should pay a financial allowance to kinship carers at the fostering rate."]
    assert _rules(allowance) == "deferred" and allowance.response_text.startswith("Explore the case")
    assert allowance.response_doc_id == "response" and allowance.status_evidence["rules"]["cue"].lower().startswith("explore")
    money = rows["The Government should invest around £2 billion in Family Help services for families."]
    assert _rules(money) == "partial" and "£45 million" in money.response_text
    assert _rules(rows["The Government should make care experience a protected characteristic."]) == "rejected"
    tax = rows["A windfall tax should be levied on profits of the largest children's home providers."]
    assert tax.status == "gap" and tax.response_text is None


def test_response_cannot_predate_recommendation(fake_embedder):
    early = [(t.replace("2 February 2023", "2 February 2021"), h) for t, h in RESPONSE]
    rows = _run(fake_embedder, early)
    assert {a.status for a in rows.values()} == {"gap"}


def test_reprinted_recommendation_is_an_anchor_not_a_row(fake_embedder):
    reprint = RESPONSE[:2] + [
        ("Recommendation 1: Local authorities should pay a financial allowance to kinship carers at the fostering rate.",
         None),
        ("Response: We are carefully considering how best to support these families.", None),
    ]
    rows = _run(fake_embedder, reprint)
    assert len(rows) == 4  # the reprint is not a fifth recommendation
    allowance = rows["Local authorities should pay a financial allowance to kinship carers at the fostering rate."]
    assert allowance.response_text == "We are carefully considering how best to support these families."
    assert _rules(allowance) == "deferred"


NUMBERED_REPORT = [
    ("Inquiry report", 1),
    ("The inquiry reported on 1 March 2024.", None),
    ("Recommendation 1: The Cabinet Office should publish a single resilience strategy every three years.", None),
    ("Recommendation 2: Local resilience forums should run a pandemic exercise each year with the NHS.", None),
]
NUMBERED_RESPONSE = [
    ("Government response to the inquiry report", 1),
    ("The government published this response on 1 September 2024.", None),
    ("Recommendation 1: A resilience strategy, published every three years.", None),
    ("The government accepts this recommendation and will publish the strategy in 2025.", None),
    ("Recommendation 2: Annual exercises for forums.", None),
    ("The government does not accept this recommendation because exercises are planned nationally.", None),
]


def test_numbered_reprints_fold_by_number_and_their_answers_are_explicit(fake_embedder):
    rows = _align(fake_embedder, NUMBERED_REPORT, NUMBERED_RESPONSE, ("inq", "resp"))
    # The paraphrased reprints are not rows of their own: two recommendations, two rows.
    assert [a.rec_doc_id for a in rows] == ["inq", "inq"]
    first, second = rows
    assert first.match == "explicit" and _rules(first) == "accepted"
    assert first.response_text.startswith("The government accepts this recommendation")
    assert _rules(second) == "rejected" and second.response_doc_id == "resp"


def test_one_passage_can_answer_several_recommendations(fake_embedder):
    report = REPORT[:2] + [
        ("• The Government should fund regional fostering recruitment hubs for foster carers.", None),
        ("• The Government should fund a national fostering recruitment campaign for foster carers.", None),
    ]
    response = RESPONSE[:3] + [
        ("• Provide £27 million for regional fostering recruitment hubs and a national recruitment campaign for "
         "foster carers.", None)]
    rows = _align(fake_embedder, report, response)
    answered = [a for a in rows if a.response_text and "£27 million" in a.response_text]
    assert len(answered) == 2
    assert all(a.responses and a.responses[0]["seg_id"] == a.response_id for a in answered)


GROUPED_RESPONSE = [
    ("Government response to the inquiry report", 1),
    ("The government published this response on 1 September 2024.", None),
    ("Contents", 1),
    ("Recommendation 1: Resilience strategy ........................ 4", None),
    ("Recommendation 2: Annual exercises ............................ 6", None),
    ("Recommendation 1: A resilience strategy, published every three years.", None),
    ("Recommendation 2: Annual exercises for forums.", None),
    ("These recommendations are accepted in principle by the government, which will set out a timetable.", None),
]


def test_a_run_of_numbers_shares_the_answer_that_follows_and_contents_lines_are_skipped(fake_embedder):
    rows = _align(fake_embedder, NUMBERED_REPORT, GROUPED_RESPONSE, ("inq", "resp"))
    assert len(rows) == 2 and all("......" not in a.recommendation_text for a in rows)
    for a in rows:
        assert a.match == "explicit" and _rules(a) == "partial" and a.status_evidence["rules"]["cue"] == "accepted in principle"
        assert a.response_text.startswith("These recommendations are accepted in principle")
