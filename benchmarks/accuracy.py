"""Alignment accuracy on every hand-labelled pair, each run in its own folder, scored by the shared scorer.

usage: python benchmarks/accuracy.py [--shared ../shared] [--out /tmp/reviewnlp-accuracy] [--only NAME ...]

For each pair of ``shared/eval/pairs.tsv`` the two documents are run with the real CLI
(``reviewnlp run REPORT RESPONSE -o OUT/NAME``) and scored with
``python shared/eval/score.py OUT/NAME/alignments.jsonl GOLD --precision --json``; the
briefing seed (``corpus/seeds``) is scored on ``dev_gold.jsonl``.  Output folders are kept,
so a second run reuses each folder's cache and only redoes what changed.  Prints one table,
worst pair first (by response right), with each run's wall time, then the AUROC of
``status_confidence`` for "status right" (leave-one-pair-out with ``--held-out-status``) and the
share of wrong rows in the least confident fifth.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def jobs(shared: Path) -> list[tuple[str, list[Path], Path]]:
    """(name, input paths, gold file) for every pair in pairs.tsv, then the briefing seed."""
    out = []
    for line in (shared / "eval" / "pairs.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        if not line.strip():
            continue
        gold, docs = line.split("\t")
        out.append((Path(gold).stem, [shared / "corpus" / d for d in docs.split()], shared / "eval" / gold))
    out.append(("briefing", [shared / "corpus" / "seeds"], shared / "eval" / "dev_gold.jsonl"))
    return out


def held_out_model(name: str, out_root: Path) -> Path:
    """A status classifier of the shipped configuration fitted without this pair's labelled examples
    (scripts/train_status.py --leave-out)."""
    d = out_root / f"status-without-{name}"
    config = json.loads((ROOT / "models" / "status.json").read_text(encoding="utf-8"))["config"]
    subprocess.run([sys.executable, str(ROOT / "scripts" / "train_status.py"), "--leave-out", name, "--config", config,
                    "--model-dir", str(d), "--quiet"], check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return d


def run_one(name: str, inputs: list[Path], gold: Path, out_root: Path, shared: Path, held_out: bool = False) -> dict:
    """Run the CLI on one pair and score it; return the scorer's JSON plus the wall time.

    With ``held_out`` the status classifier is one fitted without the pair's own examples.
    """
    out = out_root / name
    exe = Path(sys.executable).with_name("reviewnlp")
    cmd = [str(exe) if exe.exists() else "reviewnlp", "run", *map(str, inputs), "-o", str(out), "-q"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if held_out:
        env["REVIEWNLP_STATUS_MODEL_DIR"] = str(held_out_model(name, out_root))
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{name}: reviewnlp run failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    score = subprocess.run([sys.executable, str(shared / "eval" / "score.py"), str(out / "alignments.jsonl"), str(gold),
                            "--precision", "--json"], capture_output=True, text=True, check=True)
    res = json.loads(score.stdout)
    res.update(name=name, wall_s=round(wall, 1))
    return res


def table(results: list[dict]) -> str:
    """The results as a Markdown table, worst response accuracy first."""
    lines = ["| pair | items | recall | precision | response right | status right | answer block right | rows | wall s |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(results, key=lambda r: (r["response_accuracy"], r["status_accuracy"], r["name"])):
        prec = f"{r['precision']:.0%}" if r["name"] != "briefing" else "-"
        block = f"{r['block_accuracy']:.0%}" if "block_accuracy" in r else "-"
        lines.append(f"| {r['name']} | {r['items']} | {r['recall']:.0%} | {prec} | {r['response_accuracy']:.0%} | "
                     f"{r['status_accuracy']:.0%} | {block} | {r['rows']} | {r['wall_s']} |")
    return "\n".join(lines)


def confidence_auroc(results: list[dict], out_root: Path, shared: Path) -> tuple[float | None, str]:
    """AUROC of ``status_confidence`` for "status right" over every answered, found gold item of the runs,
    and what share of the wrong rows the least confident fifth holds.  (With ``--held-out-status`` every
    pair's rows come from a model fitted without it: the leave-one-pair-out figure.)"""
    from sklearn.metrics import roc_auc_score

    from ablation import scorer  # the shared scorer's module, loaded once the same way

    sc = scorer(shared)
    gold_of = {name: gold for name, _, gold in jobs(shared)}
    right, conf = [], []
    for r in results:
        rows = [json.loads(line) for line in (out_root / r["name"] / "alignments.jsonl").read_text(encoding="utf-8").splitlines()]
        for g in (json.loads(line) for line in gold_of[r["name"]].read_text(encoding="utf-8").splitlines() if line.strip()):
            found = [x for x in rows if sc.covers(x.get("recommendation_text", ""), g["rec"], 0.8)]
            if not found:
                continue
            x = min(found, key=lambda x: len(x.get("recommendation_text", "")))
            if x["status"] == "gap" or x.get("status_confidence") is None:
                continue
            right.append(x["status"] in {g["status"], *g.get("also_ok", [])})
            conf.append(x["status_confidence"])
    if len(set(right)) < 2:
        return None, "AUROC: undefined (every row right, or none)"
    cut = sorted(conf)[len(conf) // 5]
    wrong_low = sum(1 for ok, c in zip(right, conf) if not ok and c <= cut)
    auc = float(roc_auc_score(right, conf))
    return auc, (f"status_confidence AUROC for status right: {auc:.3f} over {len(right)} answered rows; the least "
                 f"confident fifth (<= {cut:.3f}) holds {wrong_low} of {right.count(False)} wrong rows")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "reviewnlp-accuracy")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--held-out-status", action="store_true",
                    help="score each pair with a status classifier fitted without that pair's examples")
    args = ap.parse_args(argv)
    results = []
    for name, inputs, gold in jobs(args.shared):
        if args.only and name not in args.only:
            continue
        results.append(run_one(name, inputs, gold, args.out, args.shared, args.held_out_status))
        r = results[-1]
        print(f"{name}: recall {r['recall']:.0%}, response {r['response_accuracy']:.0%}, status "
              f"{r['status_accuracy']:.0%} ({r['wall_s']} s)", file=sys.stderr)
    print(table(results))
    print(confidence_auroc(results, args.out, args.shared)[1])
    (args.out / "accuracy.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
