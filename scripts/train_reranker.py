"""Rebuild models/reranker.joblib from the hand-labelled report/response pairs (never the briefing).

usage: python scripts/train_reranker.py RUNS_DIR

RUNS_DIR holds one run folder per pair of ``data/pair_gold/pairs.tsv``, named after its gold
file (``covid_m1/``, ...), as ``python benchmarks/accuracy.py --out RUNS_DIR`` leaves them.

Training pairs: for each gold recommendation (``data/pair_gold/*.jsonl``) found among a run's
recommendations, the candidates that contain one of its gold answers (or its printed verdict
line, on the verdict's page) are positives; the 30 candidates nearest by cosine, plus a fixed
10% of the rest, are negatives.  Cross-validation leaves one document pair out at a time: the
card reports each held-out pair's top-1.  The pairs have no real gaps, so the gap threshold is
calibrated on the held-out probabilities of two cases: a recommendation with its answers
present (its best passage, when right) and the same recommendation with its answer block taken
out (the pages of its answers; its best remaining passage must be cut).  Passages on those pages
are not fitted as negatives either: they are the rest of the answer block.  The briefing seed and its dev gold
(``data/dev_gold.jsonl``) are never fitted on, so the briefing's score is a held-out figure.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from reviewnlp.align import prepare
from reviewnlp.align.match import candidates
from reviewnlp.embed import load_vectors
from reviewnlp.evaluate import covers
from reviewnlp.pipeline import load_documents, load_segments
from reviewnlp.align.rerank import FEATURES, gap_threshold, new_model, save

ROOT = Path(__file__).resolve().parent.parent
GOLD_DIR = ROOT / "data" / "pair_gold"
NEGATIVES = 30
# Besides the nearest negatives, a fixed pseudo-random share of the rest keeps the fitted
# distribution like the one the model ranks at run time (all candidates, most of them easy).
RANDOM_SHARE = 0.1


def pairs() -> list[tuple[str, Path]]:
    """(name, gold file) for every pair listed in ``data/pair_gold/pairs.tsv``."""
    out = []
    for line in (GOLD_DIR / "pairs.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip():
            gold = Path(line.split("\t")[0])
            out.append((gold.stem, GOLD_DIR / gold.name))
    return out


def collect(run_dir: Path, gold_path: Path):
    """Pair features, labels and recommendation ids for one pair's run and gold file."""
    docs = load_documents(run_dir)
    segs = load_segments(run_dir)
    _, vecs, _ = load_vectors(run_dir / "vectors.npy")
    _, folded, ctx = prepare(docs, segs, vecs, {s.seg_id: i for i, s in enumerate(segs)})
    recs = [ctx.segments[ctx.index_of[r.rec_id]] for r in folded.recommendations]
    gold = [json.loads(l) for l in gold_path.read_text(encoding="utf-8").splitlines() if l.strip()]
    X, y, rec_of, near = [], [], [], []
    for g in gold:
        matches = [r for r in recs if covers(r.text, g["rec"], 0.8)]
        if not matches or not g["resp"]:
            continue
        rec = min(matches, key=lambda r: len(r.text))
        c = candidates(ctx, rec)

        def right(seg) -> bool:
            t = seg.text
            return (len(t) > 40 and any(covers(t, q, 0.6) or covers(q, t, 0.6) for q in g["resp"])) or any(
                seg.page == v["page"] and covers(t, v["text"], 0.8) for v in g.get("verdict", []))

        hit = np.array([right(ctx.cands[i]) for i in c.sel], dtype=bool)
        if not hit.any():
            continue
        # Passages on the pages of a right answer (the rest of its block) are neither fitted as wrong
        # nor used as what remains once the answer is gone.
        pages = {(ctx.cands[i].doc_id, ctx.cands[i].page) for i, h in zip(c.sel, hit) if h}
        near.append(np.array([not h and any(d == ctx.cands[i].doc_id and p is not None and ctx.cands[i].page is not None
                                             and abs(p - ctx.cands[i].page) <= 1 for d, p in pages)
                              for i, h in zip(c.sel, hit)], dtype=bool))
        X.append(c.features)
        y.append(hit)
        rec_of.extend([f"{run_dir.name}:{rec.seg_id}"] * len(hit))
    if not X:
        return np.zeros((0, len(FEATURES)), np.float32), np.zeros(0, bool), np.zeros(0, str), np.zeros(0, bool)
    return np.concatenate(X), np.concatenate(y), np.array(rec_of), np.concatenate(near)


def fit_mask(y: np.ndarray, rec: np.ndarray) -> np.ndarray:
    """Every positive, the nearest negatives of each recommendation and a fixed share of the rest."""
    rank_in_rec = np.zeros(len(y), int)
    for r in np.unique(rec):
        idx = np.flatnonzero((rec == r) & ~y)
        rank_in_rec[idx] = np.arange(len(idx))
    return y | (rank_in_rec < NEGATIVES) | (_hash01(np.arange(len(y))) < RANDOM_SHARE)


def main(argv: list[str]) -> int:
    if not argv:
        raise SystemExit(__doc__)
    runs = Path(argv[0])
    parts = {name: collect(runs / name, gold) for name, gold in pairs()}
    X = np.concatenate([p[0] for p in parts.values()])
    y = np.concatenate([p[1] for p in parts.values()])
    rec = np.concatenate([p[2] for p in parts.values()])
    near = np.concatenate([p[3] for p in parts.values()])
    group = np.concatenate([[name] * len(p[1]) for name, p in parts.items()])
    mask = fit_mask(y, rec) & ~near
    oof = np.zeros(len(y))
    held_out = {}
    for name in parts:
        test = group == name
        m = new_model().fit(X[mask & ~test], y[mask & ~test])
        oof[test] = m.predict_proba(X[test])[:, 1]
        hits, n = _top1(oof[test], y[test], rec[test])
        base = _top1(X[test][:, FEATURES.index("dense")], y[test], rec[test])
        held_out[name] = {"recommendations": n, "top1_is_answer": hits, "top1_cosine_only": base[0]}
    present, removed = [], []
    for r in np.unique(rec):
        idx = np.flatnonzero(rec == r)
        if y[idx][_best(oof[idx])]:
            present.append(float(oof[idx].max()))
        neg = idx[~y[idx] & ~near[idx]]
        if len(neg):
            removed.append(float(oof[neg].max()))
    threshold = gap_threshold(present, removed)
    a, u = np.array(present), np.array(removed)
    model = new_model().fit(X[mask], y[mask])
    card = {
        "trained_on": "hand-labelled report/response pairs (data/pair_gold): passages quoting a gold answer, "
                      "or its printed verdict on its page, are positives; the briefing seed is never fitted on",
        "pairs": sorted(parts), "recommendations": int(len(np.unique(rec))),
        "pairs_fitted": int(mask.sum()), "positives": int(y[mask].sum()),
        "negatives": f"nearest {NEGATIVES} by cosine + {RANDOM_SHARE:.0%} of the rest, per recommendation",
        "cross_validation": "leave one document pair out; held-out probabilities",
        "held_out_top1": held_out,
        "held_out_top1_total": f"{sum(v['top1_is_answer'] for v in held_out.values())}/"
                               f"{sum(v['recommendations'] for v in held_out.values())}",
        "threshold_rule": "most right on held-out best probabilities: answers present (kept) against the same "
                          "recommendations with their answer pages removed (cut)",
        "held_out_right_answers_kept": round(float((a >= threshold).mean()), 4) if len(a) else None,
        "held_out_answerless_cut": round(float((u < threshold).mean()), 4) if len(u) else None,
        "coefficients": {f: round(float(c), 3) for f, c in zip(FEATURES, model[-1].coef_[0])},
    }
    card["model_id"] = save(model, round(threshold, 4), card)
    print(json.dumps(card, indent=2))
    return 0


def _best(scores: np.ndarray) -> int:
    """Index of the highest score, ties going to the last row: rows list positives first."""
    return int(len(scores) - 1 - np.argmax(scores[::-1]))


def _top1(score: np.ndarray, y: np.ndarray, rec: np.ndarray) -> tuple[int, int]:
    hits, n = 0, 0
    for r in np.unique(rec):
        idx = np.flatnonzero(rec == r)
        n += 1
        hits += bool(y[idx][_best(score[idx])])
    return hits, n


def _hash01(i: np.ndarray) -> np.ndarray:
    """Deterministic pseudo-random numbers in [0, 1) per row (no global random state)."""
    return ((i.astype(np.uint64) * np.uint64(2654435761)) % np.uint64(2 ** 32)).astype(np.float64) / 2 ** 32


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
