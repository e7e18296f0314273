"""status: the only owner of the status; the rules baseline and the learned model behind one interface."""
import numpy as np

from reviewnlp.align.status import GAP, RulesBaseline, decide_status
from reviewnlp.align.status_model import StatusInput
from reviewnlp.records import Match


def _x(rec, *passages):
    n = len(passages)
    return StatusInput(rec, np.ones(4, np.float32), tuple(passages), np.ones((n, 4), np.float32))


def test_rules_read_money_below_the_ask_as_partial_and_fall_back_on_the_other_passages():
    rules = RulesBaseline()
    rec = "The Government should invest £2.6 billion over four years."
    assert rules.decide(_x(rec, "The Government will invest £200 million over two years.")).status == "partial"
    d = rules.decide(_x(rec, "This covers the largest providers of the services concerned.",
                        "The Government will consult on this in autumn."))
    assert (d.status, d.cue) == ("deferred", "consult on")


def test_rules_read_a_clear_rejection_and_a_pilot_elsewhere_in_the_answer():
    rules = RulesBaseline()
    assert rules.decide(_x("Fund X.", "The Government does not intend to fund X.")).status == "rejected"
    d = rules.decide(_x("Set up regional hubs in every area.", "We will set up regional hubs.",
                        "These will first be tested in three pilot areas."))
    assert d.status == "partial"


class _Always:
    model_id = "always-accepted"

    def decide(self, x):
        return RulesBaseline().decide(x).__class__("accepted", 0.9, evidence=0)


def test_nothing_answering_is_a_gap_whatever_the_model_says():
    for method in ("none", "unpaired"):
        status, rules = decide_status(Match("r", method), None, _Always())
        assert status.status == GAP and rules is None
    status, rules = decide_status(Match("r", "explicit"), _x("Fund X.", "We will fund X in full."), _Always())
    assert status.status == "accepted" and rules.status == "accepted"


class _SaysRejected:
    model_id = "says-rejected"

    def decide(self, x):
        from reviewnlp.align.status_model import StatusDecision

        return StatusDecision("rejected", 0.87, {"accepted": 0.41, "partial": 0.66, "deferred": 0.27,
                                                 "rejected": 0.87}, evidence=0)


def test_rejected_needs_an_answer_that_declines():
    # space_economy: "The UK values the close and constructive relationship ... Nonetheless, it is essential that
    # ESA continues to deliver" read as rejected, though nothing in it refuses anything (the codebook's rejected).
    m = Match("r", "explicit")
    warm = _x("The Government should work with ESA.", "The UK values the close relationship between ESA and the EU.",
              "Nonetheless, it is essential that ESA continues to deliver for all its member states.")
    status, _ = decide_status(m, warm, _SaysRejected())
    assert (status.status, status.confidence) == ("partial", 0.66) and status.rule.endswith("+no-decline")
    refusal = _x("The Government should fund X.", "The Government does not intend to fund X.")
    assert decide_status(m, refusal, _SaysRejected())[0].status == "rejected"
    verdict = StatusInput("Fund X.", np.ones(4, np.float32), ("We will keep this under review.",),
                          np.ones((1, 4), np.float32), verdict="Not accepted.")
    assert decide_status(m, verdict, _SaysRejected())[0].status == "rejected"
