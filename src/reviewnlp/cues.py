"""Lexical cues for voice (who speaks), modality and government stance.

Pure functions over strings; :mod:`reviewnlp.segment` and :mod:`reviewnlp.align`
call them.  Each rule returns the matched phrase so outputs can cite their
evidence.  Order matters where noted: an explicit rejection outranks
everything, a pilot outranks a generic commitment, "consider"/"explore"
outranks "will".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# Who is speaking.  A government actor followed (within a few words) by a verb of
# commitment or position marks the government's voice.
GOV_ACTOR = (r"(?:the\s+)?(?:uk\s+|hm\s+|welsh\s+|scottish\s+)?government(?:'s|’s)?|\bwe\b|ministers?|the\s+minister"
             r"|the\s+(?:secretary of state|department(?:\s+for\s+[a-z]+(?:\s+and\s+[a-z]+)?)?|home office"
             r"|treasury|cabinet office|dfe|dhsc|dwp|mhclg|cps|nhs england)|the\s+strategy|the\s+response"
             r"|\bit\b(?=\s+(?:says|said|also says)\s+the\s+government)")
GOV_VERB = (r"(?:will|would|shall|intends?|plans?|has|have|had|is|are|was|were|agrees?|agreed|accepts?|accepted"
            r"|rejects?|rejected|does|do|did|commit(?:s|ted)?|wants?|proposes?|says?|said|sets?|set|notes?"
            r"|recognises?|supports?|welcomes?|remains?|can|cannot|continues?|aims?)")
# Words between actor and verb may not be a modal: "the Department should urgently set" is advice to
# the department, not the department speaking.
GOV_VOICE_RE = re.compile(
    rf"\b(?:{GOV_ACTOR})\s+(?:(?!should\b|must\b|ought\b|could\b|might\b|needs?\b)[\w’'-]+\s+){{0,3}}?{GOV_VERB}\b"
    r"|\b(?:the\s+)?government(?:\s+(?:will|would|has|had))?\s*:\s*$", re.I)

# A review, inquiry or committee speaking.
REVIEW_ACTOR_RE = re.compile(
    r"\b(?:the\s+)?(?:report|review|inquiry|committee|panel|authority|commission|ombudsman|phso|taskforce"
    r"|care review|cma|chair)\b", re.I)
RECOMMEND_RE = re.compile(r"\b(?:recommend(?:s|ed|ing|ation|ations)?|call(?:s|ed)? for|urge[sd]?)\b", re.I)
# A sentence that itself makes a recommendation, as opposed to mentioning one
# ("as recommended by", "its recommended changes", "based on the recommendations of").
RECOMMENDING_RE = re.compile(
    r"(?<!\bits )(?<!\btheir )(?<!\bour )(?<!\bas )\brecommend(?:s|ed)?\b(?!\s+by\b)|\bcall(?:s|ed)? for\b|\burge[sd]?\b"
    r"|\brecommendations?\s+(?:was|were|is|are)\s+(?:for|to|that)\b", re.I)
# A lead-in announcing that the list below holds recommendations.
RECO_LEADIN_RE = re.compile(
    r"(?:recommend(?:s|ed)?|propos(?:es|ed)|call(?:s|ed) for)\s*(?:that|the following|:)|(?:recommendations|conclusions|proposals)"
    r"\s+(?:and\s+recommendations\s+)?(?:included?|were|are|ranged|fell|was|as follows)\b", re.I)
MODAL_RE = re.compile(
    r"(?<!\bthan they )(?<!\bthan it )(?<!\bthan we )\b(?:should|must|ought to|needs? to be|needs? to|is needed|are needed"
    r"|it is essential that)\b", re.I)
# A review costing its own proposals ("would require £2.6 billion") is a funding ask.
# "will cost" is a forecast of the status quo, not an ask, so only the conditional counts.
FUNDING_ASK_RE = re.compile(r"\bwould (?:require|cost|need)\b.*£|£.*\bwould be (?:required|needed)\b",
                            re.I)
REPORTING_RE = re.compile(
    r"\b(?:said|says|added|argued|suggested|proposed|concluded|stated|set out|sets?|called|highlighted|identified"
    r"|noted|emphasised|emphasized|found|made|warned)\b", re.I)

# Government stance cues, strongest first.  Phrases are generic policy-language
# markers, not sentences from any one document.
STANCE_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("rejected", re.compile(
        r"\b(?:reject(?:s|ed)?|does not (?:intend|agree|accept|support|plan|propose|consider it)"
        r"|do not (?:intend|agree|accept|support|plan|propose)|did not (?:accept|agree)|will not|won[’']t"
        r"|not (?:be )?(?:taking|take) (?:this|it|these) forward|no (?:current )?plans to|not accept(?:ed)?"
        r"|disagrees?|declines?|declined|cannot (?:accept|support|agree)|not persuaded|is not minded|not proceed)\b",
        re.I)),
    ("partial", re.compile(
        r"\b(?:pathfinders?|pilot(?:s|ed|ing)?|trial(?:s|led|ling)?|test(?:s|ed|ing)?(?: the use of)?|early adopters?"
        r"|in part|partially|partly|accept(?:s|ed)? in principle|agree(?:s|d)? in principle|up to \d+ (?:local )?areas"
        r"|initial|some areas|selected areas|phased)\b", re.I)),
    ("deferred", re.compile(
        r"\b(?:consider(?:s|ed|ing)?|explor(?:e|es|ed|ing|ation)|consult(?:s|ed|ing|ation)?(?: on)?|assess(?:es|ed|ing)?"
        r"|examin(?:e|es|ed|ing)|look (?:at|into)|in due course|whether to|keep (?:\w+ )?under review|review(?:ing)? the"
        r"|evaluat(?:e|es|ed|ing)|scop(?:e|ing)|further work|when parliamentary time allows|set out (?:further|more) detail"
        r"|carefully considering|respond (?:in|by)|will respond|awaits?|develop (?:plans|proposals|options))\b", re.I)),
    ("accepted", re.compile(
        r"\b(?:accept(?:s|ed)?(?: (?:this|the|all|these))?|agree(?:s|d)?|(?:is|are|has|have been) (?:fully )?committed"
        r"|commit(?:s|ted)? to|will (?:establish|publish|introduce|provide|invest|create|set up|develop|implement"
        r"|legislate|deliver|increase|extend|make|launch|fund|issue|require|ensure|bring forward|strengthen|update"
        r"|expand|work|take|build|support|give|change|appoint|produce|track|have|focus|reform|boost)"
        r"|will (?:also )?be (?:produced|published|established|introduced|set up|developed|created|provided|extended"
        r"|launched|issued|implemented|delivered|expanded|increased|funded|made available|brought forward|legislated)"
        r"|ha(?:s|ve) (?:established|published|introduced|launched|set up|created|begun|implemented|appointed|legislated)"
        r"|is (?:establishing|introducing|implementing|delivering|working|setting up)"
        r"|(?:establishing|providing|publishing|investing|introducing|increase|provide|publish|invest|establish"
        r"|introduce|develop|set up|strengthen)\b)", re.I)),
)


@dataclass(frozen=True)
class Stance:
    """A stance label with the phrase that triggered it."""

    label: str
    cue: str


def stance_of(text: str) -> Stance | None:
    """Return the strongest stance cue in a government statement, or None when it commits to nothing."""
    for label, pattern in STANCE_CUES:
        m = pattern.search(text)
        if m:
            return Stance(label, m.group(0))
    return None


def is_gov_voice(text: str) -> str | None:
    """Return the phrase showing the government speaking in ``text``, or None."""
    m = GOV_VOICE_RE.search(text)
    return m.group(0) if m else None


def recommends(text: str) -> str | None:
    """Return the cue that makes ``text`` a recommendation in its own right ("recommended", "called for")."""
    m = RECOMMENDING_RE.search(text)
    return m.group(0) if m else None


def recommendation_leadin(text: str) -> bool:
    """True when ``text`` introduces a list of recommendations ("Its recommendations included:")."""
    return bool(RECO_LEADIN_RE.search(text))


def modal(text: str) -> str | None:
    """Return the deontic modal in ``text`` ("should", "must", "needs to"), or None."""
    m = MODAL_RE.search(text)
    return m.group(0) if m else None


# ------------------------------------------------------------- entities

MONEY_RE = re.compile(
    r"£\s?(\d+(?:[.,]\d+)*)\s*(billion|bn|million|m|thousand|k)?\b", re.I)
_SCALE = {"billion": 1e9, "bn": 1e9, "million": 1e6, "m": 1e6, "thousand": 1e3, "k": 1e3}


def money_amounts(text: str) -> list[float]:
    """Return every sterling amount in ``text`` in pounds ("£2.6 billion" -> 2.6e9)."""
    out = []
    for num, unit in MONEY_RE.findall(text):
        try:
            value = float(num.replace(",", ""))
        except ValueError:
            continue
        out.append(value * _SCALE.get(unit.lower(), 1.0) if unit else value)
    return out
