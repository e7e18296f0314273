"""Leave-one-feature-out: the per-pair accuracy table with one alignment setting changed at a time.

usage: python benchmarks/ablation.py [--runs /tmp/reviewnlp-accuracy] [--shared ../shared] [--held-out] [VARIANT ...]

Reads the run folders ``benchmarks/accuracy.py --out RUNS`` leaves (documents, segments and vectors
of each pair), re-runs only the alignment stage in-process with the shipped settings and with each
named variant (a settings field set to another value, e.g. ``recommendations.promote_reprints=False``),
scores every pair with the shared scorer, and prints, per variant, the change on each pair in
recall / precision / response / status (shipped minus variant: positive where the shipped rule is
better).  A rule, threshold or feature is kept only when it helps at least two pairs (net gain over
the four figures) and costs none (no net loss).  ``--held-out`` scores each pair with the status model
fitted without it (the folders ``accuracy.py --held-out-status --out RUNS`` leaves), so a rule that
reads the learned status is judged on pairs the model was not trained on.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from reviewnlp.align import DEFAULT, align  # noqa: E402
from reviewnlp.pipeline import load_documents, load_segments  # noqa: E402

METRICS = ("recall", "precision", "response_accuracy", "status_accuracy")
# The settings a variant may change, by default: every switch of a rule added or kept by the alignment issue.
VARIANTS = ("recommendations.promote_reprints=False", "recommendations.contained_later=False",
            "match.dates_filter_structure=True", "decide.lexical='stems'")


def scorer(shared: Path):
    """The shared scorer's module (its ``covers``), loaded from the eval kit."""
    spec = importlib.util.spec_from_file_location("score", shared / "eval" / "score.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def score(rows: list[dict], gold: list[dict], covers) -> dict[str, float]:
    """What ``score.py --precision`` computes: recall, precision, response and status right."""
    found = status_ok = resp_ok = 0
    for g in gold:
        cands = [r for r in rows if covers(r.get("recommendation_text", ""), g["rec"], 0.8)]
        if not cands:
            continue
        found += 1
        r = min(cands, key=lambda r: len(r.get("recommendation_text", "")))
        status_ok += r.get("status") in {g["status"], *g.get("also_ok", [])}
        rt = r.get("response_text")
        if g["resp"]:
            ok = bool(rt) and any(covers(rt, q, 0.6) or covers(q, rt, 0.6) for q in g["resp"])
        else:
            ok = not rt or r.get("status") == "gap"
        if not ok and rt and g.get("verdict"):
            ok = any(r.get("response_page") == v["page"] and (covers(rt, v["text"], 0.8) or covers(v["text"], rt, 0.8))
                     for v in g["verdict"])
        resp_ok += ok
    n = len(gold)
    matched = [r for r in rows if any(covers(r.get("recommendation_text", ""), g["rec"], 0.8) for g in gold)]
    return {"recall": found / n, "precision": found / len(rows) if rows else 0.0, "response_accuracy": resp_ok / n,
            "status_accuracy": status_ok / n, "rows": len(rows), "matched": len(matched)}


def with_setting(settings, change: str):
    """``settings`` with one ``stage.field=value`` changed."""
    path, value = change.split("=", 1)
    stage, name = path.split(".")
    part = dataclasses.replace(getattr(settings, stage), **{name: eval(value, {})})  # noqa: S307 (our own CLI)
    return dataclasses.replace(settings, **{stage: part})


def pairs(shared: Path, runs: Path) -> list[tuple[str, Path, Path]]:
    """(name, run folder, gold file) for every pair of pairs.tsv with a finished run folder."""
    out = []
    for line in (shared / "eval" / "pairs.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        if line.strip():
            gold = line.split("\t")[0]
            name = Path(gold).stem
            if (runs / name / "vectors.npy").exists():
                out.append((name, runs / name, shared / "eval" / gold))
    # The briefing seed, scored on dev_gold.jsonl: its gold lists only the recommendations the briefing reports
    # with an answer, so its precision means nothing (the table shows it; read recall, response and status).
    if (runs / "briefing" / "vectors.npy").exists():
        out.append(("briefing", runs / "briefing", shared / "eval" / "dev_gold.jsonl"))
    return out


def evaluate(settings, jobs, covers, cache: dict, held_out: Path | None = None) -> dict[str, dict]:
    """Align every pair with ``settings`` and score it (with ``held_out``, each pair's status model is the one
    fitted without it, ``HELD_OUT/status-without-PAIR``, as ``accuracy.py --held-out-status`` leaves them)."""
    from reviewnlp.align.status_model import load as load_status

    out = {}
    for name, run, gold_path in jobs:
        if name not in cache:
            docs, segs = load_documents(run), load_segments(run)
            cache[name] = (docs, segs, np.load(run / "vectors.npy"),
                           [json.loads(line) for line in gold_path.read_text(encoding="utf-8").splitlines() if line.strip()])
        docs, segs, vecs, gold = cache[name]
        model = load_status(held_out / f"status-without-{name}") if held_out else None
        rows = align(docs, segs, vecs, {s.seg_id: i for i, s in enumerate(segs)}, settings=settings,
                     status_model=model)
        out[name] = score([r.to_dict() for r in rows], gold, covers)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "reviewnlp-accuracy")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--held-out", action="store_true",
                    help="score each pair with the status model fitted without it (run accuracy.py --held-out-status "
                         "--out RUNS first)")
    ap.add_argument("variants", nargs="*", default=list(VARIANTS))
    args = ap.parse_args(argv)
    covers = scorer(args.shared).covers
    jobs = pairs(args.shared, args.runs)
    cache: dict = {}
    held = args.runs if args.held_out else None
    base = evaluate(DEFAULT, jobs, covers, cache, held)
    print("| pair | " + " | ".join(METRICS) + " |\n|---|---|---|---|---|")
    for name, r in sorted(base.items(), key=lambda kv: kv[1]["response_accuracy"]):
        print(f"| {name} | " + " | ".join(f"{r[m]:.0%}" for m in METRICS) + " |")
    print("\n| variant | pairs helped by the rule | pairs hurt by the rule | per pair (recall/precision/response/status, "
          "shipped minus variant, points) |\n|---|---|---|---|")
    for change in args.variants:
        var = evaluate(with_setting(DEFAULT, change), jobs, covers, cache, held)
        deltas = {n: [round(100 * (base[n][m] - var[n][m])) for m in METRICS] for n in base}
        # A pair is helped when the rule's net effect over the four figures is a gain, hurt when it is a loss;
        # the detail shows any trade within a pair (more rows found, a few more false ones).
        helped = [n for n, d in deltas.items() if sum(d) > 0]
        hurt = [n for n, d in deltas.items() if sum(d) < 0]
        detail = "; ".join(f"{n} {'/'.join(f'{x:+d}' for x in d)}" for n, d in sorted(deltas.items()) if any(d))
        print(f"| `{change}` | {len(helped)} | {len(hurt)} | {detail or 'no change'} |")


if __name__ == "__main__":
    main()
