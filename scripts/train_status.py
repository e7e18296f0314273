"""Rebuild models/status.joblib (the status classifier) from data/status_examples.jsonl.

usage: python scripts/train_status.py [--leave-out GROUP ...] [--config NAME] [--model-dir DIR]
                                     [--corrections OUT ...] [--quiet]

Every hand-labelled (recommendation, answer block, verdict) example with a status other than
``gap`` is embedded with the project's MiniLM embedder and turned into the classifier's
features (:func:`reviewnlp.align.status_model.status_features`).  Model choices are compared by
cross-validation grouped by document pair (leave one pair out: no pair is both fitted and
scored); the chosen one is refitted on everything and its Platt calibration fitted on the held-out
probabilities.  The model card (models/status.json) records the grouped cross-validated
accuracy (exact, and counting ``also_ok``), per-class precision and recall, the confusion
matrix, accuracy per held-out pair, the cue rules' accuracy on the same examples, and the
expected calibration error before and after scaling.

``--corrections OUT`` adds the rows an analyst reviewed in the run folder OUT (``OUT/corrections.jsonl``,
:func:`reviewnlp.review.training_examples`) as labelled examples: the reviewed status, the row's answer
block and verdict.  Each report's reviewed rows form a cross-validation group of their own
(``corrections:<report file>``), and a reviewed row replaces a hand-labelled example of the same
recommendation and response document (the analyst's later judgement wins).

``--leave-out GROUP`` fits without that pair's examples (for held-out end-to-end figures in
benchmarks/accuracy.py); such a model is written to ``--model-dir`` and never shipped.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from reviewnlp.cues import stance_of
from reviewnlp.embed import default_embedder
from reviewnlp.modelstore import MODEL_DIR
from reviewnlp.align.decide import deciding_passage
from reviewnlp.align.status import RulesBaseline
from reviewnlp.vocab import content_words, idf as word_idf
from reviewnlp.align.status_model import (CLASSES, HAND_FEATURES, STANCE_DIM, AcceptableSet, StatusInput, deciding_index, ece,
                              new_model, new_passage_model, platt, save, select, stance_features, status_features)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "status_examples.jsonl"
# Pairs that answer the same recommendations are one group: the Commons Library briefing on the
# infected blood inquiry (cbp) restates the inquiry's recommendations and the government's answers.
CV_GROUP = {"cbp": "infected_blood", "ibgov": "infected_blood"}
CONFIGS = {**{f"lr_{'+'.join(fam)}_c{c}": {"c": c, "families": fam, "kind": "lr"}
              for fam, cs in ((("hand",), (0.01, 0.03, 0.1)), (("hand", "stance"), (0.01, 0.03)),
                              (("hand", "emb"), (0.01,)), (("hand", "ngram"), (0.01,)))
              for c in cs},
           **{f"gbt_{'+'.join(fam)}_lr{c}": {"c": c, "families": fam, "kind": "gbt"}
              for fam in (("hand",), ("hand", "stance")) for c in (0.03, 0.1)},
           **{f"acceptable_{'+'.join(fam)}_c{c}": {"c": c, "families": fam, "kind": "acceptable"}
              for fam, cs in ((("hand",), (0.003, 0.01, 0.03)), (("hand", "stance"), (0.01,)), (("hand", "emb"), (0.01,)))
              for c in cs}}
# The pair each labelled passage's document belongs to, for the passage stance model's grouping.
DOC_GROUP = (("infected_blood", "infected_blood"), ("CBP-10081", "infected_blood"), ("grenfell", "grenfell"),
             ("covid", "covid_m1"), ("behaviour_change", "behaviour_change"), ("home_affairs", "home_affairs"),
             ("waspi", "waspi"), (".txt", "briefing"))


def doc_group(doc: str) -> str:
    """The document pair a corpus file belongs to."""
    return next(g for key, g in DOC_GROUP if key in doc)


def passage_rows(rows: list[dict]) -> list[tuple[str, str, str]]:
    """(text, stance, group) for the passage stance model: the deciding span of every labelled example,
    plus the hand-labelled passages of data/labelled_stances.jsonl and data/labelled_segments.jsonl."""
    out = [(r["evidence"], r["status"], CV_GROUP.get(r["group"], r["group"])) for r in rows
           if r.get("evidence") and r["status"] in CLASSES]
    for name in ("labelled_stances.jsonl", "labelled_segments.jsonl"):
        for line in (ROOT / "data" / name).read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            out.append((r["text"], r.get("stance") or "none", doc_group(r["doc"])))
    return out


def fit_passage_model(vecs: np.ndarray, labels: np.ndarray):
    """The passage stance model fitted on the given passages."""
    return new_passage_model().fit(vecs, labels)


def stance_block(xs: list[StatusInput], pvecs: np.ndarray, plabels: np.ndarray, pgroups: np.ndarray,
                 xgroups: np.ndarray, fit_groups: np.ndarray) -> np.ndarray:
    """Stance features for every example whose group is in ``fit_groups``, each from a passage model that
    never saw that example's own group (leave one group out among ``fit_groups``)."""
    out = np.zeros((len(xs), STANCE_DIM), np.float32)
    for g in np.unique(fit_groups):
        pm = fit_passage_model(pvecs[np.isin(pgroups, fit_groups) & (pgroups != g)],
                               plabels[np.isin(pgroups, fit_groups) & (pgroups != g)])
        for i in np.flatnonzero(xgroups == g):
            out[i] = stance_features(pm, xs[i])
    return out


def load_examples(path: Path = DATA) -> list[dict]:
    """The labelled examples that have an answer (gaps have nothing to classify)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r["status"] in CLASSES and r["passages"]]


def with_corrections(rows: list[dict], run_dirs: list[Path]) -> list[dict]:
    """The examples plus every reviewed row of ``run_dirs``; a reviewed row replaces a hand-labelled example
    of the same recommendation text and response document."""
    from reviewnlp.review import training_examples

    extra = [e for d in run_dirs for e in training_examples(d) if e["status"] in CLASSES]
    replaced = {(e["rec"], e["response_doc"]) for e in extra}
    return [r for r in rows if (r["rec"], r.get("response_doc")) not in replaced] + extra


def inputs(rows: list[dict], extra: list[str]) -> tuple[list[StatusInput], dict[str, np.ndarray]]:
    """StatusInputs for the examples, and the vectors of ``extra`` texts; every text embedded once."""
    emb = default_embedder()
    texts = sorted({r["rec"] for r in rows} | {p["text"] for r in rows for p in r["passages"]} | set(extra))
    vecs = emb.encode(texts)
    at = {t: vecs[i] for i, t in enumerate(texts)}
    # The deciding passage is chosen as at run time: the same function, words weighted by their rarity in the
    # corpus at hand (here every example's passages).
    weights = word_idf([content_words(p["text"]) for r in rows for p in r["passages"]])
    out = []
    for r in rows:
        texts_r = [p["text"] for p in r["passages"]]
        pv = np.stack([at[t] for t in texts_r])
        out.append(StatusInput(r["rec"], at[r["rec"]], tuple(texts_r), pv, r["verdict"],
                               deciding_passage(r["rec"], at[r["rec"]], texts_r, pv, idf=weights)))
    return out, at


def rules_label(x: StatusInput) -> str:
    """What the cue rules alone say (the baseline behind the same interface as the classifier)."""
    return RulesBaseline().decide(x).status


def acceptable(y: np.ndarray, also: list[list[str]]) -> np.ndarray:
    """(n, 4) 0/1: whether each status is the label or one of its also_ok labels."""
    return np.array([[t == c or c in a for c in CLASSES] for t, a in zip(y, also)], dtype=float)


def _fit(cfg: dict, X: np.ndarray, y: np.ndarray, w: np.ndarray, also: list[list[str]]):
    cols = cfg["families"]
    if cfg["kind"] == "acceptable":
        return AcceptableSet(cfg["c"]).fit(select(X, cols), acceptable(y, also), w), cols
    X, y, w = with_also_ok(X, y, w, also)
    m = new_model(cfg["c"], cfg["kind"])
    step = "histgradientboostingclassifier" if cfg["kind"] == "gbt" else "logisticregression"
    m.fit(select(X, cols), y, **{f"{step}__sample_weight": w})
    return m, cols


def _proba(m, cols, X: np.ndarray) -> np.ndarray:
    p = m.predict_proba(select(X, cols))
    order = [list(m.classes_).index(c) for c in CLASSES]
    return p[:, order]


def with_also_ok(X: np.ndarray, y: np.ndarray, w: np.ndarray, also: list[list[str]]):
    """The training rows plus one row per defensible ``also_ok`` label at a third of the weight, so the
    model learns that a borderline answer sits between its labels."""
    extra = [(i, a) for i, al in enumerate(also) for a in al if a in CLASSES]
    if not extra:
        return X, y, w
    idx = np.array([i for i, _ in extra])
    return (np.concatenate([X, X[idx]]), np.concatenate([y, [a for _, a in extra]]),
            np.concatenate([w, w[idx] / 3.0]))


def grouped_oof(cfg: dict, X: np.ndarray, y: np.ndarray, w: np.ndarray, groups: np.ndarray,
                also: list[list[str]], stance) -> np.ndarray:
    """Held-out class probabilities: each pair scored by a model fitted on the other pairs.

    ``stance(fit_groups, test_group)`` gives the stance columns: for the training rows from passage
    models that leave each training group out in turn, for the held-out pair from one fitted on the
    training groups only, so no pair's own labels reach its score.
    """
    out = np.zeros((len(y), len(CLASSES)))
    for g in np.unique(groups):
        test = groups == g
        tr = np.flatnonzero(~test)
        Xg = np.concatenate([X, stance(np.unique(groups[~test]), g)], axis=1) if "stance" in cfg["families"] else X
        m, cols = _fit(cfg, Xg[tr], y[tr], w[tr], [also[i] for i in tr])
        out[test] = _proba(m, cols, Xg[test])
    return out


def right(pred: list[str], rows: list[dict], also: bool) -> np.ndarray:
    """Whether each prediction is the label (or, with ``also``, one of its also_ok labels)."""
    return np.array([p == r["status"] or (also and p in r.get("also_ok", [])) for p, r in zip(pred, rows)])


def report(pred: list[str], rows: list[dict]) -> dict:
    """Accuracy, per-class precision/recall and the confusion matrix (rows: label; columns: prediction)."""
    y = [r["status"] for r in rows]
    per = {}
    for c in CLASSES:
        tp = sum(p == c and t == c for p, t in zip(pred, y))
        per[c] = {"precision": round(tp / max(sum(p == c for p in pred), 1), 3),
                  "recall": round(tp / max(sum(t == c for t in y), 1), 3), "support": sum(t == c for t in y)}
    cm = {t: {p: sum(a == t and b == p for a, b in zip(y, pred)) for p in CLASSES} for t in CLASSES}
    return {"n": len(rows), "accuracy": round(float(right(pred, rows, False).mean()), 3),
            "accuracy_also_ok": round(float(right(pred, rows, True).mean()), 3), "per_class": per,
            "confusion": cm}


def fit_platt(score: np.ndarray, correct: np.ndarray) -> tuple[float, float]:
    """(a, b) of the logistic curve a * logit(score) + b that best predicts held-out correctness."""
    from sklearn.linear_model import LogisticRegression

    s = np.clip(score, 1e-4, 1 - 1e-4)
    lr = LogisticRegression(C=100.0).fit(np.log(s / (1 - s))[:, None], correct.astype(int))
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leave-out", action="append", default=[])
    ap.add_argument("--model-dir", type=Path, default=MODEL_DIR)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--config", choices=sorted(CONFIGS), help="fit this configuration only (no comparison)")
    ap.add_argument("--corrections", action="append", type=Path, default=[], metavar="OUT",
                    help="a run folder whose reviewed rows (OUT/corrections.jsonl) are added as examples")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    rows = with_corrections(load_examples(a.data), a.corrections)
    prows = passage_rows(rows)
    xs, at = inputs(rows, [t for t, _, _ in prows])
    X = np.stack([status_features(x) for x in xs])
    y = np.array([r["status"] for r in rows])
    groups = np.array([CV_GROUP.get(r["group"], r["group"]) for r in rows])
    # A recommendation's asks share its answer: weight them so each recommendation counts about once.
    n_asks = Counter(r["unit"] for r in rows if r["scope"] == "ask")
    w = np.array([1.0 if r["scope"] == "whole" else 1.0 / max(n_asks[r["unit"]], 1) for r in rows])
    keep = ~np.isin(groups, a.leave_out)
    prows = [p for p in prows if p[2] not in a.leave_out]
    pvecs = np.stack([at[t] for t, _, _ in prows])
    plabels, pgroups = np.array([s for _, s, _ in prows]), np.array([g for _, _, g in prows])
    xs = [x for x, k in zip(xs, keep) if k]
    rows_k = [r for r, k in zip(rows, keep) if k]
    also = [r.get("also_ok", []) for r in rows_k]
    X, y, w, groups = X[keep], y[keep], w[keep], groups[keep]
    say = (lambda *s: None) if a.quiet else print
    say(f"{len(rows_k)} examples; {dict(Counter(y))}; groups {dict(Counter(groups))}; {len(prows)} stance passages")
    cache: dict = {}

    def stance(fit_groups: np.ndarray, test_group: str) -> np.ndarray:
        key = (tuple(fit_groups), test_group)
        if key not in cache:
            out = stance_block(xs, pvecs, plabels, pgroups, groups, fit_groups)
            if test_group is not None:
                pm = fit_passage_model(pvecs[np.isin(pgroups, fit_groups)], plabels[np.isin(pgroups, fit_groups)])
                for i in np.flatnonzero(groups == test_group):
                    out[i] = stance_features(pm, xs[i])
            cache[key] = out
        return cache[key]
    results = {}
    for name, cfg in ({a.config: CONFIGS[a.config]} if a.config else CONFIGS).items():
        p = grouped_oof(cfg, X, y, w, groups, also, stance)
        pred = [CLASSES[i] for i in p.argmax(1)]
        results[name] = (p, report(pred, rows_k))
        say(f"{name:14s} grouped CV accuracy {results[name][1]['accuracy']:.3f}, "
            f"with also_ok {results[name][1]['accuracy_also_ok']:.3f}")
    best = max(results, key=lambda k: (results[k][1]["accuracy_also_ok"], results[k][1]["accuracy"]))
    p, rep = results[best]
    pred = [CLASSES[i] for i in p.argmax(1)]
    # The confidence claims the status is right as the scorer counts it: the label or an also_ok label.
    ok = right(pred, rows_k, True).astype(float)
    ab = fit_platt(p.max(1), ok)
    conf_raw, conf_t = p.max(1), platt(p.max(1), ab)
    rules = [rules_label(x) for x in xs]
    whole = np.array([r["scope"] == "whole" for r in rows_k])

    def accuracy_also_ok(mask: np.ndarray) -> float:
        idx = np.flatnonzero(mask)
        return round(float(right([pred[i] for i in idx], [rows_k[i] for i in idx], True).mean()), 3)

    per_group = {g: {"n": int((groups == g).sum()), "accuracy_also_ok": accuracy_also_ok(groups == g),
                     "whole_recommendations_also_ok": accuracy_also_ok((groups == g) & whole)}
                 for g in sorted(set(groups))}
    families = CONFIGS[best]["families"]
    # The stance columns (and the passage model behind them) only when the chosen model reads them.
    Xf = np.concatenate([X, stance(np.unique(groups), None)], axis=1) if "stance" in families else X
    m, cols = _fit(CONFIGS[best], Xf, y, w, also)
    pm = fit_passage_model(pvecs, plabels) if "stance" in families else None
    card = {"data": "data/status_examples.jsonl", "examples": len(rows_k), "classes": dict(Counter(y)),
            "left_out": a.leave_out, "config": best, "configs_compared": {k: v[1]["accuracy_also_ok"] for k, v in results.items()},
            "grouped_cv": rep, "grouped_cv_whole_recommendations": report([q for q, k in zip(pred, whole) if k],
                                                                   [r for r, k in zip(rows_k, whole) if k]),
            "per_held_out_pair": per_group, "cue_rules_same_examples": report(rules, rows_k),
            "calibration": [round(ab[0], 4), round(ab[1], 4)], "ece_before": ece(conf_raw, ok), "ece_after": ece(conf_t, ok),
            "features": {"hand": list(HAND_FEATURES), "emb": "recommendation and block-mean MiniLM unit vectors (2 x 384)",
                         "ngram": "hashed word 1-3 grams of the block, verdict words apart (4096)",
                         "stance": "a passage stance model over MiniLM vectors: mean, max and rec-weighted class "
                                   "probabilities over the block (15)"},
            "stance_passages": len(prows)}
    model_id = save({"model": m, "calibration": ab, "families": list(families), "passage_model": pm},
                    card, a.model_dir)
    say(json.dumps({k: card[k] for k in ("config", "grouped_cv", "per_held_out_pair", "calibration", "ece_before",
                                         "ece_after")}, indent=1))
    say(f"cue rules on the same examples: {card['cue_rules_same_examples']['accuracy']:.3f} "
        f"(also_ok {card['cue_rules_same_examples']['accuracy_also_ok']:.3f})")
    say(f"wrote {model_id}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
