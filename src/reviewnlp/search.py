"""Search a finished run: dense (FAISS), lexical (BM25), hybrid, or exact phrase, with filters.

Hybrid ranking fuses the dense and the lexical rankings by reciprocal rank
fusion: ``score = 1/(60 + rank_dense) + 1/(60 + rank_bm25)``.  RRF needs no
calibration between cosine and BM25 scales, and a passage that both rankings
place high beats one that only one of them likes.  Filters are applied before
fusion, so the top k always satisfy them.

What comes back is for reading (:mod:`reviewnlp.passages`): headings on their
own, contents lines, labels and stubs are skipped, and a text printed in
several places is one hit listing the others (``also_in``), both before the
top k are cut.  Each hit carries ``similarity``, the cosine between the
query's embedding and the passage's, which a reader can compare across
queries; RRF's ``score`` orders the hits but means nothing on its own.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import shlex
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from .embed import Embedder, default_embedder, embedder_for
from .errors import InvalidQueryError, OutputFolderError
from .evaluate import fold
from .index import VectorIndex, index_model_id, load_index
from .lexical import BM25, FILE as BM25_FILE, STOP, TOKEN_RE, texts_key, tokens  # noqa: F401 (BM25, tokens: API)
from .outdir import check_consistent
from .passages import EMPTY_QUERY, is_empty_query, left_out, same_text_key
from .records import KINDS, SHOWN_STATUSES, Alignment, Document, Segment, read_jsonl, shown_status

RRF_K = 60
DENSE_POOL = 2000  # dense candidates fetched from FAISS before filtering
# The most results one search returns (CLI -k, the web API's k): k=100000 once answered with 251 MB of JSON.
MAX_K = 100
# What a search needs from a run, the last-written first: its absence says best that no run finished here.
RUN_FILES = ("index.faiss", "documents.jsonl", "segments.jsonl")
MODES = ("hybrid", "dense", "lexical", "phrase")
STANCES = ("accepted", "partial", "deferred", "rejected")
# One model load and one query encoding at a time: 20 concurrent first searches on a fresh server each loaded
# the model (1.58 GB RSS instead of 0.52 GB).  Encoding one short query is milliseconds, so the lock costs nothing.
_MODEL_LOCK = threading.Lock()

INTENT_RE = {
    "rejected": re.compile(r"\b(?:reject(?:ed|ion|s)?|turned down|declined|refused)\b", re.I),
    "deferred": re.compile(r"\b(?:deferred|put off|under consideration|still considering)\b", re.I),
    "accepted": re.compile(r"\b(?:accepted|agreed to|committed to)\b", re.I),
}


def intent_stances(query: str) -> set[str]:
    """Stances a question asks about: "what was rejected about the workforce?" -> {"rejected"}."""
    return {label for label, pattern in INTENT_RE.items() if pattern.search(query)}


@dataclass(frozen=True)
class Hit:
    """One search result with its provenance and the sentence placed in its paragraph.

    ``score`` is the rank fusion score the ranking uses (RRF; 1.0 for a phrase match), for scripts;
    ``similarity`` is the cosine between the query's and the passage's embeddings, 0 to 1 in two
    decimals, for readers (None when the run's vectors were made by another model than the query's);
    ``also_in`` lists the other places the same text is printed (doc_id, title, page, section, seg_id).
    """

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
    similarity: float | None = None
    also_in: tuple[dict, ...] = ()

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


class Searcher:
    """Loads a run's documents, segments, index and alignments once; answers many queries.

    The embedder, the FAISS index and the BM25 postings are loaded on first use,
    so lexical and phrase queries with ``similarity=False`` never load an embedding model.  Without an
    ``embedder``, the one that reproduces the index's model id is used (a run
    made with the torch backend is queried with torch), else the default.
    """

    def __init__(self, out_dir: str | Path, embedder: Embedder | None = None) -> None:
        out_dir = Path(out_dir)
        check_consistent(out_dir)  # files of two runs mixed in one folder would answer wrongly
        check_finished(out_dir)
        self.out_dir = out_dir
        self._embedder = embedder
        self._index: VectorIndex | None = None
        self._load_lock = threading.Lock()
        self.docs = {d.doc_id: d for d in read_jsonl(out_dir / "documents.jsonl", Document)}
        self.segs = list(read_jsonl(out_dir / "segments.jsonl", Segment))
        self.row = {s.seg_id: i for i, s in enumerate(self.segs)}
        self.status, self.quoted = _statuses(out_dir / "alignments.jsonl")
        self._bm25: BM25 | None = None
        self._bm25_lock = threading.Lock()
        self._vectors: tuple[dict[str, int], np.ndarray, str] | None = None
        self._copies: dict[str, list[int]] | None = None
        self._headings: dict[str, frozenset[str]] = {}

    @property
    def embedder(self) -> Embedder:
        """The query embedder (its model is loaded only when it first encodes)."""
        with self._load_lock:
            if self._embedder is None:
                self._embedder = embedder_for(index_model_id(self.out_dir / "index.faiss")) or default_embedder()
        return self._embedder

    @property
    def index(self) -> VectorIndex:
        """The run's FAISS index, loaded on the first dense query; refused if another model built it."""
        model_id = self.embedder.model_id
        with self._load_lock:
            if self._index is None:
                self._index = load_index(self.out_dir / "index.faiss", expect_model=model_id)
        return self._index

    @property
    def bm25(self) -> BM25:
        """The lexical index: the run's saved postings, or built here when they are missing or stale."""
        with self._bm25_lock:
            if self._bm25 is None:
                texts = [s.text for s in self.segs]
                self._bm25 = BM25.load(self.out_dir / BM25_FILE, texts_key(texts)) or BM25(texts)
        return self._bm25

    def search(self, query: str, k: int = 10, mode: str = "hybrid", documents: Iterable[str] = (),
               kinds: Iterable[str] = (), bodies: Iterable[str] = (), stances: Iterable[str] = (),
               statuses: Iterable[str] = (), date_from: str | None = None, date_to: str | None = None,
               similarity: bool = True) -> list[Hit]:
        """Top ``k`` passages for ``query``, each text once (see :mod:`reviewnlp.passages` for what is left out).

        A question that names a stance ("what was rejected ...") is filtered to
        it unless stances or statuses are given.  ``documents`` match a document's file name, title or id (substring,
        case-insensitive); ``bodies`` match the recommending body likewise; dates
        (ISO) bound the document's date.  An empty query (or one of punctuation and
        stop words only) raises :class:`InvalidQueryError` with :data:`~reviewnlp.passages.EMPTY_QUERY`.
        ``similarity=False`` leaves a lexical or phrase search's hits without
        ``similarity``, so it loads no embedding model.
        """
        if mode not in MODES:
            raise InvalidQueryError(f"mode must be one of {', '.join(MODES)}")
        kinds, stances, statuses = list(kinds), set(stances), list(statuses)
        _check_query(k, kinds, stances, statuses, date_from, date_to)
        if is_empty_query(query):
            raise InvalidQueryError(EMPTY_QUERY)
        if not stances and not statuses and mode != "phrase":
            stances = intent_stances(query)  # the question names the answer it wants
        allowed = self._filter(documents, kinds, bodies, stances, statuses, date_from, date_to)
        qv = self._query_vector(query, needed=mode in ("hybrid", "dense"), similarity=similarity)
        dense: dict[int, float] = {}
        lexical: dict[int, float] = {}
        if mode == "phrase":
            needle = fold(query)
            fused = {int(i): 1.0 for i in np.flatnonzero(allowed) if needle in fold(self.segs[i].text)}
        else:
            dense = self._dense(qv, allowed) if mode in ("hybrid", "dense") else {}
            lexical = self._lexical(query, allowed) if mode in ("hybrid", "lexical") else {}
            fused = {}
            for ranking in (dense, lexical):
                for rank, i in enumerate(sorted(ranking, key=lambda i: -ranking[i])):
                    fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank + 1)
        picked = self._readable(sorted(fused, key=lambda i: (-fused[i], i)), k, allowed)
        cosines = self._cosines(qv, [shown for shown, _ in picked])
        for n, (shown, i) in enumerate(picked):
            if cosines[n] is None and i in dense:  # no vectors.npy (a folder made stage by stage): FAISS's cosine
                cosines[n] = round(min(1.0, max(0.0, dense[i])), 2)
        return [self._hit(shown, fused[i], dense.get(i), lexical.get(i), cosines[n])
                for n, (shown, i) in enumerate(picked)]

    def _query_vector(self, query: str, needed: bool, similarity: bool) -> np.ndarray | None:
        """The query's embedding; for a lexical or phrase search (not ``needed``) only to show similarity, and
        only when the run's vectors come from the query's model (else None, and no model is loaded)."""
        if not needed and not (similarity and self._saved_vectors() is not None):
            return None
        with _MODEL_LOCK:
            return self.embedder.encode([query])

    def _dense(self, qv: np.ndarray, allowed: np.ndarray) -> dict[int, float]:
        hits = self.index.search(qv, k=min(self.index.index.ntotal, DENSE_POOL))[0]
        return {self.row[sid]: sc for sid, sc in hits if sid in self.row and allowed[self.row[sid]]}

    def _readable(self, order: list[int], k: int, allowed: np.ndarray) -> list[tuple[int, int]]:
        """The first ``k`` of ``order`` that are passages worth reading, each text once, as (shown, ranked) rows.

        Copies of one text rank alike (same vector, same words), so which copy ranked first says nothing; the
        copy shown is the one the alignment table quotes (the report's recommendation rather than a response's
        reprint of it), else the first printed, among those the filters allow.
        """
        picked: list[tuple[int, int]] = []
        seen: set[str] = set()
        for i in order:
            s = self.segs[i]
            if left_out(s.text, s.kind, s.label, self._doc_headings(s.doc_id), s.seg_id in self.quoted):
                continue
            key = same_text_key(s.text)
            if key in seen:
                continue
            seen.add(key)
            copies = [j for j in self._copies_map().get(key, [i]) if allowed[j]] or [i]
            picked.append((min(copies, key=lambda j: (self.segs[j].seg_id not in self.quoted, j)), i))
            if len(picked) == k:
                break
        return picked

    def _doc_headings(self, doc_id: str) -> frozenset[str]:
        if doc_id not in self._headings:
            doc = self.docs.get(doc_id)
            self._headings[doc_id] = frozenset(same_text_key(h.title) for h in (doc.sections if doc else ()))
        return self._headings[doc_id]

    def _copies_map(self) -> dict[str, list[int]]:
        """Rows of every text printed more than once, by :func:`same_text_key`, in document order."""
        with self._load_lock:
            if self._copies is None:  # one pass over every text (0.1 s for 17k), the first time a search needs it
                groups: dict[str, list[int]] = {}
                for j, s in enumerate(self.segs):
                    groups.setdefault(same_text_key(s.text), []).append(j)
                self._copies = {key: rows for key, rows in groups.items() if len(rows) > 1}
        return self._copies

    def _also_in(self, i: int) -> tuple[dict, ...]:
        """The other places the text of segment ``i`` is printed, in document order."""
        out = []
        for j in self._copies_map().get(same_text_key(self.segs[i].text), ()):
            if j != i:
                s = self.segs[j]
                out.append({"doc_id": s.doc_id, "title": self.docs[s.doc_id].title if s.doc_id in self.docs else "",
                            "page": s.page, "section": s.section, "seg_id": s.seg_id})
        return tuple(out)

    def _cosines(self, qv: np.ndarray | None, rows: list[int]) -> list[float | None]:
        """Cosine of the query's vector with each row's saved vector, clipped to 0..1, in two decimals."""
        vectors = self._saved_vectors() if qv is not None else None
        if vectors is None:
            return [None] * len(rows)
        where, matrix, _ = vectors
        out: list[float | None] = []
        for i in rows:
            r = where.get(self.segs[i].seg_id)
            out.append(None if r is None else round(min(1.0, max(0.0, float(matrix[r] @ qv[0]))), 2))
        return out

    def _saved_vectors(self) -> tuple[dict[str, int], np.ndarray, str] | None:
        """The run's ``vectors.npy`` (memory-mapped) with its row of each id; None if absent or another model's.

        The query's embedder is checked against the vectors' model id before anything is encoded, so a
        lexical search of a run made with another model costs no model load and shows no similarity.
        """
        model_id = self.embedder.model_id
        with self._load_lock:
            if self._vectors is None:
                try:
                    meta = json.loads((self.out_dir / "vectors.json").read_text(encoding="utf-8"))
                    matrix = np.load(self.out_dir / "vectors.npy", mmap_mode="r")
                    ids = meta["ids"]
                    if matrix.ndim != 2 or len(ids) != len(matrix):
                        raise ValueError("ids and vectors differ in number")
                    self._vectors = ({sid: r for r, sid in enumerate(ids)}, matrix, meta["model_id"])
                except (OSError, ValueError, KeyError, TypeError):
                    self._vectors = ({}, np.zeros((0, 0), dtype=np.float32), "")
        return self._vectors if self._vectors[2] == model_id else None

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

    def _hit(self, i: int, score: float, dense: float | None, lexical: float | None,
             similarity: float | None) -> Hit:
        s = self.segs[i]
        doc = self.docs[s.doc_id]
        a = doc.text.rfind("\n", 0, s.start) + 1
        b = doc.text.find("\n", s.end)
        b = len(doc.text) if b < 0 else b
        return Hit(seg_id=s.seg_id, score=round(float(score), 5), dense=None if dense is None else round(dense, 4),
                   lexical=None if lexical is None else round(lexical, 4), doc_id=s.doc_id, title=doc.title,
                   path=doc.path, page=s.page, section=s.section, kind=s.kind, stance=s.stance,
                   status=self.status.get(s.seg_id), body=s.body, text=s.text, context=doc.text[a:b],
                   highlight=(s.start - a, s.end - a), similarity=similarity, also_in=self._also_in(i))


def check_finished(out_dir: str | Path) -> None:
    """Raise :class:`OutputFolderError` in one line when ``out_dir`` holds no finished run to search.

    Searching before any run, or with a wrong ``-o``, once ended in a 30-line FileNotFoundError traceback.
    """
    out_dir = Path(out_dir)
    missing = next((name for name in RUN_FILES if not (out_dir / name).is_file()), None)
    if missing:
        raise OutputFolderError(f"{out_dir}: no finished run here (no {missing}); make one with: "
                                f"reviewnlp run INPUTS -o {shlex.quote(str(out_dir))}")


def _check_query(k, kinds, stances, statuses, date_from, date_to) -> None:
    """Raise :class:`InvalidQueryError` for a value no filter accepts (it would silently match nothing or all)."""
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidQueryError(f"k must be a whole number of at least 1, not {k!r}")
    if k > MAX_K:
        raise InvalidQueryError(f"k must be at most {MAX_K}, not {k!r}")
    for name, given, allowed in (("kind", kinds, KINDS), ("stance", stances, STANCES),
                                 ("status", statuses, SHOWN_STATUSES)):
        bad = sorted(set(given) - set(allowed))
        if bad:
            raise InvalidQueryError(f"unknown {name} {bad[0]!r}; choose from {', '.join(allowed)}")
    for name, value in (("from", date_from), ("to", date_to)):
        if value is None:
            continue
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)):
                raise ValueError
            dt.date.fromisoformat(value)
        except ValueError:
            raise InvalidQueryError(f"{name} date {value!r} is not a date as YYYY-MM-DD") from None


def _statuses(path: Path) -> tuple[dict[str, str], frozenset[str]]:
    """Status of each recommendation segment and of each passage chosen as an answer, as a reader is shown it
    (``unpaired`` for a report nothing in the run answers), and the ids of both."""
    out: dict[str, str] = {}
    if not path.exists():
        return out, frozenset()
    for al in read_jsonl(path, Alignment):
        out[al.rec_id] = shown_status(al.status, al.match, bool((al.review or {}).get("reviewed")))
        if al.response_id:
            out.setdefault(al.response_id, al.status)
    return out, frozenset(out)

