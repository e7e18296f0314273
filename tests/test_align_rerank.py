"""Pair features, the gap-threshold calibration and the shipped reranker model."""
import numpy as np
import pytest

from reviewnlp.errors import ReviewNLPError
from reviewnlp.records import Segment
from reviewnlp.align.rerank import FEATURES, gap_threshold, load, numbers, pair_features, pool_text


def _seg(i, text, kind="commitment", section="Kinship care", doc="d"):
    return Segment(f"{doc}:s{i}", doc, 0, len(text), text, 1, section, kind)


def test_gap_threshold_gets_the_most_recommendations_right():
    assert gap_threshold([0.9, 0.8, 0.7], [0.2, 0.3, 0.4]) == pytest.approx(0.55)
    # One overlap each way: every cut from 0.35 to 0.6 gets 4 of 6 right; the widest run's middle wins.
    t = gap_threshold([0.9, 0.8, 0.35], [0.2, 0.3, 0.6])
    assert 0.3 < t < 0.8
    # More gaps than answers above a point pull the cut up.
    assert gap_threshold([0.9], [0.5, 0.6, 0.7]) > 0.7


def test_numbers_skip_years_and_single_digits():
    assert numbers("recruit 9,000 foster carers by 2027 in 3 areas over 12 months") == {"9000", "12"}


def test_pair_features_columns():
    rec = _seg(0, "Recruit 9,000 foster carers through a national campaign costing £20 million.", "recommendation",
               "Fostering")
    cands = [_seg(1, "The Government will fund £27 million to recruit 9,000 foster carers.", section="Fostering"),
             _seg(2, "Background statistics on placements in England and Wales.", kind="other", doc="e")]
    words = [["fund", "recruit", "foster", "carers"], ["background", "statistics", "placements"]]
    pool = pool_text(cands, words, [{"fostering"}, set()], [True, False])
    f = pair_features(rec, ["recruit", "foster", "carers", "campaign"], {"fostering"},
                      np.array([0.8, 0.3], np.float32), np.array([0.7, 0.0], np.float32),
                      np.array([0.6, 0.0], np.float32), pool, np.array([0, 1]))
    row = dict(zip(FEATURES, f[0]))
    assert f.shape == (2, len(FEATURES))
    assert row["dense_margin"] == 0 and row["dense_rank"] == 1.0 and row["numbers_shared"] == 1
    assert row["money_both"] == 1 and row["section_overlap"] == 1 and row["kind_commitment"] == 1
    assert row["gov"] == 1 and row["same_doc"] == 1
    other = dict(zip(FEATURES, f[1]))
    assert other["kind_other"] == 1 and other["same_doc"] == 0 and other["dense_rank"] == 0.5


def test_shipped_reranker_prefers_a_committing_on_topic_passage():
    rr = load()
    assert rr.model_id.startswith("reranker-") and 0 < rr.threshold < 1
    strong = np.zeros(len(FEATURES), np.float32)
    weak = strong.copy()
    for name, value in (("dense", 0.8), ("lexical", 0.8), ("dense_rank", 1.0), ("kind_commitment", 1), ("gov", 1)):
        strong[FEATURES.index(name)] = value
    for name, value in (("dense", 0.2), ("lexical", 0.0), ("dense_margin", -0.6), ("dense_rank", 0.01)):
        weak[FEATURES.index(name)] = value
    p_strong, p_weak = rr.score(np.stack([strong, weak]))
    assert p_strong > rr.threshold > p_weak


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ReviewNLPError, match="reranker model not found; run scripts/train_reranker.py"):
        load(tmp_path)
