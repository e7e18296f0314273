"""Shared fixtures: paths to real corpus files and a deterministic fake embedder for logic tests."""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"
SEED_BRIEFING = CORPUS / "seeds" / "001_5724dfca3f690e85.txt"
SMALL_PDF = CORPUS / "dev" / "hoc_home_affairs_summer2024_disorder_govt_response.pdf"
# A committee report and the government response that reprints its recommendations (SMALL_PDF): the smallest pair.
SMALL_REPORT = CORPUS / "dev" / "hoc_home_affairs_summer2024_disorder_report.pdf"
SHARED_EVAL = ROOT.parent / "shared" / "eval"


class HashingEmbedder:
    """Bag-of-words vectors from hashed content words: deterministic, no model, for logic tests only."""

    model_id = "test/hashing-bow-64"
    dim = 64

    def encode(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"[a-z]{3,}", t.lower()):
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


def fake_run(tmp_path_factory, files=(SMALL_REPORT, SMALL_PDF)) -> tuple[Path, Path]:
    """A real pipeline run with the fake embedder on copies of ``files`` (for tests of the tables, not of
    search); return (input folder, output folder)."""
    import shutil

    from reviewnlp.pipeline import run

    src = tmp_path_factory.mktemp("in")
    for f in files:
        shutil.copy(f, src / f.name)
    out = tmp_path_factory.mktemp("out")
    run([src], out, embedder=HashingEmbedder())
    return src, out


@pytest.fixture
def fake_embedder():
    return HashingEmbedder()


@pytest.fixture(scope="session")
def real_embedder():
    from reviewnlp.embed import default_embedder

    return default_embedder()
