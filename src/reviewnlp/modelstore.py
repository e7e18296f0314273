"""Shipped scikit-learn models: one ``NAME.joblib`` and a JSON card ``NAME.json`` under ``models/``.

The model id is the name plus the hash of the joblib file, so outputs can name
exactly which fitted model produced them.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .errors import ReviewNLPError

MODEL_DIR = Path(__file__).resolve().parent.parent.parent / "models"


def _model_id(name: str, path: Path) -> str:
    return f"{name}-{hashlib.sha256(path.read_bytes()).hexdigest()[:12]}"


def model_id(name: str, model_dir: Path = MODEL_DIR) -> str:
    """The id :func:`load_blob` gives the shipped model, found without unpickling it (cheap for cache keys)."""
    path = model_dir / f"{name}.joblib"
    if not path.exists():
        raise ReviewNLPError(f"{path}: {name} model not found")
    return _model_id(name, path)


def save_blob(name: str, blob: Any, card: dict, model_dir: Path = MODEL_DIR) -> str:
    """Write ``name.joblib`` and its card (with the model id added); return the model id."""
    import joblib

    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / f"{name}.joblib"
    joblib.dump(blob, path)
    card = {**card, "model_id": _model_id(name, path)}
    (model_dir / f"{name}.json").write_text(json.dumps(card, indent=2) + "\n")
    return card["model_id"]


def load_blob(name: str, script: str, model_dir: Path = MODEL_DIR) -> tuple[Any, str]:
    """Read ``name.joblib``; return (blob, model id), or fail naming the script that builds it."""
    import joblib

    path = model_dir / f"{name}.joblib"
    if not path.exists():
        raise ReviewNLPError(f"{path}: {name} model not found; run {script}")
    return joblib.load(path), _model_id(name, path)
