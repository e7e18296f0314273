"""Vectors addressed by content: (embedding model, SHA-256 of the exact text embedded) -> vector.

A re-extraction, a segmentation change or an upgrade of reviewnlp changes
which document unit a sentence belongs to, its id and its neighbours, but
rarely its text; keyed by the text, its vector is found again and only texts
never seen before are embedded.  Identical texts of one run (running headers,
boilerplate, a report quoted in its response) are embedded once.

Layout: ``OUT/cache/vectors/<model digest>/`` holds ``model.json`` (the model
id, checked on every read, so another model's vectors are never returned) and
append-only shards, each a pair ``<name>.vecs.npy`` (float32 rows) and
``<name>.keys.npy`` (the rows' 32-byte text digests, sorted).  A shard is
written vectors first, keys last, each atomically (temp file and rename), so
a shard without its keys file is one a killed run never finished and is not
read; two runs writing at once write differently named shards.  A shard that
cannot be read, or whose two files disagree, is a miss, never an error.

This works because an embedder's vector for a text does not depend on the
texts embedded beside it (see :func:`reviewnlp.embed.equal_length_batches`).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from .records import atomic_save_npy, atomic_write_text

KEY_BYTES = 32


def text_key(text: str) -> bytes:
    """The cache key of one text: the SHA-256 of its UTF-8 bytes (lone surrogates kept as they are)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def model_folder(model_id: str) -> str:
    """The folder name for one model's vectors: a digest of its id."""
    return hashlib.sha256(model_id.encode("utf-8")).hexdigest()[:16]


class VectorStore:
    """One model's content-addressed vectors under ``root`` (normally ``OUT/cache/vectors``)."""

    def __init__(self, root: Path, model_id: str, dim: int) -> None:
        self.model_id, self.dim = model_id, dim
        self.dir = Path(root) / model_folder(model_id)
        self._shards: list[tuple[np.ndarray, np.ndarray]] | None = None
        self._index: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _load(self) -> list[tuple[np.ndarray, np.ndarray]]:
        if self._shards is not None:
            return self._shards
        shards: list[tuple[np.ndarray, np.ndarray]] = []
        try:
            meta = json.loads((self.dir / "model.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = None
        if isinstance(meta, dict) and meta.get("model_id") == self.model_id:
            for keys_path in sorted(self.dir.glob("*.keys.npy")):
                shard = _read_shard(keys_path, self.dim)
                if shard is not None:
                    shards.append(shard)
        self._shards = shards
        return shards

    def get(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The stored vector of each key that has one."""
        found: dict[bytes, np.ndarray] = {}
        if not keys:
            return found
        keys = list(keys)
        shards = self._load()
        if not shards:
            return found
        sorted_keys, shard_of, row_of = self._merged(shards)
        # numpy's S dtype drops trailing NUL bytes on the way out: answer with the caller's own key objects.
        want = np.array(keys, dtype=f"S{KEY_BYTES}")
        pos = np.searchsorted(sorted_keys, want)
        pos[pos >= len(sorted_keys)] = 0
        for i in np.flatnonzero(sorted_keys[pos] == want):
            found.setdefault(keys[i], np.array(shards[shard_of[pos[i]]][1][row_of[pos[i]]], dtype=np.float32))
        return found

    def _merged(self, shards: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every shard's keys in one sorted array, with the shard and row of each: one binary search per
        lookup, however many shards the runs have left."""
        if self._index is None:
            keys = np.concatenate([k for k, _ in shards])
            shard_of = np.concatenate([np.full(len(k), i, np.int32) for i, (k, _) in enumerate(shards)])
            row_of = np.concatenate([np.arange(len(k), dtype=np.int64) for k, _ in shards])
            order = np.argsort(keys, kind="stable")  # ties (a text in two shards): the first shard's row
            self._index = keys[order], shard_of[order], row_of[order]
        return self._index

    def put(self, keys: Sequence[bytes], vecs: np.ndarray) -> None:
        """Store ``vecs`` (one row per key) as a new shard, atomically."""
        if not len(keys):
            return
        arr = np.array(list(keys), dtype=f"S{KEY_BYTES}")
        order = np.argsort(arr, kind="stable")
        arr, rows = arr[order], np.ascontiguousarray(np.asarray(vecs, dtype=np.float32)[order])
        name = hashlib.sha256(arr.tobytes()).hexdigest()[:24]
        self.dir.mkdir(parents=True, exist_ok=True)
        if not (self.dir / "model.json").exists():
            atomic_write_text(self.dir / "model.json", json.dumps({"model_id": self.model_id, "dim": self.dim}))
        atomic_save_npy(self.dir / f"{name}.vecs.npy", rows)
        atomic_save_npy(self.dir / f"{name}.keys.npy", arr)  # last: its presence says the shard is whole
        if self._shards is not None:
            self._shards.append((arr, rows))
            self._index = None


def _read_shard(keys_path: Path, dim: int) -> tuple[np.ndarray, np.ndarray] | None:
    """A shard's sorted keys and its vectors (memory-mapped), or None when the pair is torn or foreign."""
    vecs_path = keys_path.with_name(keys_path.name[:-len(".keys.npy")] + ".vecs.npy")
    try:
        keys = np.load(keys_path, allow_pickle=False)
        vecs = np.load(vecs_path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if (keys.dtype != np.dtype(f"S{KEY_BYTES}") or keys.ndim != 1 or vecs.dtype != np.float32
            or vecs.shape != (len(keys), dim) or (len(keys) > 1 and not (keys[:-1] <= keys[1:]).all())):
        return None
    return keys, vecs
