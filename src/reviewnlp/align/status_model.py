"""The learned status model: (recommendation, answer block, printed verdict) -> accepted / partial / deferred / rejected.

A trained classifier reads the whole answer, not one sentence.  Its features
(:func:`status_features`) are the cue rules' readings of every passage
(features, never overrides), the printed verdict's class, the modality and
tense of the government's sentences, how many of the recommendation's asks a
committing sentence names, and MiniLM embeddings of both texts.  It is trained
by ``scripts/train_status.py`` on ``data/status_examples.jsonl`` (hand-labelled
pairs; see ``data/README.md``) with cross-validation grouped by document pair,
which also chooses the model and the feature families the shipped one uses; its
confidence is Platt-scaled on the held-out predictions to how often the status is
right (``also_ok`` counting, as the scorer counts it).
"""
from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from ..cues import (ALREADY_RE, CONSIDER_RE, DONE_RE, ELSEWHERE_RE, FUTURE_RE, HEDGE_RE, NEG_RE, PILOT_RE,
                    PRINCIPLE_RE, TIMETABLE_RE, WARM_RE, count_short, money_short, stance_of)
from ..modelstore import MODEL_DIR, load_blob, save_blob
from ..vocab import VERDICT_NAMES, is_verdict, stems as content, verdict_class
from .decide import deciding_passage, unit

MODEL_NAME = "status"
CLASSES = ("accepted", "partial", "deferred", "rejected")
# Where a recommendation splits into its asks: sentences, list items, lettered parts.
ASK_SPLIT_RE = re.compile(r"(?:(?<=[.;:])\s+|\s+(?=\(?(?:[a-h]|i{1,3}|iv|vi{0,3}|ix|x)\)\s)|\s*[•●▪◦]\s*|\n+)")


@dataclass(frozen=True)
class StatusInput:
    """What the classifier reads: the recommendation, its vector, the answer's passages in print order and
    their vectors, and the printed verdict line (None when the answer prints none)."""

    rec_text: str
    rec_vec: np.ndarray
    passages: tuple[str, ...]
    vecs: np.ndarray
    verdict: str | None = None
    # The passage the decide stage chose (None: the features choose it with the same function).
    deciding: int | None = None


@dataclass(frozen=True)
class StatusDecision:
    """A status with its calibrated confidence, class probabilities, and the passage that decides it."""

    status: str
    confidence: float
    proba: dict[str, float] = field(default_factory=dict)
    evidence: int | None = None
    cue: str | None = None
    rule: str = "model"


def asks(rec_text: str) -> list[str]:
    """The recommendation split into its asks: sentences, list items and lettered parts with content."""
    parts = [p.strip() for p in ASK_SPLIT_RE.split(rec_text) if p and p.strip()]
    out = [p for p in parts if len(content(p)) >= 3]
    return out or [rec_text]


def _committing(text: str) -> bool:
    st = stance_of(text)
    if st and st.label in ("deferred", "rejected"):
        return False
    return bool(FUTURE_RE.search(text) or DONE_RE.search(text) or (st and st.label in ("accepted", "partial")))


def _frac(rx: re.Pattern[str], texts: Sequence[str]) -> float:
    return sum(bool(rx.search(t)) for t in texts) / max(len(texts), 1)


def deciding_index(x: StatusInput) -> int | None:
    """The passage that decides this answer: the decide stage's choice, else :func:`.decide.deciding_passage`."""
    if x.deciding is not None:
        return x.deciding
    return deciding_passage(x.rec_text, x.rec_vec, list(x.passages), x.vecs)


HAND_FEATURES = (
    [f"verdict_{v}" for v in (*VERDICT_NAMES, "none")]
    + [f"cue_frac_{c}" for c in CLASSES] + [f"cue_first_{c}" for c in (*CLASSES, "none")]
    + [f"cue_dec_{c}" for c in (*CLASSES, "none")]
    + ["future", "done", "hedge", "negation", "consider", "already", "principle", "pilot", "timetable", "warm",
       "elsewhere", "warm_opening"]
    + ["ask_cov_mean", "ask_cov_min", "ask_covered", "n_asks", "cov_any"]
    + ["cos_max", "cos_mean", "cos_dec", "cos_block"]
    + ["n_passages", "n_words", "money_less", "count_less"])


def hand_features(x: StatusInput) -> np.ndarray:
    """The named features of :data:`HAND_FEATURES` for one (recommendation, answer) pair."""
    ps = [p for p in x.passages if p.strip()]
    verdict = x.verdict or next((p for p in ps if is_verdict(p)), None)
    vc = verdict_class(verdict) or "none"
    body = [p for p in ps if p != verdict] or ps
    stances = [stance_of(p) for p in body]
    labels = [s.label if s else "none" for s in stances]
    f: dict[str, float] = {f"verdict_{v}": float(vc == v) for v in (*VERDICT_NAMES, "none")}
    for c in CLASSES:
        f[f"cue_frac_{c}"] = labels.count(c) / max(len(labels), 1)
    first = labels[0] if labels else "none"
    for c in (*CLASSES, "none"):
        f[f"cue_first_{c}"] = float(first == c)
    d = deciding_index(x)
    dec = stance_of(x.passages[d]) if d is not None else None
    for c in (*CLASSES, "none"):
        f[f"cue_dec_{c}"] = float((dec.label if dec else "none") == c)
    for name, rx in (("future", FUTURE_RE), ("done", DONE_RE), ("hedge", HEDGE_RE), ("negation", NEG_RE),
                     ("consider", CONSIDER_RE), ("already", ALREADY_RE), ("principle", PRINCIPLE_RE),
                     ("pilot", PILOT_RE), ("timetable", TIMETABLE_RE), ("warm", WARM_RE), ("elsewhere", ELSEWHERE_RE)):
        f[name] = _frac(rx, body)
    opening = body[0] if body else ""
    f["warm_opening"] = float(bool(WARM_RE.search(opening)) and not FUTURE_RE.search(opening))
    committing = [content(p) for p in body if _committing(p)]
    every = [content(p) for p in body]
    covs = []
    for a in asks(x.rec_text):
        ac = content(a)
        covs.append(max((len(ac & c) / max(len(ac), 1) for c in committing), default=0.0))
    f["ask_cov_mean"] = float(np.mean(covs)) if covs else 0.0
    f["ask_cov_min"] = float(np.min(covs)) if covs else 0.0
    f["ask_covered"] = float(np.mean([c >= 0.25 for c in covs])) if covs else 0.0
    f["n_asks"] = math.log1p(len(covs))
    rc = content(x.rec_text)
    f["cov_any"] = len(rc & set().union(*every)) / max(len(rc), 1) if every else 0.0
    sims = x.vecs @ unit(x.rec_vec) if len(x.vecs) else np.zeros(1, np.float32)
    f["cos_max"], f["cos_mean"] = float(sims.max()), float(sims.mean())
    f["cos_dec"] = float(sims[d]) if d is not None and len(x.vecs) else 0.0
    f["cos_block"] = float(unit(x.vecs.mean(axis=0)) @ unit(x.rec_vec)) if len(x.vecs) else 0.0
    f["n_passages"] = math.log1p(len(body))
    f["n_words"] = math.log1p(sum(len(p.split()) for p in body))
    f["money_less"] = float(money_short(x.rec_text, body) is not None)
    f["count_less"] = float(count_short(x.rec_text, body) is not None)
    return np.array([f[k] for k in HAND_FEATURES], dtype=np.float32)


NGRAM_DIM = 2 ** 12
EMB_DIM = 384
PASSAGE_CLASSES = (*CLASSES, "none")
STANCE_DIM = 3 * len(PASSAGE_CLASSES)


def new_passage_model():
    """Unfitted: a passage's MiniLM vector -> accepted / partial / deferred / rejected / none."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000, random_state=0)


def stance_features(passage_model, x: StatusInput) -> np.ndarray:
    """What a passage-level stance model, reading MiniLM vectors, says of the block: each class's mean and
    maximum probability over the passages, and its probability averaged with weights that favour the
    passages closest to the recommendation."""
    if passage_model is None or not len(x.vecs):
        return np.zeros(STANCE_DIM, np.float32)
    p = passage_model.predict_proba(x.vecs)
    order = [list(passage_model.classes_).index(c) if c in passage_model.classes_ else None for c in PASSAGE_CLASSES]
    p = np.stack([p[:, i] if i is not None else np.zeros(len(x.vecs)) for i in order], axis=1)
    sims = x.vecs @ unit(x.rec_vec)
    w = np.exp(8.0 * (sims - sims.max()))
    w = w / w.sum()
    return np.concatenate([p.mean(axis=0), p.max(axis=0), w @ p]).astype(np.float32)


def ngram_features(x: StatusInput) -> np.ndarray:
    """Hashed word 1-3 grams of the government's passages (the verdict's words prefixed apart), L2-normalised.

    Hashing needs no fitted vocabulary, so the row is the same wherever it is computed.
    """
    from sklearn.feature_extraction.text import HashingVectorizer

    verdict = x.verdict or next((p for p in x.passages if is_verdict(p)), "")
    body = " ".join(p for p in x.passages if p != verdict)
    vz = HashingVectorizer(n_features=NGRAM_DIM, ngram_range=(1, 3), alternate_sign=False, norm="l2",
                           token_pattern=r"(?u)\b\w[\w']*\b")
    words = body + " " + " ".join(f"verdict_{w}" for w in re.findall(r"\w+", verdict.lower()))
    return vz.transform([words]).toarray()[0].astype(np.float32)


def column_blocks() -> dict[str, slice]:
    """Where each feature family sits in a full row (``stance`` is appended by the fitted model)."""
    h = len(HAND_FEATURES)
    e = h + 2 * EMB_DIM
    return {"hand": slice(0, h), "emb": slice(h, e), "ngram": slice(e, e + NGRAM_DIM),
            "stance": slice(e + NGRAM_DIM, e + NGRAM_DIM + STANCE_DIM)}


def select(rows: np.ndarray, families: Sequence[str]) -> np.ndarray:
    """The columns of the named feature families (hand, emb, ngram, stance), in that order."""
    blocks = column_blocks()
    return np.concatenate([rows[:, blocks[f]] for f in families], axis=1)


def emb_features(x: StatusInput) -> np.ndarray:
    """The recommendation's and the block's mean MiniLM unit vectors."""
    block = unit(x.vecs.mean(axis=0)) if len(x.vecs) else np.zeros_like(x.rec_vec)
    return np.concatenate([unit(x.rec_vec), block]).astype(np.float32)


def family_features(x: StatusInput, families: Sequence[str], passage_model=None) -> np.ndarray:
    """The named feature families for one answer, in the given order: the same columns as
    ``select(full row, families)``, without computing the families left out."""
    make = {"hand": hand_features, "emb": emb_features, "ngram": ngram_features,
            "stance": lambda x: stance_features(passage_model, x)}
    return np.concatenate([make[f](x) for f in families]).astype(np.float32)


def status_features(x: StatusInput) -> np.ndarray:
    """Every family but ``stance`` (which needs a fitted passage model): hand, emb, ngram, as training reads them."""
    return family_features(x, ("hand", "emb", "ngram"))


def new_model(c: float = 0.5, kind: str = "lr"):
    """Unfitted: standardised features into a multinomial logistic regression with balanced classes
    (``kind="lr"``), or shallow gradient-boosted trees (``kind="gbt"``, ``c`` its learning rate)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if kind == "gbt":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return make_pipeline(StandardScaler(), HistGradientBoostingClassifier(
            learning_rate=c, max_depth=3, max_iter=150, min_samples_leaf=15, l2_regularization=1.0,
            class_weight="balanced", random_state=0))
    from sklearn.linear_model import LogisticRegression

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, class_weight="balanced", max_iter=5000,
                                                              random_state=0))


class AcceptableSet:
    """One balanced logistic regression per status, each predicting whether that status is one a careful
    annotator could defend for the answer (the label or one of its ``also_ok``): the classifier picks
    the status most likely to be defensible, which is what "status right" counts."""

    classes_ = CLASSES

    def __init__(self, c: float = 0.01):
        self.c = c
        self.models: list = []

    def fit(self, X: np.ndarray, acceptable: np.ndarray, sample_weight: np.ndarray | None = None) -> "AcceptableSet":
        """Fit one model per column of the (n, 4) 0/1 ``acceptable`` matrix."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.models = []
        for k in range(len(CLASSES)):
            m = make_pipeline(StandardScaler(), LogisticRegression(C=self.c, class_weight="balanced", max_iter=5000,
                                                                   random_state=0))
            m.fit(X, acceptable[:, k], logisticregression__sample_weight=sample_weight)
            self.models.append(m)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probability that each status is defensible, columns in :data:`CLASSES` order (rows need not sum to 1)."""
        return np.stack([m.predict_proba(X)[:, 1] for m in self.models], axis=1)


def platt(p: np.ndarray, ab: tuple[float, float]) -> np.ndarray:
    """Map scores through a fitted logistic curve, a * logit(p) + b."""
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return 1 / (1 + np.exp(-(ab[0] * np.log(p / (1 - p)) + ab[1])))


@dataclass(frozen=True)
class StatusClassifier:
    """A fitted status classifier, the Platt map of its score to how often the status is right (fitted on
    grouped held-out predictions), its id, the feature families it reads and, when it reads
    ``stance``, the passage stance model."""

    model: object
    calibration: tuple[float, float]
    model_id: str
    families: tuple[str, ...] = ("hand",)
    passage_model: object = None

    def row(self, x: StatusInput) -> np.ndarray:
        """The feature row this model reads for one answer (its families only)."""
        return family_features(x, self.families, self.passage_model)

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """The model's score for each status from rows of :meth:`row`, columns in :data:`CLASSES` order."""
        p = self.model.predict_proba(rows)  # type: ignore[attr-defined]
        order = [list(self.model.classes_).index(c) for c in CLASSES]  # type: ignore[attr-defined]
        return p[:, order]

    def decide(self, x: StatusInput) -> StatusDecision:
        """Status of one answer, the calibrated probability that it is right, and the passage that decides it."""
        p = self.scores(self.row(x)[None, :])[0]
        k = int(np.argmax(p))
        idx = deciding_index(x)
        st = stance_of(x.passages[idx]) if idx is not None else None
        conf = float(platt(np.array([p[k]]), self.calibration)[0])
        return StatusDecision(CLASSES[k], round(conf, 3), {c: round(float(v), 4) for c, v in zip(CLASSES, p)}, idx,
                              st.cue if st else None)


def save(blob: dict, card: dict, model_dir: Path = MODEL_DIR) -> str:
    """Write ``status.joblib`` ({"model", "calibration", "families", "passage_model"}) and its card; return the id."""
    return save_blob(MODEL_NAME, blob, card, model_dir)


def model_dir() -> Path:
    """Where the status classifier is read from: ``$REVIEWNLP_STATUS_MODEL_DIR`` (held-out evaluation models)
    or the shipped ``models/``."""
    return Path(os.environ.get("REVIEWNLP_STATUS_MODEL_DIR") or MODEL_DIR)


@lru_cache(maxsize=4)
def load(directory: Path | None = None) -> StatusClassifier:
    """Load the status classifier (the shipped one unless ``directory`` or the environment names another)."""
    blob, model_id = load_blob(MODEL_NAME, "scripts/train_status.py", directory or model_dir())
    return StatusClassifier(blob["model"], tuple(blob["calibration"]), model_id, tuple(blob["families"]),
                            blob.get("passage_model"))


def ece(conf: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of the predicted label's probability (equal-width bins)."""
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            total += m.mean() * abs(float(conf[m].mean()) - float(correct[m].mean()))
    return round(total, 4)
