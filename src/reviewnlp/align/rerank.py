"""Pair features and the trained reranker that scores (recommendation, passage) pairs.

Retrieval (dense cosine plus IDF-weighted word overlap) finds passages on the
same topic; the reranker decides which of them *answers* the recommendation.
It is a logistic regression over a handful of pair features (below), trained
by ``scripts/train_reranker.py`` on the hand-checked dev gold
(``data/dev_gold.jsonl``): candidates that contain a gold answer are
positives.  The gap threshold on its probability is calibrated on the same
data, out of fold (see :func:`gap_threshold`).  Structural matches of the PDF
pairs were tried as training data and dropped; the card reports them only as
a transfer check.

Label and quote matches are not features: they are exact evidence, kept as
explicit rules in :mod:`reviewnlp.align`.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from ..cues import GOV_VOICE_RE, money_amounts, stance_of
from ..errors import ReviewNLPError
from ..modelstore import MODEL_DIR, load_blob, save_blob
from ..records import Segment

MODEL_NAME = "reranker"
FEATURES = ("dense", "dense_margin", "dense_rank", "lexical", "lexical_rev", "bigram", "numbers_shared",
            "money_both", "section_overlap", "cites_rec", "kind_commitment", "kind_response", "kind_commentary",
            "kind_other", "gov", "stance", "log_words", "same_doc", "key_terms", "action_overlap")
# The recommendation's rarest words: what it specifically asks for ("windfall tax", "kinship leave").
KEY_TERMS = 3
CITES_REC_RE = re.compile(
    r"\bas recommended\b|\brecommendations?\b|\b(?:review|report|inquiry|committee|panel)(?:'s|’s)\s+(?:proposal|call)"
    r"|\bproposals? (?:of|by|from) the\b", re.I)
GOV_BODY_RE = re.compile(r"(?i)\b(?:government|department|minist|secretary of state|home office|treasury|cabinet office)")
NUMBER_RE = re.compile(r"\b\d[\d,.]*\b")
YEAR_RE = re.compile(r"^(?:19|20)\d\d$")


def numbers(text: str) -> set[str]:
    """Numbers in ``text`` other than years and one-digit counts ("9,000" -> "9000")."""
    out = set()
    for m in NUMBER_RE.finditer(text):
        n = m.group(0).rstrip(".,").replace(",", "")
        if n and not YEAR_RE.match(n) and len(n) > 1:
            out.add(n)
    return out


def bigrams(words: Sequence[str]) -> set[tuple[str, str]]:
    """Adjacent pairs of content words."""
    return set(zip(words, words[1:]))


@dataclass
class PoolText:
    """What the features need to know about each candidate passage, computed once per run."""

    words: list[list[str]]
    word_sets: list[frozenset[str]]
    bigrams: list[set]
    numbers: list[set[str]]
    money: np.ndarray          # bool: mentions sterling
    sections: list[set[str]]   # content words of the section title
    kinds: np.ndarray          # str
    gov: np.ndarray            # bool: the government speaks
    stance: np.ndarray         # bool: a stance cue
    log_words: np.ndarray
    cites: np.ndarray          # bool: mentions a recommendation or proposal
    doc_ids: np.ndarray        # str


def pool_text(segs: Sequence[Segment], words: Sequence[list[str]], section_words: Sequence[set[str]],
              gov: Sequence[bool]) -> PoolText:
    """Precompute per-passage feature inputs for ``segs`` (aligned with ``words``)."""
    return PoolText(
        words=list(words), word_sets=[frozenset(w) for w in words], bigrams=[bigrams(w) for w in words], numbers=[numbers(s.text) for s in segs],
        money=np.array([bool(money_amounts(s.text)) for s in segs], dtype=bool),
        sections=list(section_words), kinds=np.array([s.kind for s in segs], dtype=object),
        gov=np.array(gov, dtype=bool), stance=np.array([stance_of(s.text) is not None for s in segs], dtype=bool),
        log_words=np.array([math.log1p(len(s.text.split())) for s in segs], dtype=np.float32),
        cites=np.array([bool(CITES_REC_RE.search(s.text)) for s in segs], dtype=bool),
        doc_ids=np.array([s.doc_id for s in segs], dtype=object))


def is_gov(seg: Segment) -> bool:
    """True when the passage is the government's (or a responding department's) own statement."""
    return bool(seg.body and GOV_BODY_RE.search(seg.body)) or (
        seg.kind in ("commitment", "response") and bool(GOV_VOICE_RE.search(seg.text)))


def pair_features(rec: Segment, rec_words: Sequence[str], rec_section: set[str], dense: np.ndarray,
                  lexical: np.ndarray, lexical_rev: np.ndarray, pool: PoolText, sel: np.ndarray,
                  idf: dict[str, float] | None = None, action_words: Sequence[str] = ()) -> np.ndarray:
    """Feature matrix (len(sel) x len(FEATURES)) for ``rec`` against the pool rows ``sel``.

    ``dense``, ``lexical`` and ``lexical_rev`` are already restricted to ``sel``;
    ``idf`` ranks the recommendation's words for ``key_terms``, and
    ``action_words`` are the content words of what it asks for.
    """
    n = len(sel)
    if n == 0:
        return np.zeros((0, len(FEATURES)), np.float32)
    order = np.argsort(-dense, kind="stable")
    rank = np.empty(n, np.float32)
    rank[order] = np.arange(n, dtype=np.float32)
    rb, rn = bigrams(list(rec_words)), numbers(rec.text)
    rec_money = bool(money_amounts(rec.text))
    big = np.array([len(rb & pool.bigrams[i]) / max(1, len(rb)) for i in sel], np.float32)
    nums = np.array([bool(rn & pool.numbers[i]) for i in sel], np.float32)
    sect = np.array([len(rec_section & pool.sections[i]) / max(1, len(rec_section | pool.sections[i]))
                     for i in sel], np.float32)
    kinds = pool.kinds[sel]
    idf = idf or {}
    key = set(sorted(set(rec_words), key=lambda w: (-idf.get(w, 0.0), w))[:KEY_TERMS])
    act = set(action_words)
    keys = np.array([len(key & pool.word_sets[i]) / max(1, len(key)) for i in sel], np.float32)
    acts = np.array([len(act & pool.word_sets[i]) / len(act) if act else 0.0 for i in sel], np.float32)
    cols = [dense, dense - dense.max(), 1.0 / (1.0 + rank), lexical, lexical_rev, big, nums,
            (pool.money[sel] & rec_money).astype(np.float32), sect, pool.cites[sel].astype(np.float32),
            *((kinds == k).astype(np.float32) for k in ("commitment", "response", "commentary", "other")),
            pool.gov[sel].astype(np.float32), pool.stance[sel].astype(np.float32), pool.log_words[sel],
            (pool.doc_ids[sel] == rec.doc_id).astype(np.float32), keys, acts]
    return np.stack(cols, axis=1).astype(np.float32)


@dataclass(frozen=True)
class Reranker:
    """A fitted pair model and the gap threshold calibrated with it."""

    model: object
    threshold: float
    model_id: str

    def score(self, features: np.ndarray) -> np.ndarray:
        """Probability that each pair is an answer."""
        if len(features) == 0:
            return np.zeros(0, np.float32)
        return self.model.predict_proba(features)[:, 1].astype(np.float32)  # type: ignore[attr-defined]


def new_model():
    """An unfitted reranker: standardised features into a logistic regression (unweighted, so probabilities stay calibrated)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000,
                                                              random_state=0))


def gap_threshold(answered: Sequence[float], unanswered: Sequence[float]) -> float:
    """The probability cut that gets the most recommendations right.

    ``answered`` holds the best probability of each recommendation whose best
    passage is a true answer (kept, it is right); ``unanswered`` the best
    probability of each true gap (cut, it is right).  Answered
    recommendations whose best passage is wrong are wrong either way and are
    not passed.  The cut maximises the count right; ties take the midpoint of
    the widest run of equally good cuts.
    """
    a, u = np.asarray(answered, float), np.asarray(unanswered, float)
    cuts = np.unique(np.concatenate([a, u, [0.0, 1.0]]))
    mids = (cuts[:-1] + cuts[1:]) / 2
    right = np.array([(a >= t).sum() + (u < t).sum() for t in mids])
    best = np.flatnonzero(right == right.max())
    # The widest run of consecutive optimal cuts, then its middle.
    runs, start = [], best[0]
    for x, y in zip(best, best[1:]):
        if y != x + 1:
            runs.append((start, x))
            start = y
    runs.append((start, best[-1]))
    lo, hi = max(runs, key=lambda r: (cuts[r[1] + 1] - cuts[r[0]], -r[0]))
    return float((cuts[lo] + cuts[hi + 1]) / 2)


def save(model, threshold: float, card: dict, model_dir: Path = MODEL_DIR) -> str:
    """Write ``reranker.joblib`` and its JSON card; return the model id."""
    blob = {"model": model, "threshold": threshold, "features": FEATURES}
    return save_blob(MODEL_NAME, blob, {**card, "features": list(FEATURES), "threshold": threshold}, model_dir)


@lru_cache(maxsize=2)
def load(model_dir: Path = MODEL_DIR) -> Reranker:
    """Load the shipped reranker; fail clearly when it is missing or built for other features."""
    blob, model_id = load_blob(MODEL_NAME, "scripts/train_reranker.py", model_dir)
    if tuple(blob["features"]) != FEATURES:
        raise ReviewNLPError(f"{model_dir / MODEL_NAME}.joblib: built for other pair features; "
                             "run scripts/train_reranker.py")
    return Reranker(blob["model"], float(blob["threshold"]), model_id)
