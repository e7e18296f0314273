"""decide: one scoring picks the passage that carries the decision."""
import numpy as np

from reviewnlp.align.decide import decision_scores, deciding_passage, decisiveness


def test_commitments_refusals_and_deferrals_decide_more_than_warm_words():
    warm = decisiveness("The government agrees with the Inquiry's insights, and they align with our own reflections.")
    for text in ("We will retain the Lead Government Department model.",
                 "The Government does not intend to set targets at this time.",
                 "We will consider how the work of experts could be called upon."):
        assert decisiveness(text) > warm


def test_decision_scores_prefer_the_sentence_about_the_ask_among_equal_commitments():
    texts = ["We will publish a strategy on violence.", "We will publish the media protocol in autumn."]
    scores = decision_scores(texts, lexical=np.array([0.0, 0.8]), dense=np.array([0.2, 0.6]))
    assert int(np.argmax(scores)) == 1



def test_the_deciding_passage_is_not_a_list_fragment_or_the_warm_opening():
    texts = ["The government agrees that clear governance is needed.", "including the Cabinet Office and",
             "We will establish a single ministerial committee by July."]
    vecs = np.eye(3, dtype=np.float32)
    rec = np.ones(3, np.float32)
    assert deciding_passage("A single ministerial committee should be established.", rec, texts, vecs) == 2
    assert deciding_passage("x", rec, [], np.zeros((0, 3), np.float32)) is None
