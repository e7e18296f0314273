"""Build data/status_examples.jsonl from the hand labels in data/status_labels/ and a pipeline run.

usage: python scripts/build_status_data.py RUN_DIR [RUN_DIR ...] [--labels data/status_labels] [--out data/status_examples.jsonl]

Each RUN_DIR is a ``reviewnlp run ... -o RUN_DIR`` output folder (its documents.jsonl and
segments.jsonl give the extracted text and the passages): ``corpus/`` for the bundled
documents, and one folder per labelled pair kept outside it (see data/README.md).  Each labelled unit becomes one
example per scope line ("whole" recommendation or one of its "ask"s):

- the recommendation (or ask) text as labelled;
- the answer block: the span the labeller confirmed (the tool's block, ``block_hint``) or, when
  the labeller said the tool's block was wrong, the span of the labeller's answer quotes;
- the block's government passages (the run's non-recommendation segments inside it, in print
  order), which is what the pipeline hands the classifier at run time;
- the final status and ``also_ok`` after the second pass (see ``adjudicated.jsonl``).

Quotes are found by exact match after normalising white space and apostrophes.  A unit whose
quotes cannot be found anywhere is reported and left out.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from reviewnlp.align.blocks import is_candidate  # noqa: E402
from reviewnlp.records import Segment  # noqa: E402

MAX_BLOCK = 8000  # characters: longer spans between far-apart quotes keep only the quoted passages


def norm_index(text: str) -> tuple[str, list[int]]:
    """Text with runs of white space made one space and curly quotes straightened, and the map back."""
    out, idx, prev_space = [], [], False
    for i, ch in enumerate(text):
        if ch.isspace():
            if prev_space:
                continue
            ch, prev_space = " ", True
        else:
            prev_space = False
            ch = {"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "‐": "-"}.get(ch, ch)
        out.append(ch)
        idx.append(i)
    return "".join(out), idx


class Locator:
    """Finds quotes in one document's text, forgiving white space and apostrophe style."""

    def __init__(self, text: str):
        self.text = text
        self.norm, self.idx = norm_index(text)

    def find(self, quote: str, near: int | None = None) -> tuple[int, int] | None:
        q, _ = norm_index(quote.strip())
        q = q.strip()
        if not q:
            return None
        hits = [m.start() for m in re.finditer(re.escape(q), self.norm)]
        if not hits:
            words = q.split()
            # A quote that ends in a misread word: the longest leading run of words that matches.
            for n in range(len(words) - 1, max(5, len(words) // 2) - 1, -1):
                head = " ".join(words[:n])
                hits = [m.start() for m in re.finditer(re.escape(head), self.norm)]
                if hits:
                    q = head
                    break
        if not hits:
            return None
        s = min(hits, key=lambda h: abs(self.idx[h] - near)) if near is not None else hits[0]
        return self.idx[s], self.idx[s + len(q) - 1] + 1


def load_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def build(run_dirs: Path | list[Path], labels: Path) -> tuple[list[dict], list[str]]:
    """Examples and the problems found (one line each), from one or more run folders."""
    run_dirs = [run_dirs] if isinstance(run_dirs, Path) else list(run_dirs)
    docs: dict[str, dict] = {}
    by_doc: dict[str, list[dict]] = {}
    for run_dir in run_dirs:
        docs.update({Path(d["path"]).name: d for d in load_jsonl(run_dir / "documents.jsonl")})
        for s in load_jsonl(run_dir / "segments.jsonl"):
            by_doc.setdefault(s["doc_id"], []).append(s)
    for v in by_doc.values():
        v[:] = list({s["seg_id"]: s for s in v}.values())  # a document in two run folders counts once
    for v in by_doc.values():
        v.sort(key=lambda s: s["start"])
    loc = {name: Locator(d["text"]) for name, d in docs.items()}
    final = {r["key"]: r for r in load_jsonl(labels / "adjudicated.jsonl")}
    out, problems = [], []
    for path in sorted((labels / "pass1").glob("*.jsonl")):
        for line in load_jsonl(path):
            if not line.get("is_rec", True) or line.get("no_asks"):
                continue
            key = f"{line['unit']}|{line.get('scope', 'whole')}|{line.get('ask') or ''}"
            fin = final.get(key)
            if fin is None:
                problems.append(f"{key}: no adjudicated label")
                continue
            ex = _example(line, fin, docs, by_doc, loc, problems)
            if ex:
                out.append(ex)
    return out, problems


def _example(line: dict, fin: dict, docs: dict, by_doc: dict, loc: dict, problems: list[str]) -> dict | None:
    unit = line["unit"]
    # A briefing reports the recommendation and the answer in one document.
    rdoc = line.get("response_doc") or fin.get("response_doc") or fin.get("rec_doc")
    if fin["status"] == "gap":
        span, passages, verdict = None, [], None
    else:
        if rdoc not in docs:
            problems.append(f"{unit}: response document {rdoc!r} not in the run")
            return None
        d = docs[rdoc]
        hint = fin.get("block_hint")
        spans = [s for q in line.get("answer") or [] if (s := loc[rdoc].find(q, hint[0] if hint else None))]
        vspan = loc[rdoc].find(line["verdict"], spans[0][0] if spans else None) if line.get("verdict") else None
        if line.get("block_ok") and hint:
            span = (hint[0], hint[1])
        elif spans:
            span = (min(s for s, _ in spans), max(e for _, e in spans))
        else:
            problems.append(f"{unit}: answer quotes not found in {rdoc}")
            return None
        if vspan and abs(vspan[0] - span[0]) < MAX_BLOCK:
            span = (min(span[0], vspan[0]), max(span[1], vspan[1]))
        # The same test of "a passage that may answer" as run time (reviewnlp.align.blocks.is_candidate).
        segs = [s for s in by_doc[d["doc_id"]] if s["end"] > span[0] and s["start"] < span[1]
                and is_candidate(Segment.from_dict(s))]
        if span[1] - span[0] > MAX_BLOCK and spans:
            near = [s for s in segs if any(s["end"] > a - 400 and s["start"] < b + 400 for a, b in [*spans, *([vspan] if vspan else [])])]
            segs = near or segs
        if not segs:
            problems.append(f"{unit}: no passages inside the answer span in {rdoc}")
            return None
        span = (segs[0]["start"], segs[-1]["end"])
        passages = [{"start": s["start"], "end": s["end"], "page": s["page"], "text": s["text"]} for s in segs]
        verdict = d["text"][vspan[0]:vspan[1]] if vspan else None
    rec = line.get("ask") if line.get("scope") == "ask" else (fin.get("rec_text") or line.get("rec_text") or line.get("rec"))
    return {"id": f"{unit}{'' if line.get('scope', 'whole') == 'whole' else ':' + str(fin.get('ask_no'))}",
            "unit": unit, "group": fin["group"], "scope": line.get("scope", "whole"),
            "rec_doc": fin.get("rec_doc"), "rec": rec, "response_doc": rdoc if span else None,
            "block": {"start": span[0], "end": span[1]} if span else None,
            "passages": passages, "verdict": verdict,
            "status": fin["status"], "also_ok": fin.get("also_ok", []),
            "first_pass": fin.get("first_pass"), "second_pass": fin.get("second_pass"),
            "evidence": line.get("evidence"), "cue": line.get("cue"), "hard_case": line.get("hard_case", []),
            "block_source": "tool" if line.get("block_ok") and fin.get("block_hint") else "labeller",
            "note": fin.get("note") or line.get("note")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path, nargs="+", help="run folders holding every labelled document")
    ap.add_argument("--labels", type=Path, default=ROOT / "data" / "status_labels")
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "status_examples.jsonl")
    a = ap.parse_args(argv)
    rows, problems = build(a.run_dir, a.labels)
    for p in problems:
        print("problem:", p)
    tmp = a.out.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(a.out)
    print(f"{len(rows)} examples -> {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
