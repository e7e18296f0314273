"""The status classifier: features over the whole answer, the shipped model, evidence and calibration."""
import json
from pathlib import Path

import numpy as np
import pytest

from reviewnlp.errors import ReviewNLPError
from reviewnlp.align.status_model import (CLASSES, HAND_FEATURES, AcceptableSet, StatusInput, asks, column_blocks,
                                          ece, family_features, hand_features, load, platt, select, status_features)
from reviewnlp.vocab import verdict_class

ROOT = Path(__file__).resolve().parent.parent


def _x(rec: str, passages: list[str], verdict: str | None = None) -> StatusInput:
    rng = np.random.default_rng(len(rec))
    rv = rng.normal(size=384).astype(np.float32)
    pv = np.stack([rv + rng.normal(scale=1.0, size=384).astype(np.float32) for _ in passages])
    return StatusInput(rec, rv, tuple(passages), pv, verdict)


def _f(x: StatusInput) -> dict[str, float]:
    return dict(zip(HAND_FEATURES, hand_features(x)))


def test_verdict_class_reads_not_accepted_before_accepted():
    assert verdict_class("This recommendation is not accepted.") == "not"
    assert verdict_class("This recommendation is accepted in principle by the Scottish Government.") == "principle"
    assert verdict_class("The government accepts this recommendation.") == "full"
    assert verdict_class(None) is None


def test_asks_split_lettered_parts_and_sentences():
    rec = ("That the Secretary of State appoint a Chief Construction Adviser with a budget, including: "
           "a) monitoring the department's work on the Building Regulations; b) providing advice on request.")
    assert len(asks(rec)) == 3


def test_warm_agreement_that_keeps_the_status_quo_is_not_read_as_commitment():
    """Bug class from the issue: 'agrees with the aim' then keeping the old arrangement read as acceptance."""
    rec = "The Government should introduce mandatory front-of-pack traffic light labelling on all food."
    warm = _x(rec, ["The Government agrees that clear food labelling is important.",
                    "The existing voluntary scheme already gives consumers the information they need."])
    firm = _x(rec, ["The Government will introduce mandatory traffic light labelling on all food from 2026."])
    fw, ff = _f(warm), _f(firm)
    assert fw["warm_opening"] == 1.0 and ff["warm_opening"] == 0.0
    assert fw["ask_cov_mean"] < ff["ask_cov_mean"]
    assert fw["already"] > 0 and ff["future"] == 1.0


def test_not_for_this_government_and_at_this_time_are_features():
    x = _x("Ministers should fund a national database.",
           ["This recommendation is not for the UK Government to respond to.",
            "The Department does not intend to provide additional funding at this time."])
    f = _f(x)
    assert f["elsewhere"] > 0 and f["cue_frac_rejected"] > 0 and f["negation"] > 0


def test_feature_row_has_every_family():
    x = _x("Publish the findings of every exercise within three months.", ["We will publish findings."])
    row = status_features(x)
    assert row.shape == (column_blocks()["ngram"].stop,) and np.isfinite(row).all()


def test_a_model_reads_at_run_time_the_columns_it_was_trained_on():
    """Run time computes only the families a model reads; they must be the columns training selected."""
    x = _x("Publish the findings of every exercise within three months.", ["We will publish findings.", "Not now."])
    for families in (("hand",), ("hand", "ngram"), ("hand", "emb", "ngram")):
        assert np.array_equal(family_features(x, families), select(status_features(x)[None, :], families)[0])


def _real(rec: str, passages: list[str], verdict: str | None = None) -> StatusInput:
    from reviewnlp.embed import default_embedder

    v = default_embedder().encode([rec, *passages])
    return StatusInput(rec, v[0], tuple(passages), v[1:], verdict)


def test_shipped_model_reads_a_clear_rejection_and_a_clear_acceptance():
    m = load()
    rej = m.decide(_real("The Government should make care experience a protected characteristic.",
                      ["The Government does not intend to make care experience a protected characteristic.",
                       "We do not agree that legislation is the right route."]))
    acc = m.decide(_real("The Government should appoint a Chief Construction Adviser.",
                      ["The government accepts this recommendation.",
                       "We will appoint a Chief Construction Adviser to advise the Secretary of State."],
                      "The government accepts this recommendation."))
    assert rej.status == "rejected" and acc.status == "accepted"
    assert set(rej.proba) == set(CLASSES) and all(0 <= v <= 1 for v in rej.proba.values())
    assert 0 < rej.confidence < 1 and acc.proba["accepted"] > acc.proba["rejected"]


def test_evidence_is_the_deciding_passage_a_printed_verdict_first():
    x = _x("Appoint an adviser.", ["We will consider the budget.", "The government accepts this recommendation."],
           "The government accepts this recommendation.")
    d = load().decide(x)
    assert d.evidence == 1
    # The decide stage's choice, when given, is the one the model cites and reads.
    given = StatusInput(x.rec_text, x.rec_vec, x.passages, x.vecs, x.verdict, deciding=0)
    assert load().decide(given).evidence == 0 and load().decide(given).cue and "consider" in load().decide(given).cue


def test_platt_is_monotone_and_bounded():
    values = platt(np.array([0.0, 0.2, 0.5, 0.8, 1.0]), (0.55, 0.86))
    assert list(values) == sorted(values) and ((0 < values) & (values < 1)).all()


def test_acceptable_set_learns_each_status_apart_and_borderline_rows_count_for_both():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    # Status k is defensible when feature 0 falls in its band; the middle band allows two statuses.
    band = np.digitize(X[:, 0], [-1.0, 0.0, 1.0])
    acceptable = np.zeros((200, 4))
    acceptable[np.arange(200), band] = 1
    acceptable[band == 1, 2] = 1
    m = AcceptableSet(1.0).fit(X, acceptable)
    p = m.predict_proba(np.array([[-2.0, 0, 0], [2.0, 0, 0]]))
    assert p.shape == (2, 4) and p[0].argmax() == 0 and p[1].argmax() == 3


def test_ece_is_zero_when_confidence_matches_accuracy():
    conf = np.array([0.75] * 4)
    assert ece(conf, np.array([1, 1, 1, 0], float)) == 0.0
    assert ece(conf, np.array([0, 0, 0, 0], float)) == 0.75


def test_model_card_reports_grouped_cross_validation():
    card = json.loads((ROOT / "models" / "status.json").read_text())
    cv = card["grouped_cv"]
    assert set(cv["per_class"]) == set(CLASSES) and cv["n"] == card["examples"]
    assert 0 < cv["accuracy"] <= cv["accuracy_also_ok"] <= 1
    assert set(card["per_held_out_pair"]) >= {"covid_m1", "home_affairs", "behaviour_change", "infected_blood"}


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ReviewNLPError, match="status model not found; run scripts/train_status.py"):
        load(tmp_path)
