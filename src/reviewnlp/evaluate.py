"""Score an alignment table against a gold file with the evaluation contract's rules.

Matches ``score.py`` from the shared evaluation kit: a gold item is found when
a row's recommendation text contains its quote (after folding quotes, dashes
and white space) or shares >= 80% of its words; the tightest such row is judged.
"""
from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any, Sequence

_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                       "\u00a0": " "})


def fold(s: str | None) -> str:
    """Normalise quotes, dashes, footnote markers and white space; lower-case."""
    s = unicodedata.normalize("NFKC", s or "").translate(_FOLD)
    s = re.sub(r"<sup>\d+</sup>", " ", s)
    return re.sub(r"\s+", " ", s).strip().lower()


def _words(s: str) -> list[str]:
    return re.findall(r"[a-z0-9£%]+", fold(s))


def covers(pred: str | None, quote: str | None, need: float) -> bool:
    """True when ``pred`` contains ``quote`` or at least ``need`` of its words."""
    p, q = fold(pred), fold(quote)
    if not p or not q:
        return False
    if q in p:
        return True
    qw, pw = _words(quote or ""), set(_words(pred or ""))
    return bool(qw) and sum(w in pw for w in qw) / len(qw) >= need


def score(rows: Sequence[dict[str, Any]], gold: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Return {"metrics": {...}, "misses": [(id, reason)]} for alignment rows against gold items."""
    found = status_ok = resp_ok = 0
    misses = []
    for g in gold:
        cands = [r for r in rows if covers(r.get("recommendation_text", ""), g["rec"], 0.8)]
        if not cands:
            misses.append((g["id"], "not found"))
            continue
        found += 1
        r = min(cands, key=lambda r: len(r.get("recommendation_text", "")))
        ok_status = r.get("status") in {g["status"], *g.get("also_ok", [])}
        status_ok += ok_status
        rt = r.get("response_text")
        if g["resp"]:
            ok_resp = bool(rt) and any(covers(rt, q, 0.6) or covers(q, rt, 0.6) for q in g["resp"])
        else:
            ok_resp = not rt or r.get("status") == "gap"
        resp_ok += ok_resp
        if not (ok_status and ok_resp):
            misses.append((g["id"], f"status {r.get('status')} (gold {g['status']}); "
                                    f"response {'ok' if ok_resp else 'wrong'}"))
    n = len(gold) or 1
    metrics = dict(items=len(gold), found=found, recall=found / n, status_right=status_ok,
                   status_accuracy=status_ok / n, response_right=resp_ok, response_accuracy=resp_ok / n,
                   rows=len(rows))
    return {"metrics": metrics, "misses": misses}


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score_files(alignments: str | Path, gold: str | Path) -> dict[str, Any]:
    """Score two JSONL files; see :func:`score`."""
    return score(_read(Path(alignments)), _read(Path(gold)))
