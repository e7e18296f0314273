"""The segment-kind classifier: a scikit-learn model over words and the rules' own evidence.

The cue rules in :mod:`reviewnlp.segment` see context (who is speaking, list
lead-ins, labelled blocks) but are brittle on wording; a linear model over
word n-grams plus the rules' outputs as features learns when to trust them.
It is trained on ``data/labelled_segments.jsonl`` (hand-labelled sentences
from the bundled corpus; see ``data/README.md``) by ``scripts/train_classifier.py``
and shipped as ``models/segment_kind.joblib`` with a JSON card of its metrics.

At run time explicit cases stay with the rules (a numbered "Recommendation N"
block, "we recommend", a government statement with a stance cue); the model
decides the rest.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .cues import modal, recommends
from .errors import ReviewNLPError
from .records import KINDS, Segment
from .vocab import EXPLICIT_RECOMMEND_RE as EXPLICIT_REC_RE, is_formal_label, is_rec_label

MODEL_DIR = Path(__file__).resolve().parent.parent.parent / "models"
MODEL_NAME = "segment_kind"
# Rule decisions kept without asking the model: these cues are unambiguous in this genre.

def _cue_kind(cue: str | None) -> str:
    if not cue:
        return "none"
    if re.match(r"(?i)recommend|call|urge", cue):
        return "recommend"
    if cue in ("list", "imperative", "funding ask", "label"):
        return cue.replace(" ", "_")
    if re.match(r"(?i)should|must|ought|need", cue):
        return "modal"
    return "other"


def features(seg: Segment) -> str:
    """One string per segment: its words plus pseudo-tokens for the rules' evidence."""
    tags = [f"__rule_{seg.kind}", f"__stance_{seg.stance or 'none'}", f"__cue_{_cue_kind(seg.cue)}"]
    if seg.label:
        tags.append("__label_rec" if is_rec_label(seg.label) else "__label_num")
    if modal(seg.text):
        tags.append("__modal")
    if recommends(seg.text):
        tags.append("__recommends")
    if seg.body == "Government":
        tags.append("__gov_voice")
    if re.search(r"\b(?:we|our)\b", seg.text, re.I):
        tags.append("__first_person")
    if re.search(r"\b(?:19|20)\d\d\b", seg.text):
        tags.append("__year")
    if len(seg.text.split()) < 6:
        tags.append("__short")
    if re.search(r"\b(?:said|told|noted|argued|suggested)\b", seg.text):
        tags.append("__reported_speech")
    return " ".join(tags) + " " + seg.text


def _pipeline():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, lowercase=True,
                        token_pattern=r"(?u)\b\w[\w']*\b"),
        LogisticRegression(C=4.0, class_weight="balanced", max_iter=2000, random_state=0))


def train(segs: Sequence[Segment], labels: Sequence[str], seed: int = 0, test_size: float = 0.3) -> tuple[object, dict]:
    """Fit on a stratified split, report held-out precision/recall per class (model and rules), refit on all.

    Returns (fitted model, metrics card).
    """
    from sklearn.metrics import classification_report
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split

    X = [features(s) for s in segs]
    y = list(labels)
    idx = np.arange(len(X))
    tr, te = train_test_split(idx, test_size=test_size, random_state=seed, stratify=y)
    model = _pipeline().fit([X[i] for i in tr], [y[i] for i in tr])
    pred = model.predict([X[i] for i in te])
    rules = [segs[i].kind for i in te]
    truth = [y[i] for i in te]
    combined = [combine(segs[i], p) for i, p in zip(te, pred)]
    cv = cross_val_predict(_pipeline(), X, y, cv=StratifiedKFold(5, shuffle=True, random_state=seed))
    report = lambda p, t=truth: classification_report(t, p, labels=list(KINDS), output_dict=True, zero_division=0)
    card = {
        "n_train": len(tr), "n_test": len(te), "seed": seed,
        "held_out": {"model": _round(report(pred)), "rules": _round(report(rules)),
                     "model+explicit rules": _round(report(combined))},
        "cross_validated_5fold_model": _round(classification_report(y, cv, labels=list(KINDS), output_dict=True,
                                                                    zero_division=0)),
    }
    final = _pipeline().fit(X, y)
    return final, card


def _round(rep: dict) -> dict:
    return {k: ({m: round(v, 3) for m, v in d.items()} if isinstance(d, dict) else round(d, 3))
            for k, d in rep.items()}


def combine(seg: Segment, predicted: str) -> str:
    """The final kind: the rules' where their evidence is explicit, else the model's.

    Explicit: a labelled recommendation block or outline item ("4a i"); a recommending verb, a costed ask
    or an item of a list a review introduced ("Its recommendations included:",
    "The report set five missions:"), whose context the model cannot see; and a
    government statement with a stance cue.
    """
    if seg.kind == "recommendation" and (
            is_rec_label(seg.label) or is_formal_label(seg.label)
            or EXPLICIT_REC_RE.search(seg.text)
            or _cue_kind(seg.cue) in ("recommend", "funding_ask", "imperative", "list", "label")):
        return "recommendation"
    if seg.kind in ("commitment", "response") and seg.stance and seg.body == "Government":
        return seg.kind
    return predicted


def data_hash(path: Path) -> str:
    """SHA-256 prefix of the labelled data file, recorded in the model card."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def save_model(model, card: dict, model_dir: Path = MODEL_DIR) -> Path:
    """Write ``segment_kind.joblib`` and ``segment_kind.json`` (metrics, versions, data hash)."""
    import joblib
    import sklearn

    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / f"{MODEL_NAME}.joblib"
    joblib.dump(model, path, compress=3)
    card = dict(card, sklearn=sklearn.__version__)
    (model_dir / f"{MODEL_NAME}.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return path


@lru_cache(maxsize=1)
def load_model(model_dir: Path = MODEL_DIR):
    """Load the shipped classifier; refuse one pickled by another scikit-learn release."""
    import joblib
    import sklearn

    path = model_dir / f"{MODEL_NAME}.joblib"
    card_path = model_dir / f"{MODEL_NAME}.json"
    if not path.exists() or not card_path.exists():
        raise ReviewNLPError(f"{path}: classifier not found; run scripts/train_classifier.py")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    if card.get("sklearn") != sklearn.__version__:
        raise ReviewNLPError(f"{path}: trained with scikit-learn {card.get('sklearn')}, but {sklearn.__version__} is "
                             "installed; run scripts/train_classifier.py")
    return joblib.load(path)


def model_id(model_dir: Path = MODEL_DIR) -> str:
    """An id for the shipped model: its name and the hash of its training data."""
    card = json.loads((model_dir / f"{MODEL_NAME}.json").read_text(encoding="utf-8"))
    return f"{MODEL_NAME}@data:{card.get('data_sha256', '?')}"


def reclassify(segs: Iterable[Segment], model=None) -> list[Segment]:
    """Apply the classifier to rule-classified segments; the method field records which decided."""
    segs = list(segs)
    if not segs:
        return segs
    model = model or load_model()
    pred = model.predict([features(s) for s in segs])
    out = []
    for s, p in zip(segs, pred):
        kind = combine(s, p)
        if kind == s.kind:
            out.append(replace(s, method=f"{s.method}+model-agrees"))
            continue
        stance = s.stance if kind in ("commitment", "response") else None
        out.append(replace(s, kind=kind, stance=stance, method=f"{s.method}+model",
                           body=s.body if kind != "other" else None))
    return out
