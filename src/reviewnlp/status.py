"""The stance classifier: a government passage -> accepted / partial / deferred / rejected / none, with a probability.

The explicit cue rules (:mod:`reviewnlp.cues`) decide the label: on the
hand-labelled passages they beat this model as a decider (77% against 74%,
cross-validated; see ``models/status.json``).  The model supplies the
confidence: its probability of the rules' label, mapped by Platt scaling
fitted on out-of-fold predictions to how often that label is right.  It is a
logistic regression over word n-grams plus the rules' own evidence, trained by
``scripts/train_status.py`` on ``data/labelled_stances.jsonl`` and the stance
labels of ``data/labelled_segments.jsonl``; the dev-gold briefing is left out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .cues import stance_of
from .modelstore import MODEL_DIR, load_blob, save_blob

MODEL_NAME = "status"
CLASSES = ("accepted", "partial", "deferred", "rejected", "none")
STATUSES = CLASSES[:4]
VERDICT_RE = re.compile(r"(?i)\b(?:this|the|these|that) recommendations? (?:is|are|was|were|has been|have been)\s+"
                        r"(?:(?:fully|partly|partially|not)\s+)?(?:accepted|rejected|agreed|noted|implemented)\b"
                        r"(?!\s+or\b)"
                        r"|\b(?:the )?government (?:accepts|agrees|rejects|does not accept|does not agree|notes)\b")


def features(text: str) -> str:
    """The passage's words plus pseudo-tokens for the cue rules' reading of it."""
    st = stance_of(text)
    tags = [f"__cue_{st.label if st else 'none'}"]
    if VERDICT_RE.search(text):
        tags.append("__verdict")
    if re.search(r"(?i)\bin principle\b", text):
        tags.append("__in_principle")
    if re.search(r"(?i)\b(?:we|the government|ministers?|department)\b", text):
        tags.append("__gov_actor")
    if re.search(r"(?i)\b(?:will|shall|are going to)\b", text):
        tags.append("__future")
    if re.search(r"(?i)\b(?:has|have) (?:already )?(?:been )?\w+ed\b", text):
        tags.append("__done")
    return " ".join(tags) + " " + text


def new_model():
    """Unfitted: TF-IDF word 1-2 grams into a multinomial logistic regression, calibrated."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    base = LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000, random_state=0)
    return make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w[\w']*\b"),
                         CalibratedClassifierCV(base, method="sigmoid", cv=3))


@dataclass(frozen=True)
class StatusModel:
    """A fitted stance model, the Platt map from its probability to correctness, and its id."""

    model: object
    platt: tuple[float, float]
    model_id: str

    def proba(self, text: str) -> dict[str, float]:
        """Probability of each class for one passage."""
        p = self.model.predict_proba([features(text)])[0]  # type: ignore[attr-defined]
        classes = list(self.model.classes_)  # type: ignore[attr-defined]
        return {c: float(p[classes.index(c)]) if c in classes else 0.0 for c in CLASSES}

    def confidence(self, text: str, label: str) -> float:
        """Calibrated probability that ``label`` is the right status for the passage."""
        p = self.proba(text)
        share = p[label] / (sum(p[s] for s in STATUSES) or 1.0)
        return platt(share, self.platt)


def platt(p: float, ab: tuple[float, float]) -> float:
    """Map a model probability through a fitted logistic curve (a * logit(p) + b)."""
    p = min(max(p, 1e-4), 1 - 1e-4)
    z = ab[0] * np.log(p / (1 - p)) + ab[1]
    return round(float(1 / (1 + np.exp(-z))), 3)


def decide(text: str, model: StatusModel | None = None) -> tuple[str, str | None, float, str]:
    """Stance of a government passage: (label, cue, confidence, method).

    An explicit cue decides the label; a passage that answers without any cue
    phrase reads as an acceptance ("default").  The confidence is calibrated.
    """
    model = model or load()
    st = stance_of(text)
    label, cue, method = (st.label, st.cue, "cue") if st else ("accepted", None, "default")
    return label, cue, model.confidence(text, label), method


def save(blob: dict, card: dict, model_dir: Path = MODEL_DIR) -> str:
    """Write ``status.joblib`` ({"model": fitted pipeline, "platt": (a, b)}) and its card; return the model id."""
    return save_blob(MODEL_NAME, blob, card, model_dir)


@lru_cache(maxsize=2)
def load(model_dir: Path = MODEL_DIR) -> StatusModel:
    """Load the shipped stance model."""
    blob, model_id = load_blob(MODEL_NAME, "scripts/train_status.py", model_dir)
    return StatusModel(blob["model"], tuple(blob["platt"]), model_id)


def class_report(y_true, y_pred) -> dict:
    """Accuracy and per-class precision/recall (rounded) for the model card."""
    from sklearn.metrics import classification_report

    rep = classification_report(y_true, y_pred, labels=list(CLASSES), output_dict=True, zero_division=0)
    return {k: ({m: round(v, 3) for m, v in d.items()} if isinstance(d, dict) else round(d, 3))
            for k, d in rep.items()}


def probabilities(model, texts) -> np.ndarray:
    """Class probabilities (columns in CLASSES order) for many passages."""
    p = model.predict_proba([features(t) for t in texts])
    classes = list(model.classes_)
    return np.stack([p[:, classes.index(c)] if c in classes else np.zeros(len(texts)) for c in CLASSES], axis=1)
