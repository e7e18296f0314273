"""decide: the passage of an answer that carries the decision.

One scoring, one function: :func:`deciding_passage` picks the passage that
``response_text`` quotes, that ``status_evidence`` cites and that the status
features read.  A printed verdict decides outright; then a sentence that
declines, defers, pilots or commits to an action on what was asked, before
the warm opening words ("The government agrees that clear governance is
needed"); the share of the recommendation's words a sentence holds and its
cosine to it break the rest.  Pure functions over strings and arrays.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from ..cues import DONE_RE, FUTURE_RE, WARM_RE, stance_of
from ..vocab import content_words, idf_share, is_verdict, stems
from .blocks import is_fragment
from .settings import DEFAULT, DecideSettings


def decisiveness(text: str, settings: DecideSettings = DEFAULT.decide) -> float:
    """How much one sentence decides, from its words alone (higher decides more).

    A verdict line decides outright; a sentence that declines, defers,
    pilots or commits to an action comes next; a sentence that only agrees,
    welcomes or recognises ("The government agrees with the importance of
    ...") decides least.
    """
    if is_verdict(text):
        return settings.w_verdict
    score = 0.0
    st = stance_of(text)
    future = bool(FUTURE_RE.search(text))
    if st is not None:
        score += {"rejected": settings.w_rejected, "deferred": settings.w_deferred, "partial": settings.w_partial,
                  "accepted": settings.w_accepted}[st.label]
    if future:
        score += settings.w_future
    if WARM_RE.search(text) and not future and not DONE_RE.search(text) and (st is None or st.label == "accepted"):
        score += settings.w_warm_only  # "agrees with the Inquiry's insights": words, not a decision
    return score


def decision_scores(texts: Sequence[str], lexical: np.ndarray, dense: np.ndarray,
                    settings: DecideSettings = DEFAULT.decide) -> np.ndarray:
    """Score each sentence of one answer as the passage that carries the decision.

    ``lexical`` is the share of the recommendation's words each sentence
    contains and ``dense`` its cosine to the recommendation: a block about
    several asks decides each in the sentence that names it.
    """
    if not len(texts):
        return np.zeros(0, np.float32)
    words = np.array([decisiveness(t, settings) for t in texts], dtype=np.float32)
    return (words + settings.w_lexical * np.asarray(lexical, np.float32)
            + settings.w_dense * np.asarray(dense, np.float32))


def word_share(rec_text: str, texts: Sequence[str]) -> np.ndarray:
    """The share of the recommendation's (stemmed) content words each passage contains."""
    rc = stems(rec_text)
    return np.array([len(rc & stems(t)) / max(len(rc), 1) for t in texts], dtype=np.float32)


def unit(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to unit length (a zero vector stays zero)."""
    n = float(np.linalg.norm(v))
    return v / n if n else v


def deciding_passage(rec_text: str, rec_vec: np.ndarray, texts: Sequence[str], vecs: np.ndarray,
                     settings: DecideSettings = DEFAULT.decide, idf: dict[str, float] | None = None) -> int | None:
    """Index of the passage that decides the answer to a recommendation (None for no passages).

    A clause cut from a list (:func:`.blocks.is_fragment`) decides only when
    every passage is one.  The earlier passage wins a tie.  Run time and the
    status model's training data both choose with this function.
    """
    if not len(texts):
        return None
    dense = np.asarray(vecs, np.float32) @ unit(np.asarray(rec_vec, np.float32)) if len(vecs) else \
        np.zeros(len(texts), np.float32)
    if settings.lexical == "idf" and idf is not None:
        rec_words = content_words(rec_text)
        lexical = np.array([idf_share(rec_words, set(content_words(t)), idf) for t in texts], dtype=np.float32)
    else:
        lexical = word_share(rec_text, texts)
    scores = decision_scores(texts, lexical, dense, settings)
    eligible = np.array([not is_fragment(t) for t in texts])
    if eligible.any():
        scores = np.where(eligible, scores, -np.inf)
    return int(np.argmax(scores))
