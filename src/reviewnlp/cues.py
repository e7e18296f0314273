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
from typing import Sequence

from .vocab import ASK_STOPWORDS, IN_PRINCIPLE

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
    r"(?<!\bits )(?<!\btheir )(?<!\bour )(?<!\bas )\brecommend(?:s|ed)?\b(?!\s+by\b)|\bcall(?:s|ed)? for\b"
    # A consultation's "Call for Evidence" or "open calls for input" asks for submissions, not for action.
    r"(?!\s+(?:evidence|ideas|input|views|submissions|contributions|comments|papers)\b)|\burge[sd]?\b"
    r"|\b(?:we|committee|inquiry)\s+invites?\s+the\b"
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
        r"\b(?:pathfinders?|pilot(?:s|ed|ing)?|(?<!criminal )(?<!court )(?<!fair )trial(?:s|led|ling)?(?! proceedings)"
        r"|(?<!should )(?<!must )test(?:s|ed|ing)?(?: the use of)?|early adopters?"
        r"|in part|partially|partly|(?:accept|agree)(?:s|d|ed)?(?: (?:this|the|these|all|that)(?: \w+){0,2})? "
        rf"{IN_PRINCIPLE}|up to \d+ (?:local )?areas"
        r"|initial|some areas|selected areas|phased|(?:building|working|moving) towards|as a first step|first phase)\b",
        re.I)),
    ("deferred", re.compile(
        r"\b(?:consider(?:s|ed|ing)?|giv(?:e|es|en|ing) (?:\w+ )?consideration to|explor(?:e|es|ed|ing|ation)|consult(?:s|ed|ing|ation)?(?: on)?|assess(?:es|ed|ing)?"
        r"|examin(?:e|es|ed|ing)|look (?:at|into)|in due course|whether to|keep (?:\w+ )?under review|review(?:ing)? the"
        r"|evaluat(?:e|es|ed|ing)|scoping|scope out|further work|when parliamentary time allows|set out (?:further|more) detail"
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


# A report's first person asking without "should" or "recommend": "We encourage UKSA to ...", "We endorse ...".
ASK_VERB_RE = re.compile(r"\b(?:we|the (?:committee|inquiry|commission|panel|review))\s+(?:\w+\s+)?"
                         r"(?:encourage|endorse|invite|call on|urge|ask)s?\b", re.I)


ASK_RECOMMEND_RE = re.compile(r"\brecommends?\b(?!\s+by\b)", re.I)


def asks(text: str) -> bool:
    """True when ``text`` asks for something: a deontic modal, "recommend(s)", or a report's own
    "we encourage / endorse / call on" (reported speech, "participants have called for", does not ask)."""
    return bool(MODAL_RE.search(text) or ASK_RECOMMEND_RE.search(text) or ASK_VERB_RE.search(text))


# What is left of a lead-in once its frame is gone: "To this end, we recommend that the Government:".
_FRAME_WORDS = frozenset("i accordingly therefore also further finally end following committee inquiry".split())
_OPEN_END_RE = re.compile(r"(?::|\b(?:the|a|an|that|to|of|and|or|for|by|with|its|their))\s*$", re.I)


def bare_leadin(text: str) -> bool:
    """True when ``text`` opens a recommendation and asks nothing yet: "I recommend that:", "To this end, we
    recommend that the Government:", or "We recommend that the" cut off at a line break.  Whatever it asks
    is printed after it."""
    if not ASK_RECOMMEND_RE.search(text) or not _OPEN_END_RE.search(text):
        return False
    rest = [w for w in re.findall(r"[a-z]+", text.lower()) if w not in ASK_STOPWORDS and w not in _FRAME_WORDS]
    return len(rest) <= 2


def recommendation_leadin(text: str) -> bool:
    """True when ``text`` introduces a list of recommendations ("Its recommendations included:")."""
    return bool(RECO_LEADIN_RE.search(text))


def modal(text: str) -> str | None:
    """Return the deontic modal in ``text`` ("should", "must", "needs to"), or None."""
    m = MODAL_RE.search(text)
    return m.group(0) if m else None


# ------------------------------------------------------------- entities

MONEY_RE = re.compile(
    r"(?P<cur>£|\$|€|US\$)\s?(?P<num>\d+(?:,\d{3})*(?:\.\d+)?)\s*(?P<unit>billion|bn|million|m|thousand|k)?\b"
    r"|(?P<num2>\d+(?:,\d{3})*(?:\.\d+)?)\s*(?P<unit2>billion|million)\s+(?P<cur2>pounds|euros|dollars)\b", re.I)
_SCALE = {"billion": 1e9, "bn": 1e9, "million": 1e6, "m": 1e6, "thousand": 1e3, "k": 1e3}
_CURRENCY = {"£": "GBP", "pounds": "GBP", "$": "USD", "us$": "USD", "dollars": "USD", "€": "EUR", "euros": "EUR"}


def money(text: str) -> list[dict]:
    """Every money amount in ``text``, normalised: "£2.6 billion" -> {"amount": 2.6e9, "currency": "GBP", ...}."""
    out = []
    for m in MONEY_RE.finditer(text):
        num, unit, cur = (m.group("num"), m.group("unit"), m.group("cur")) if m.group("num") else (
            m.group("num2"), m.group("unit2"), m.group("cur2"))
        try:
            value = float(num.replace(",", ""))
        except ValueError:
            continue
        if unit:
            value *= _SCALE[unit.lower()]
        out.append({"amount": value, "currency": _CURRENCY[cur.lower()], "text": m.group(0).strip()})
    return out


def money_amounts(text: str) -> list[float]:
    """Sterling amounts in ``text`` in pounds ("£2.6 billion" -> 2.6e9)."""
    return [m["amount"] for m in money(text) if m["currency"] == "GBP"]


_NUMBER_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}
QUANTITY_RE = re.compile(r"\b(?P<n>\d[\d,]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
                         r"(?:-|\s+)(?:additional\s+|new\s+|more\s+)?(?P<unit>[a-z]{3,})", re.I)


def quantities(text: str) -> dict[str, float]:
    """Counted things in ``text``: "a five-year framework" -> {"year": 5}, "9,000 foster carers" -> {"foster": 9000}.

    The unit is the word after the number, singularised; years ("2027") are dates, not counts.
    """
    out: dict[str, float] = {}
    for m in QUANTITY_RE.finditer(text):
        raw = m.group("n").lower().replace(",", "")
        n = float(_NUMBER_WORDS[raw]) if raw in _NUMBER_WORDS else float(raw)
        if raw.isdigit() and len(raw) == 4 and raw[:2] in ("19", "20"):
            continue
        unit = m.group("unit").lower()
        unit = unit[:-1] if unit.endswith("s") and not unit.endswith("ss") else unit
        out.setdefault(unit, n)
    return out


_SEASON_END = {"spring": "05-31", "summer": "08-31", "autumn": "11-30", "winter": "02-28"}
def money_short(asked_text: str, given_texts: Sequence[str]) -> str | None:
    """"£X against £Y" when the money the answers commit is under half the money asked, else None."""
    asked, given = money_amounts(asked_text), [m for t in given_texts for m in money_amounts(t)]
    if asked and given and max(given) < 0.5 * max(asked):
        return f"£{max(given):,.0f} against £{max(asked):,.0f}"
    return None


def count_short(asked_text: str, given_texts: Sequence[str]) -> str | None:
    """"2 years against 5" for the first answer that commits a smaller count of a unit asked, else None."""
    want = quantities(asked_text)
    for t in given_texts:
        for unit, n in quantities(t).items():
            if unit in want and n < want[unit]:
                return f"{n:g} {unit} against {want[unit]:g}"
    return None


DEADLINE_RE = re.compile(
    r"\b(?:(?:by|before|from|in|until|no later than)\s+(?:the\s+)?(?:(?P<edge>end|start|beginning)\s+of\s+)?)?"
    r"(?:(?P<season>spring|summer|autumn|winter)\s+|(?P<month>January|February|March|April|May|June|July|August"
    r"|September|October|November|December)\s+)?(?P<year>20\d\d)\b"
    r"|\b(?P<rel>by the end of (?:the|this) (?:year|Parliament)|within (?:\w+ )?(?:months?|years?)|in due course"
    r"|as soon as (?:possible|practicable)|without delay|urgently|immediately)\b", re.I)


def deadline(text: str) -> dict | None:
    """The first deadline in ``text``: its phrase and, when it names a year, the last day it allows.

    "by 2027" -> 2027-12-31; "by the end of 2023" -> 2023-12-31; "spring 2023" -> 2023-05-31;
    "as soon as possible" keeps its phrase with no date.  Only phrases with "by", "before",
    "until" or "no later than", a season or a month count, so "in 2022" (a past event) does not.
    """
    for m in DEADLINE_RE.finditer(text):
        if m.group("rel"):
            return {"text": m.group(0), "date": None}
        phrase = m.group(0)
        if not (re.match(r"(?i)(?:by|before|until|no later than)\b", phrase) or m.group("season") or m.group("month")):
            continue
        year = m.group("year")
        if m.group("season"):
            end = f"{year}-{_SEASON_END[m.group('season').lower()]}"
        elif m.group("month"):
            month = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
                     "october", "november", "december"].index(m.group("month").lower()) + 1
            end = f"{year}-{month:02d}-{[31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]:02d}"
        else:
            end = f"{year}-12-31"
        return {"text": phrase, "date": end}
    return None


_WHO = r"(?P<who>[A-Za-z][\w’'&-]*(?:,?\s+[\w’'&-]+){0,9}?)\s+"
_ASK = (r"(?:(?:should|must|ought to|needs? to)\b(?!\s+be\s+(?:\w+ed|\w+en|made|set|put|paid|held|kept|brought|sought"
        r"|built)\b)|(?=(?:publish|establish|introduce|provide|set|create|review|ensure|make|develop|take|consider"
        r"|commission|fund|work|bring|appoint|legislate|amend|extend|produce|require|adopt|implement)s?\b))")
# "we recommend that X <verb>" names X wherever it stands; otherwise the subject opening the sentence.
ADDRESSEE_RES = (re.compile(r"\b(?:recommend(?:s|ed)?\s+that|propose[sd]?\s+that|urge[sd]?)\s+" + _WHO + _ASK),
                 re.compile(r"^" + _WHO + _ASK))
ACTION_RE = re.compile(r"\b(?:should|must|ought to|needs? to)\s+(?:also\s+|urgently\s+|now\s+)?(?P<what>[^.;:]{3,120})")
SUBJUNCTIVE_ACTION_RE = re.compile(r"\brecommend(?:s|ed)?\s+that\s+(?:the\s+)?[A-Z][\w’'&-]*(?:\s+[A-Z][\w’'&-]*)*\s+"
                                   r"(?P<what>[a-z][^.;:]{3,120})")
NOT_AN_ACTOR = frozenset("in for as when if where while although after before once until by with without on at to "
                         "longer-term in future it this they there that which we these such each".split())


def addressee(text: str) -> str | None:
    """Who a recommendation asks to act: "The Department for Education should ..." -> "Department for Education".

    Passive asks ("Ofsted should be given new powers") name no addressee.
    """
    m = ADDRESSEE_RES[0].search(text) or ADDRESSEE_RES[1].search(text)
    if not m:
        return None
    who = re.sub(r"^(?:the|a|an)\s+", "", m.group("who").strip(" ,"), flags=re.I)
    first = who.split()[0].lower().rstrip(",")
    if first in NOT_AN_ACTOR or (not who[:1].isupper() and first not in {"local", "all", "every", "each", "national",
                                                                           "health", "police", "regional"}):
        return None
    return who


def action(text: str) -> str | None:
    """What a recommendation asks for: the verb phrase after its modal, up to the clause's end."""
    m = ACTION_RE.search(text) or SUBJUNCTIVE_ACTION_RE.search(text)
    return m.group("what").strip() if m else None


# ------------------------------------------------------------- modality and tense of government sentences

# Sentences that state what will happen (or has been done) rather than what the government thinks.
FUTURE_RE = re.compile(r"(?i)\b(?:will|shall|intends? to|intention is to|plans? to|(?:is|are) looking to|aims? to"
                       r"|(?:is|are) (?:now |currently |already )?(?:being )?(?:\w+ing)\b(?<!\bbeing))")
DONE_RE = re.compile(r"(?i)\b(?:has|have|had) (?:now |already |recently )?(?:been )?(?:\w+ed|set up|begun|made|built"
                     r"|taken|given|written|undertaken)\b|\b(?:established|published|launched|appointed|announced"
                     r"|commissioned|introduced|created) (?:in|on|by|last)\b")
# Warm words: agreement with an aim or an importance, with no action attached.
WARM_RE = re.compile(r"(?i)\b(?:agrees?|agreed|welcomes?|recognises?|recognizes?|acknowledges?|notes?|believes?"
                     r"|supports?|shares?|understands?|appreciates?)\b(?: (?:with|that|the))?")
HEDGE_RE = re.compile(r"(?i)\b(?:could|may|might|would|where (?:possible|appropriate)|if (?:appropriate|necessary))\b")
NEG_RE = re.compile(r"(?i)\b(?:not|no plans?|never|cannot|won[’']t|neither)\b")
CONSIDER_RE = re.compile(r"(?i)\b(?:consider\w*|explor\w+|consult\w*|review\w*|assess\w*|scop\w+|look(?:ing)? (?:at|into)"
                         r"|in due course|keep \w* ?under review|examin\w+|evaluat\w+|options?)\b")
ALREADY_RE = re.compile(r"(?i)\b(?:already|existing|currently|continues? to|continue to|remains?|in place)\b")
PRINCIPLE_RE = re.compile(rf"(?i)\b{IN_PRINCIPLE}\b")
PILOT_RE = re.compile(r"(?i)\b(?:pilot\w*|pathfinder\w*|trial\w*|test(?:s|ed|ing)?|early adopters?|phased?|first phase)\b")
TIMETABLE_RE = re.compile(r"(?i)\b(?:by|in|from|before|later (?:this|next)|early|end of|summer|spring|autumn|winter)"
                          r"\s+(?:20\d\d|this year|next year|the year)\b|\bwhen parliamentary time allows\b")
ELSEWHERE_RE = re.compile(r"(?i)\b(?:not (?:for|a matter for) (?:the )?(?:uk )?government|matter for the|devolved"
                          r"|for the (?:scottish|welsh) government|northern ireland executive|independent of government)\b")
