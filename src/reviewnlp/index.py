"""Index stage: a FAISS inner-product index over unit vectors, saved with its model id.

With normalised vectors inner product is cosine similarity.  The index file
is never trusted alone: its sidecar names the embedding model and the segment
ids in row order, and :func:`load_index` refuses a model mismatch.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import faiss
import numpy as np

from .errors import ModelMismatchError, ReviewNLPError
from .records import atomic_write_bytes, atomic_write_text

IVF_MIN = 200_000   # from this many vectors, an approximate (IVF) index
NPROBE = 32         # cells searched per query in an IVF index


@dataclass
class VectorIndex:
    """A FAISS index plus the ids of its rows and the model that made them."""

    index: faiss.Index
    ids: list[str]
    model_id: str

    @classmethod
    def build(cls, ids: Sequence[str], vectors: np.ndarray, model_id: str, kind: str = "auto") -> "VectorIndex":
        """Build an inner-product index: exact (``flat``) or inverted-file (``ivf``); ``auto`` picks by size.

        Below ``IVF_MIN`` vectors a flat scan is fast enough (about 1 ms per query
        at 17k x 384) and exact; above it an IVF index with ``nlist = sqrt(n)``
        cells, probing ``NPROBE`` of them, keeps latency low.  Its recall against
        flat is measured by ``benchmarks/search_speed.py``.
        """
        if len(ids) != len(vectors):
            raise ReviewNLPError(f"{len(ids)} ids for {len(vectors)} vectors")
        dim = vectors.shape[1] if vectors.ndim == 2 and len(vectors) else 384
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if kind == "auto":
            kind = "ivf" if len(vectors) >= IVF_MIN else "flat"
        if kind == "flat":
            index = faiss.IndexFlatIP(dim)
        elif kind == "ivf":
            # sqrt(n) cells trained on 64 samples each: k-means stays seconds, not minutes, at 1M vectors.
            nlist = max(1, min(int(np.sqrt(len(vectors))), len(vectors) // 39))
            index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            rng = np.random.default_rng(0)
            sample = vectors[rng.choice(len(vectors), size=min(len(vectors), 64 * nlist), replace=False)]
            index.train(sample)
            index.nprobe = min(NPROBE, nlist)
        else:
            raise ReviewNLPError(f"unknown index kind {kind!r} (flat, ivf, auto)")
        if len(vectors):
            index.add(vectors)
        return cls(index=index, ids=list(ids), model_id=model_id)

    def search(self, queries: np.ndarray, k: int = 10) -> list[list[tuple[str, float]]]:
        """Return, per query vector, up to ``k`` (id, cosine) pairs, best first."""
        if self.index.ntotal == 0 or len(queries) == 0:
            return [[] for _ in range(len(queries))]
        k = min(k, self.index.ntotal)
        scores, rows = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
        return [[(self.ids[r], float(s)) for r, s in zip(rs, ss) if r >= 0] for rs, ss in zip(rows, scores)]

    def save(self, path: str | Path) -> None:
        """Write ``path`` (FAISS) and ``path.json`` (model id, ids) atomically."""
        path = Path(path)
        # Serialised in memory and written through a fresh temp file: a fixed temp name would let a link planted
        # under that name in the output folder redirect the write.
        atomic_write_bytes(path, faiss.serialize_index(self.index).tobytes())
        atomic_write_text(Path(f"{path}.json"), json.dumps(
            {"model_id": self.model_id, "dim": self.index.d, "ntotal": self.index.ntotal,
             "faiss": faiss.__version__, "kind": type(self.index).__name__, "ids": self.ids}))


def index_model_id(path: str | Path) -> str | None:
    """The model id recorded beside an index (None when there is no readable sidecar); loads no index."""
    try:
        return json.loads(Path(f"{path}.json").read_text(encoding="utf-8"))["model_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def load_index(path: str | Path, expect_model: str | None = None) -> VectorIndex:
    """Load an index saved by :meth:`VectorIndex.save`; refuse it if another model built it."""
    path = Path(path)
    meta_path = Path(f"{path}.json")
    if not path.exists() or not meta_path.exists():
        raise ReviewNLPError(f"{path}: no index here (expected {path.name} and {meta_path.name})")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if expect_model and meta["model_id"] != expect_model:
        raise ModelMismatchError(
            f"{path}: index was built with {meta['model_id']}, but this run uses {expect_model}")
    index = faiss.read_index(str(path))
    if hasattr(index, "nprobe"):
        index.nprobe = min(NPROBE, index.nlist)
    return VectorIndex(index=index, ids=meta["ids"], model_id=meta["model_id"])
