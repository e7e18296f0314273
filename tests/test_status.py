"""The stance model: the cue rules decide, the model's calibrated probability is the confidence."""
import pytest

from reviewnlp.errors import ReviewNLPError
from reviewnlp.status import CLASSES, decide, features, load, platt


def test_features_carry_the_rules_reading():
    f = features("These recommendations are accepted in principle by the UK Government.")
    assert f.startswith("__cue_partial __verdict __in_principle")


def test_rules_decide_and_confidence_is_a_probability():
    label, cue, conf, method = decide("The Government does not intend to introduce a windfall tax.")
    assert (label, cue, method) == ("rejected", "does not intend", "cue") and 0 < conf < 1
    label, cue, conf, method = decide("Ofsted oversees the largest providers of children's homes.")
    assert (label, cue, method) == ("accepted", None, "default")


def test_confidence_is_higher_for_a_clear_verdict_than_for_a_vague_passage():
    m = load()
    clear = m.confidence("This recommendation is accepted in full by the UK Government.", "accepted")
    vague = m.confidence("The landscape of children's services is complex and changing.", "accepted")
    assert clear > vague
    assert set(m.proba("We will consult on this.")) == set(CLASSES)


def test_platt_is_monotone_and_bounded():
    ab = (0.62, 0.89)
    values = [platt(p, ab) for p in (0.0, 0.2, 0.5, 0.8, 1.0)]
    assert values == sorted(values) and all(0 < v < 1 for v in values)


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ReviewNLPError, match="status model not found; run scripts/train_status.py"):
        load(tmp_path)
