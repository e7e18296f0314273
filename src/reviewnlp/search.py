"""Search a finished run: dense (FAISS), lexical (BM25), hybrid, or exact phrase, with filters.

Hybrid ranking fuses the dense and the lexical rankings by reciprocal rank
fusion: ``score = 1/(60 + rank_dense) + 1/(60 + rank_bm25)``.  RRF needs no
calibration between cosine and BM25 scales, and a passage that both rankings
place high beats one that only one of them likes.  Filters are applied before
fusion, so the top k always satisfy them.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from .embed import Embedder, default_embedder
from .evaluate import fold
from .index import load_index
from .records import Alignment, Document, Segment, read_jsonl

RRF_K = 60
DENSE_POOL = 2000  # dense candidates fetched from FAISS before filtering
MODES = ("hybrid", "dense", "lexical", "phrase")
TOKEN_RE = re.compile(r"[a-z0-9£]+")
STOP = frozenset("a an the of to in on for and or by with is are was were be been what which who did do does "
                 "about any anyone say said".split())


def tokens(text: str) -> list[str]:
    """Lower-case word tokens without stop words (for BM25)."""
    return [t for t in TOKEN_RE.findall(text.lower()) if t not in STOP]


INTENT_RE = {
    "rejected": re.compile(r"\b(?:reject(?:ed|ion|s)?|turned down|declined|refused)\b", re.I),
    "deferred": re.compile(r"\b(?:deferred|put off|under consideration|still considering)\b", re.I),
    "accepted": re.compile(r"\b(?:accepted|agreed to|committed to)\b", re.I),
}


def intent_stances(query: str) -> set[str]:
    """Stances a question asks about: "what was rejected about the workforce?" -> {"rejected"}."""
    return {label for label, pattern in INTENT_RE.items() if pattern.search(query)}


class BM25:
    """Okapi BM25 over a fixed list of texts (k1=1.5, b=0.75)."""

    def __init__(self, texts: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        self.docs = [Counter(tokens(t)) for t in texts]
        self.lens = np.array([sum(d.values()) for d in self.docs], dtype=np.float32)
        self.avg = float(self.lens.mean()) if len(self.lens) else 0.0
        df = Counter(w for d in self.docs for w in d)
        n = len(self.docs)
        self.idf = {w: math.log(1 + (n - c + 0.5) / (c + 0.5)) for w, c in df.items()}
        self.postings: dict[str, list[int]] = {}
        for i, d in enumerate(self.docs):
            for w in d:
                self.postings.setdefault(w, []).append(i)
        self.k1, self.b = k1, b

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text for ``query`` (0 where no query word occurs)."""
        out = np.zeros(len(self.docs), dtype=np.float32)
        for w in set(tokens(query)):
            idf = self.idf.get(w)
            if idf is None:
                continue
            for i in self.postings[w]:
                tf = self.docs[i][w]
                out[i] += idf * tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * self.lens[i] / self.avg))
        return out


@dataclass(frozen=True)
class Hit:
    """One search result with its provenance and the sentence placed in its paragraph."""

    seg_id: str
    score: float
    dense: float | None
    lexical: float | None
    doc_id: str
    title: str
    path: str
    page: int | None
    section: str | None
    kind: str
    stance: str | None
    status: str | None
    body: str | None
    text: str
    context: str
    highlight: tuple[int, int]  # span of ``text`` inside ``context``

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class Searcher:
    """Loads a run's documents, segments, index and alignments once; answers many queries."""

    def __init__(self, out_dir: str | Path, embedder: Embedder | None = None) -> None:
        out_dir = Path(out_dir)
        self.embedder = embedder or default_embedder()
        self.index = load_index(out_dir / "index.faiss", expect_model=self.embedder.model_id)
        self.docs = {d.doc_id: d for d in read_jsonl(out_dir / "documents.jsonl", Document)}
        self.segs = list(read_jsonl(out_dir / "segments.jsonl", Segment))
        self.row = {s.seg_id: i for i, s in enumerate(self.segs)}
        self.status = _statuses(out_dir / "alignments.jsonl")
        self._bm25: BM25 | None = None

    @property
    def bm25(self) -> BM25:
        """The lexical index, built on first use."""
        if self._bm25 is None:
            self._bm25 = BM25([s.text for s in self.segs])
        return self._bm25

    def search(self, query: str, k: int = 10, mode: str = "hybrid", documents: Iterable[str] = (),
               kinds: Iterable[str] = (), bodies: Iterable[str] = (), stances: Iterable[str] = (),
               statuses: Iterable[str] = (), date_from: str | None = None, date_to: str | None = None) -> list[Hit]:
        """Top ``k`` segments for ``query``.

        A question that names a stance ("what was rejected ...") is filtered to
        it unless stances or statuses are given.  ``documents`` match a document's file name, title or id (substring,
        case-insensitive); ``bodies`` match the recommending body likewise; dates
        (ISO) bound the document's date.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        stances = set(stances)
        if not stances and not statuses and mode != "phrase":
            stances = intent_stances(query)  # the question names the answer it wants
        allowed = self._filter(documents, kinds, bodies, stances, statuses, date_from, date_to)
        if mode == "phrase":
            needle = fold(query)
            ranked = [(i, 1.0, None, None) for i in np.flatnonzero(allowed) if needle in fold(self.segs[i].text)]
            return [self._hit(i, sc, de, le) for i, sc, de, le in ranked[:k]]
        dense = self._dense(query, allowed) if mode in ("hybrid", "dense") else {}
        lexical = self._lexical(query, allowed) if mode in ("hybrid", "lexical") else {}
        fused: dict[int, float] = {}
        for ranking in (dense, lexical):
            for rank, i in enumerate(sorted(ranking, key=lambda i: -ranking[i])):
                fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
        order = sorted(fused, key=lambda i: (-fused[i], i))[:k]
        return [self._hit(i, fused[i], dense.get(i), lexical.get(i)) for i in order]

    def _dense(self, query: str, allowed: np.ndarray) -> dict[int, float]:
        qv = self.embedder.encode([query])
        hits = self.index.search(qv, k=min(self.index.index.ntotal, DENSE_POOL))[0]
        return {self.row[sid]: sc for sid, sc in hits if sid in self.row and allowed[self.row[sid]]}

    def _lexical(self, query: str, allowed: np.ndarray) -> dict[int, float]:
        sc = self.bm25.scores(query)
        idx = np.flatnonzero((sc > 0) & allowed)
        top = idx[np.argsort(-sc[idx], kind="stable")[:DENSE_POOL]]
        return {int(i): float(sc[i]) for i in top}

    def _filter(self, documents, kinds, bodies, stances, statuses, date_from, date_to) -> np.ndarray:
        documents, kinds, bodies = [d.lower() for d in documents], set(kinds), [b.lower() for b in bodies]
        stances, statuses = set(stances), set(statuses)
        keep = np.ones(len(self.segs), dtype=bool)
        for i, s in enumerate(self.segs):
            doc = self.docs.get(s.doc_id)
            if documents and not (doc and any(d in f"{Path(doc.path).name} {doc.title} {doc.doc_id}".lower()
                                              for d in documents)):
                keep[i] = False
            elif kinds and s.kind not in kinds:
                keep[i] = False
            elif bodies and not (s.body and any(b in s.body.lower() for b in bodies)):
                keep[i] = False
            elif stances and s.stance not in stances:
                keep[i] = False
            elif statuses and self.status.get(s.seg_id) not in statuses:
                keep[i] = False
            elif (date_from or date_to) and not (doc and doc.date and (not date_from or doc.date >= date_from)
                                                 and (not date_to or doc.date <= date_to)):
                keep[i] = False
        return keep

    def _hit(self, i: int, score: float, dense: float | None, lexical: float | None) -> Hit:
        s = self.segs[i]
        doc = self.docs[s.doc_id]
        a = doc.text.rfind("\n", 0, s.start) + 1
        b = doc.text.find("\n", s.end)
        b = len(doc.text) if b < 0 else b
        return Hit(seg_id=s.seg_id, score=round(float(score), 5), dense=None if dense is None else round(dense, 4),
                   lexical=None if lexical is None else round(lexical, 4), doc_id=s.doc_id, title=doc.title,
                   path=doc.path, page=s.page, section=s.section, kind=s.kind, stance=s.stance,
                   status=self.status.get(s.seg_id), body=s.body, text=s.text, context=doc.text[a:b],
                   highlight=(s.start - a, s.end - a))


def _statuses(path: Path) -> dict[str, str]:
    """Status of each recommendation segment, and of each passage chosen as an answer."""
    out: dict[str, str] = {}
    if not path.exists():
        return out
    for al in read_jsonl(path, Alignment):
        out[al.rec_id] = al.status
        if al.response_id:
            out.setdefault(al.response_id, al.status)
    return out

