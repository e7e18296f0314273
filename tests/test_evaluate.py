"""`reviewnlp evaluate` prints exactly what the shared score.py prints, on the same files."""
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import ROOT, SHARED_EVAL
from reviewnlp.cli import main

GOLD = ROOT / "data" / "dev_gold.jsonl"


def _rows(tmp_path):
    gold = [json.loads(l) for l in GOLD.read_text(encoding="utf-8").splitlines() if l.strip()]
    rows = []
    for i, g in enumerate(gold):
        # A spread of right and wrong answers: every third found, every other status right.
        if i % 3 == 0:
            continue
        status = g["status"] if i % 2 else "deferred"
        resp = (g["resp"][0] if g["resp"] else None) if i % 4 else "An unrelated passage about something else."
        rows.append({"recommendation_text": f"Before. {g['rec']} After.", "status": status, "response_text": resp})
    path = tmp_path / "alignments.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.skipif(not (SHARED_EVAL / "score.py").exists(), reason="shared eval kit not present")
def test_evaluate_matches_shared_scorer(tmp_path):
    path = _rows(tmp_path)
    shared = subprocess.run([sys.executable, str(SHARED_EVAL / "score.py"), str(path), str(GOLD)],
                            capture_output=True, text=True, check=True).stdout
    ours = CliRunner().invoke(main, ["evaluate", str(path), "--gold", str(GOLD)])
    assert ours.exit_code == 0
    assert ours.output == shared
    shared_json = json.loads(subprocess.run([sys.executable, str(SHARED_EVAL / "score.py"), str(path), str(GOLD),
                                             "--json"], capture_output=True, text=True, check=True).stdout)
    ours_json = json.loads(CliRunner().invoke(main, ["evaluate", str(path), "--gold", str(GOLD), "--json"]).output)
    for key in ("items", "found", "recall", "status_accuracy", "response_accuracy", "rows"):
        assert ours_json[key] == shared_json[key]


def test_bundled_gold_is_the_shared_one():
    if (SHARED_EVAL / "dev_gold.jsonl").exists():
        assert GOLD.read_bytes() == (SHARED_EVAL / "dev_gold.jsonl").read_bytes()
    assert sum(1 for l in GOLD.read_text(encoding="utf-8").splitlines() if l.strip()) == 44
