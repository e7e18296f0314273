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

from .errors import ReviewNLPError

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
        if g.get("resp"):
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


GOLD_KEYS = ("id", "rec", "status")
ROW_KEYS = ("recommendation_text", "status")
# What each key the scorer reads must hold (a key may be absent unless listed above): a wrong type is one
# line naming the file, the line and the key, not a TypeError half-way through scoring.
TEXT, TEXTS, OPTIONAL_TEXT, ID = "a string", "an array of strings", "a string or null", "a string or a number"
GOLD_TYPES = {"id": ID, "rec": TEXT, "status": TEXT, "also_ok": TEXTS, "resp": TEXTS}
ROW_TYPES = {"recommendation_text": TEXT, "status": TEXT, "response_text": OPTIONAL_TEXT}


def _holds(value: Any, kind: str) -> bool:
    if kind == TEXT:
        return isinstance(value, str)
    if kind == OPTIONAL_TEXT:
        return value is None or isinstance(value, str)
    if kind == ID:
        return isinstance(value, (str, int, float)) and not isinstance(value, bool)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _wrong_type(item: dict[str, Any], types: dict[str, str]) -> str | None:
    """Why the first key of ``item`` with a wrongly typed value is wrong, or None."""
    for key, kind in types.items():
        if key in item and not _holds(item[key], kind):
            value = item[key]
            if kind == TEXTS and isinstance(value, list):
                bad = next(v for v in value if not isinstance(v, str))
                return f"{key!r} must be {kind}, but it holds {_a_json(bad)}"
            return f"{key!r} must be {kind}, not {_a_json(value)}"
    return None


def _a_json(value: Any) -> str:
    """The JSON type of ``value`` with its article: "a number", "an array", "null"."""
    name = _json_type(value)
    return name if name == "null" else f"{'an' if name[0] in 'ao' else 'a'} {name}"


def read_items(path: str | Path, what: str, required: Sequence[str],
               types: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Read a JSONL file of objects that each have the ``required`` keys, or raise one clear error.

    ``what`` names the file's role in the message ("gold file", "alignments file"); ``types``
    maps keys to the kind of value they must hold (``GOLD_TYPES``, ``ROW_TYPES``).
    The first bad line is named with its number and what is wrong with it.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ReviewNLPError(f"{path}: not a valid {what}: not UTF-8 text (a binary file?)") from None
    except OSError as exc:
        raise ReviewNLPError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from exc
    items = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            raise ReviewNLPError(f"{path}:{n}: not a valid {what}: the line is not JSON") from None
        except RecursionError:  # "[[[[...]]]]" thousands deep: Python's parser gives up
            raise ReviewNLPError(f"{path}:{n}: not a valid {what}: the line's JSON nests too deeply "
                                 "to read") from None
        if not isinstance(item, dict):
            raise ReviewNLPError(f"{path}:{n}: not a valid {what}: expected a JSON object per line, "
                                 f"got a JSON {_json_type(item)}")
        missing = [k for k in required if k not in item]
        if missing:
            raise ReviewNLPError(f"{path}:{n}: not a valid {what}: no {', '.join(repr(k) for k in missing)}")
        wrong = _wrong_type(item, types or {})
        if wrong:
            raise ReviewNLPError(f"{path}:{n}: not a valid {what}: {wrong}")
        items.append(item)
    if not items:
        raise ReviewNLPError(f"{path}: the {what} is empty")
    return items


def _json_type(value: Any) -> str:
    return {list: "array", dict: "object", str: "string", bool: "boolean",
            type(None): "null"}.get(type(value), "number")


def score_files(alignments: str | Path, gold: str | Path) -> dict[str, Any]:
    """Score two JSONL files; see :func:`score`.  Malformed or empty files raise :class:`ReviewNLPError`.

    An alignments file with no rows is a valid (if poor) table only when it
    exists and is empty; it scores zero found.
    """
    path = Path(alignments)
    try:
        empty = not path.read_bytes().strip()
    except OSError as exc:
        raise ReviewNLPError(f"{path}: cannot read the alignments file ({exc.strerror or exc})") from exc
    gold_items = read_items(gold, "gold file", GOLD_KEYS, GOLD_TYPES)
    rows = [] if empty else read_items(path, "alignments file", ROW_KEYS, ROW_TYPES)
    return score(rows, gold_items)
