"""BM25 over a run's segments, as posting arrays that are saved with the run and loaded by search.

Every term's BM25 weight per segment (idf x saturated, length-normalised tf)
is computed once when the index stage runs and written to ``OUT/bm25.npz``
next to the FAISS index.  A query is then a few array additions, and a
``reviewnlp search`` call loads the arrays (tens of milliseconds) instead of
re-tokenising every segment.  The file carries a key over the segment texts;
search rebuilds in memory when it does not match the run's segments.
"""
from __future__ import annotations

import hashlib
import io
import math
import re
import zipfile
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np

from .records import atomic_write_bytes
from .vocab import QUERY_STOPWORDS

TOKEN_RE = re.compile(r"[a-z0-9£]+")
STOP = QUERY_STOPWORDS
FORMAT = 1
FILE = "bm25.npz"  # in the run folder, written by the index stage


def tokens(text: str) -> list[str]:
    """Lower-case word tokens without stop words (for BM25)."""
    return [t for t in TOKEN_RE.findall(text.lower()) if t not in STOP]


def texts_key(texts: Sequence[str]) -> str:
    """A key over the texts in order (which segments a saved BM25 belongs to)."""
    h = hashlib.sha256(f"bm25-{FORMAT}".encode())
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\x00")
    return h.hexdigest()[:32]


class BM25:
    """Okapi BM25 over a fixed list of texts (k1=1.5, b=0.75), stored as per-term postings."""

    def __init__(self, texts: Sequence[str], k1: float = 1.5, b: float = 0.75) -> None:
        docs = [Counter(tokens(t)) for t in texts]
        lens = np.array([sum(d.values()) for d in docs], dtype=np.float64)
        avg = float(lens.mean()) if len(lens) else 0.0
        postings: dict[str, list[tuple[int, int]]] = {}
        for i, d in enumerate(docs):
            for w, tf in d.items():
                postings.setdefault(w, []).append((i, tf))
        n = len(docs)
        vocab = sorted(postings)
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        rows: list[int] = []
        weights: list[float] = []
        for j, w in enumerate(vocab):
            plist = postings[w]
            idf = math.log(1 + (n - len(plist) + 0.5) / (len(plist) + 0.5))
            for i, tf in plist:
                rows.append(i)
                weights.append(idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lens[i] / avg)))
            indptr[j + 1] = len(rows)
        self._set(vocab, indptr, np.array(rows, dtype=np.int32), np.array(weights, dtype=np.float32), n)

    def _set(self, vocab: list[str], indptr: np.ndarray, rows: np.ndarray, weights: np.ndarray, n: int) -> None:
        self.vocab = {w: j for j, w in enumerate(vocab)}
        self.indptr, self.rows, self.weights, self.n = indptr, rows, weights, n

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text for ``query`` (0 where no query word occurs)."""
        out = np.zeros(self.n, dtype=np.float64)
        for w in set(tokens(query)):
            j = self.vocab.get(w)
            if j is not None:
                a, b = self.indptr[j], self.indptr[j + 1]
                out[self.rows[a:b]] += self.weights[a:b]
        return out.astype(np.float32)

    def save(self, path: str | Path, key: str) -> None:
        """Write the postings to ``path`` (``.npz``, atomically) under ``key`` (see :func:`texts_key`)."""
        buf = io.BytesIO()
        np.savez(buf, vocab=np.array(sorted(self.vocab, key=self.vocab.get), dtype=str), indptr=self.indptr,
                 rows=self.rows, weights=self.weights, n=np.array(self.n), key=np.array(key))
        atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | Path, key: str) -> "BM25 | None":
        """The BM25 saved at ``path`` if it was built from texts with this ``key``; None otherwise."""
        try:
            with np.load(path, allow_pickle=False) as z:
                if str(z["key"]) != key:
                    return None
                self = cls.__new__(cls)
                self._set(z["vocab"].tolist(), z["indptr"], z["rows"], z["weights"], int(z["n"]))
                return self
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return None  # missing, torn or foreign: rebuilt by the caller
