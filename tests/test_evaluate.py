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


# ------------------------------------------------ malformed files give one line (issue 13)

ROW = {"recommendation_text": "The Government should fund kinship carers.", "status": "accepted",
       "response_text": "We will fund them."}
GOLD_ITEM = {"id": "G1", "rec": "fund kinship carers", "status": "accepted", "also_ok": [], "resp": ["fund them"]}


def _evaluate(alignments, gold):
    return CliRunner().invoke(main, ["evaluate", str(alignments), "--gold", str(gold)])


@pytest.mark.parametrize("content,message", [
    (b"not json at all\n", "{p}:1: not a valid gold file: the line is not JSON"),
    (json.dumps({"id": "G1", "status": "gap"}).encode() + b"\n", "{p}:1: not a valid gold file: no 'rec'"),
    (json.dumps([GOLD_ITEM]).encode() + b"\n", "{p}:1: not a valid gold file: expected a JSON object per line, got a JSON array"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "{p}: not a valid gold file: not UTF-8 text (a binary file?)"),
    (b"", "{p}: the gold file is empty"),
    (b"\n  \n", "{p}: the gold file is empty"),
])
def test_malformed_gold_file_is_one_clear_error(tmp_path, content, message):
    rows, gold = tmp_path / "alignments.jsonl", tmp_path / "gold.jsonl"
    rows.write_text(json.dumps(ROW) + "\n")
    gold.write_bytes(content)
    res = _evaluate(rows, gold)
    assert (res.exit_code, res.output) == (1, "Error: " + message.format(p=gold) + "\n")


def test_documents_jsonl_given_as_gold_is_named_as_the_wrong_file(tmp_path):
    rows, docs = tmp_path / "alignments.jsonl", tmp_path / "documents.jsonl"
    rows.write_text(json.dumps(ROW) + "\n")
    docs.write_text(json.dumps({"doc_id": "ab12", "path": "x.pdf", "title": "X", "text": "..."}) + "\n")
    res = _evaluate(rows, docs)
    assert (res.exit_code, res.output) == (1, f"Error: {docs}:1: not a valid gold file: no 'id', 'rec', 'status'\n")


@pytest.mark.parametrize("content,message", [
    (b'{"recommendation_text": "x", "status": "gap"}\n{"broken\n', "{p}:2: not a valid alignments file: the line is not JSON"),
    (b'{"status": "gap"}\n', "{p}:1: not a valid alignments file: no 'recommendation_text'"),
    (b'"just a string"\n', "{p}:1: not a valid alignments file: expected a JSON object per line, got a JSON string"),
])
def test_malformed_alignments_file_is_one_clear_error(tmp_path, content, message):
    rows, gold = tmp_path / "alignments.jsonl", tmp_path / "gold.jsonl"
    rows.write_bytes(content)
    gold.write_text(json.dumps(GOLD_ITEM) + "\n")
    res = _evaluate(rows, gold)
    assert (res.exit_code, res.output) == (1, "Error: " + message.format(p=rows) + "\n")
