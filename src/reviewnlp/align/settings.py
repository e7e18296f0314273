"""Every threshold and weight of the alignment stages, one frozen dataclass per stage.

Each stage function takes its settings object (the defaults below unless told
otherwise), and :func:`settings_key` hashes them all into the alignment
stage's cache key, so changing a value re-aligns and nothing else.  The
README lists them.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class RoleSettings:
    """roles: what each document is."""

    # A document printing this many of another's recommendations (cosine >= reprint_cosine) copies it.
    min_reprints: int = 2
    reprint_cosine: float = 0.85
    # Shorter segments are too common to count as a word-for-word copy.
    min_words: int = 5
    # Government statements as a share of a document's recommendation and government segments: above
    # this it speaks for the government.
    gov_share: float = 0.5


@dataclass(frozen=True)
class PairSettings:
    """pair: which response answers which report."""

    partner_margin: float = 0.05
    partner_lift: float = 0.05
    # Shared "Recommendation N" numbers that can pair a response with a report.
    min_numbers: int = 2


@dataclass(frozen=True)
class RecommendationSettings:
    """recommendations: one canonical record per recommendation, its copies folded in."""

    # Near-verbatim reprint of a recommendation.
    quote_threshold: float = 0.9
    # A restatement in another section of the same report: close in meaning and sharing most words.
    restated_cosine: float = 0.75
    restated_overlap: float = 0.6
    # Documents with fewer numbered recommendations do not fold unnumbered asks into them.
    min_numbered: int = 3
    # Below this cosine to the same-numbered recommendation, a numbered passage answers rather than reprints.
    answer_cosine: float = 0.5
    contained_min_words: int = 5
    # What a response reprints as a recommendation is one in its report (see recommendations.reprint_runs).
    promote_reprints: bool = True
    # ... and the whole passage a response reprints is the recommendation, from its first sentence.
    whole_reprint: bool = True
    # A sentence a later, longer recommendation of the same report holds word for word folds into it.
    contained_later: bool = True
    # A bare lead-in ("I recommend that:") takes the list items printed after it, or is no recommendation.
    finish_leadins: bool = True
    # A "Recommendation N" block goes on over the asking sentences printed after it, under no label of their own.
    labelled_asks: bool = True


@dataclass(frozen=True)
class BlockSettings:
    """blocks: a response's answer blocks."""

    min_candidate_words: int = 5
    # More numbers than this in a row, with no passage between, are a list or contents page.
    max_group: int = 6
    # Segments apart before a scattered block counts as a new run.
    run_gap: int = 6


@dataclass(frozen=True)
class MatchSettings:
    """match: recommendation -> answer passages."""

    pool_k: int = 1000
    dense_weight: float = 0.75
    top_k: int = 5
    max_responses: int = 5
    # False: dates filter retrieval only, never an answer printed under the recommendation's reprint or number.
    dates_filter_structure: bool = False


@dataclass(frozen=True)
class DecideSettings:
    """decide: the passage of an answer that carries the decision.

    Generic policy-language markers: a printed verdict first, then sentences
    that decline, defer, pilot or commit, before warm words.
    """

    w_verdict: float = 6.0
    w_rejected: float = 1.0
    w_deferred: float = 1.0
    w_partial: float = 1.0
    w_accepted: float = 0.0
    w_future: float = 0.5
    w_warm_only: float = -0.5
    w_lexical: float = 3.0
    w_dense: float = 2.0
    # How the share of the recommendation's words is counted: "idf" (weighted by the word's rarity in the
    # corpus at hand: the run's passages, or the training examples') or "stems" (unweighted).
    lexical: str = "idf"


@dataclass(frozen=True)
class StatusSettings:
    """status: the rules baseline's reading of the answering passages."""

    # A row whose status_confidence is below this is marked needs_review, so an analyst can check the least
    # certain rows first: the 20th percentile of status_confidence over the answered rows of the eight
    # labelled sets with the shipped status model (0.715; the confidences are compressed, so this flags about a fifth).
    review_below: float = 0.715
    # The codebook's rejected declines: without a declining passage or a not-accepted/noted verdict, the next status.
    rejected_needs_decline: bool = True


@dataclass(frozen=True)
class AlignSettings:
    """All alignment settings, stage by stage."""

    roles: RoleSettings = field(default_factory=RoleSettings)
    pair: PairSettings = field(default_factory=PairSettings)
    recommendations: RecommendationSettings = field(default_factory=RecommendationSettings)
    blocks: BlockSettings = field(default_factory=BlockSettings)
    match: MatchSettings = field(default_factory=MatchSettings)
    decide: DecideSettings = field(default_factory=DecideSettings)
    status: StatusSettings = field(default_factory=StatusSettings)


DEFAULT = AlignSettings()


def settings_key(settings: AlignSettings = DEFAULT) -> str:
    """A short hash of every alignment setting (part of the alignment stage's cache key)."""
    return hashlib.sha256(json.dumps(asdict(settings), sort_keys=True).encode()).hexdigest()[:16]
