"""Rebuild models/segment_kind.joblib from data/labelled_segments.jsonl and the bundled corpus.

usage: python scripts/train_classifier.py

Labelled rows name a corpus file and a segment's text; the corpus is extracted
and segmented with the current rules so the model sees the same rule features
it will see at run time.  Prints the held-out report and writes the model card.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from reviewnlp.classify import data_hash, save_model, train
from reviewnlp.extract import discover, extract_many
from reviewnlp.segment import segment_many

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "labelled_segments.jsonl"


def _reanchor(row: dict, segs: list):
    """The segment a labelled text now lies in, when segmentation has merged or split it since labelling.

    It must contain the text, or be contained in it, covering at least 60% of the longer of the two.
    """
    text = row["text"]
    best, best_ratio = None, 0.6
    for s in segs:
        if text in s.text or s.text in text:
            ratio = min(len(text), len(s.text)) / max(len(text), len(s.text))
            if ratio >= best_ratio:
                best, best_ratio = s, ratio
    return best


def main() -> int:
    rows = [json.loads(l) for l in DATA.read_text(encoding="utf-8").splitlines() if l.strip()]
    docs, _ = extract_many(discover([ROOT / "corpus"]))
    names = {d.doc_id: Path(d.path).name for d in docs}
    all_segs = segment_many(docs)
    by_text = {(names[s.doc_id], s.text): s for s in all_segs}
    by_doc: dict[str, list] = {}
    for s in all_segs:
        by_doc.setdefault(names[s.doc_id], []).append(s)
    segs, labels, missing = [], [], []
    for r in rows:
        s = by_text.get((r["doc"], r["text"])) or _reanchor(r, by_doc.get(r["doc"], []))
        if s is None:
            missing.append(r["text"][:60])
            continue
        segs.append(s)
        labels.append(r["kind"])
    if missing:
        print(f"{len(missing)} labelled rows no longer match a segment (first: {missing[0]!r})", file=sys.stderr)
    model, card = train(segs, labels)
    card.update(data=str(DATA.relative_to(ROOT)), data_sha256=data_hash(DATA), n_labelled=len(rows),
                n_matched=len(segs))
    save_model(model, card, ROOT / "models")
    for name, rep in card["held_out"].items():
        print(f"held-out ({card['n_test']}) {name}: macro-F1 {rep['macro avg']['f1-score']:.2f}")
        for k in ("recommendation", "commitment", "response", "commentary", "other"):
            print(f"   {k:15s} P {rep[k]['precision']:.2f}  R {rep[k]['recall']:.2f}  n {int(rep[k]['support'])}")
    cv = card["cross_validated_5fold_model"]
    print(f"5-fold CV model macro-F1 {cv['macro avg']['f1-score']:.2f}, accuracy {cv['accuracy']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
