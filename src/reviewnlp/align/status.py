"""status: the only owner of a row's status, the gap included.

A recommendation nothing answers is a ``gap``.  Otherwise a status model
reads the recommendation, every government passage of its answer and the
printed verdict, and says accepted, partial, deferred or rejected.  Two
models sit behind one small interface (:class:`StatusModel`): the trained
classifier (:mod:`.status_model`, shipped in ``models/status.joblib``) and
the cue rules it replaced (:class:`RulesBaseline`), whose reading every row
keeps beside the model's for anyone who prefers it.
"""
from __future__ import annotations

from typing import Protocol

from ..cues import count_short, money_short, stance_of
from ..records import UNPAIRED, Match
from ..vocab import verdict_class
from .settings import DEFAULT, StatusSettings
from .status_model import StatusClassifier, StatusDecision, StatusInput, deciding_index, load as load_classifier

GAP = "gap"
# Printed verdicts that leave a refusal open: "Not accepted", and "Noted" (often followed by a defence of the
# status quo, which the codebook reads as rejected).
DECLINING_VERDICTS = ("not", "noted")


class StatusModel(Protocol):
    """Anything that decides the status of one answered recommendation."""

    model_id: str

    def decide(self, x: StatusInput) -> StatusDecision:
        """The status of one answer, its confidence and the passage that decides it."""
        ...


class RulesBaseline:
    """The cue rules: the deciding passage's stance, qualified by the rest of the answer.

    The deciding passage's own stance wins; without one, the first stance
    among the other passages; without any, accepted.  An acceptance becomes
    ``partial`` when another passage pilots or tests it, when the money
    committed is far below the money asked, or when a smaller count of the
    same thing is given ("two years" against "a five-year framework").
    """

    model_id = "rules-v2"

    def decide(self, x: StatusInput) -> StatusDecision:
        """Status by the cue rules (confidence 0: the rules are not calibrated)."""
        d = deciding_index(x)
        if d is None:
            return StatusDecision("accepted", 0.0, evidence=None, rule="default")
        resp, others = x.passages[d], [p for i, p in enumerate(x.passages) if i != d]
        stance, rule = stance_of(resp), "cue"
        if stance is None:
            rule = "context-cue"
            stance = next((st for p in others if (st := stance_of(p))), None)
        label, cue = (stance.label, stance.cue) if stance else ("accepted", None)
        if stance is None:
            rule = "default"
        if label == "accepted":
            short = money_short(x.rec_text, [resp])
            if short:
                return StatusDecision("partial", 0.0, evidence=d, cue=short, rule="money")
            short = count_short(x.rec_text, list(x.passages))
            if short:
                return StatusDecision("partial", 0.0, evidence=d, cue=short, rule="count")
            for p in others:
                st = stance_of(p)
                if st and st.label == "partial":
                    return StatusDecision("partial", 0.0, evidence=d, cue=st.cue, rule="pilot-elsewhere")
        return StatusDecision(label, 0.0, evidence=d, cue=cue, rule=rule)


def default_model() -> StatusClassifier:
    """The shipped status classifier (``models/status.joblib``, or ``$REVIEWNLP_STATUS_MODEL_DIR``)."""
    return load_classifier()


def declines(x: StatusInput) -> bool:
    """True when the answer leaves a refusal open: a passage that declines ("does not intend", "not
    appropriate") or a printed "Not accepted" or "Noted" verdict."""
    return verdict_class(x.verdict) in DECLINING_VERDICTS or any((st := stance_of(p)) and st.label == "rejected"
                                                    for p in x.passages)


def without_rejection(d: StatusDecision) -> StatusDecision:
    """The model's best status other than rejected, for an answer that declines nothing."""
    rest = {k: v for k, v in d.proba.items() if k != "rejected"}
    if not rest:
        return StatusDecision("accepted", d.confidence, d.proba, d.evidence, d.cue, f"{d.rule}+no-decline")
    best = max(rest, key=lambda k: (rest[k], k))
    return StatusDecision(best, round(float(rest[best]), 3), d.proba, d.evidence, d.cue, f"{d.rule}+no-decline")


def decide_status(match: Match, x: StatusInput | None, model: StatusModel,
                  settings: StatusSettings = DEFAULT.status) -> tuple[StatusDecision, StatusDecision | None]:
    """(the row's status, the rules' reading) for one matched recommendation.

    A recommendation that nothing answers (``none``), or whose report nothing
    in the run answers (``unpaired``), is a gap; the rules have no reading of it.
    The codebook's ``rejected`` declines, in words or by a bare "noted" and a
    defence of the status quo: a model that reads one in an answer with neither
    (:func:`declines`) gives its next status instead.  On the eight labelled
    sets this helped six and cost none (``benchmarks/ablation.py``; seven with
    each pair's status model fitted without it, ``--held-out``).
    """
    if match.method in ("none", UNPAIRED) or x is None or not x.passages:
        return StatusDecision(GAP, 0.0, rule=match.method), None
    d = model.decide(x)
    if settings.rejected_needs_decline and d.status == "rejected" and not declines(x):
        d = without_rejection(d)
    return d, RulesBaseline().decide(x)
