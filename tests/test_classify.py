"""The trained segment classifier: reproducible from the repo's data, and safe on the dev briefing."""
import json

import pytest

from conftest import ROOT, SEED_BRIEFING, SHARED_EVAL
from reviewnlp.classify import combine, features, load_model, reclassify
from reviewnlp.extract import extract
from reviewnlp.records import Segment
from reviewnlp.segment import apply_conventions, segment_document


def _seg(text, kind="other", stance=None, cue=None, label=None, body=None):
    return Segment("d:s0", "d", 0, len(text), text, 1, None, kind, stance, body, label, cue)


def test_features_carry_rule_evidence():
    f = features(_seg("The Government should act now.", "recommendation", cue="should"))
    assert "__rule_recommendation" in f and "__modal" in f and "__cue_modal" in f


@pytest.mark.parametrize("seg", [
    _seg("Anything at all.", "recommendation", cue="recommended"),
    _seg("Anything at all.", "recommendation", label="Recommendation 4a i"),
    _seg("double the proportion of care leavers attending university", "recommendation", cue="imperative"),
    _seg("We recommend that the CPS publish its protocol.", "recommendation", cue="should"),
])
def test_explicit_recommendations_stay(seg):
    assert combine(seg, "other") == "recommendation"


def test_model_decides_modal_only_sentences():
    seg = _seg("Providing care for children should not be based on profit.", "recommendation", cue="should")
    assert combine(seg, "commentary") == "commentary"


def test_shipped_model_loads_and_card_shows_held_out_scores():
    model = load_model()
    card = json.loads((ROOT / "models" / "segment_kind.json").read_text())
    assert card["n_matched"] >= 0.98 * card["n_labelled"]  # a few rows drift as segmentation improves
    held = card["held_out"]
    assert held["model"]["macro avg"]["f1-score"] > held["rules"]["macro avg"]["f1-score"]
    assert set(model.predict([features(_seg("The Government will publish a strategy."))])) <= {
        "recommendation", "commitment", "response", "commentary", "other"}


@pytest.mark.skipif(not (SHARED_EVAL / "dev_gold.jsonl").exists(), reason="shared eval kit not present")
def test_reclassified_briefing_keeps_gold_and_drops_known_non_recommendations():
    from reviewnlp.evaluate import covers

    doc = extract(SEED_BRIEFING)
    segs = apply_conventions(doc, reclassify(segment_document(doc)))
    recs = [s for s in segs if s.kind == "recommendation"]
    gold = [json.loads(l) for l in (SHARED_EVAL / "dev_gold.jsonl").read_text().splitlines() if l.strip()]
    assert [g["id"] for g in gold if not any(covers(s.text, g["rec"], 0.8) for s in recs)] == []
    wrong_body = [g["id"] for g in gold
                  if min((s for s in recs if covers(s.text, g["rec"], 0.8)), key=lambda s: len(s.text)).body != g["body"]]
    assert wrong_body == []
    for not_rec in ("You should not rely upon it", "there will be nearly 100,000 children in care by 2032",
                    "greater investment will be needed", "From 1 May 2023, legal aid was extended",
                    "The Commons Library does not intend the information"):
        assert not any(not_rec in s.text for s in recs), not_rec
    assert all(s.method.startswith("rules-v1+model") for s in segs)
