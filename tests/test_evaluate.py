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


# ------------------------------------------------ deep nesting and wrong types give one line too (round two)

DEEP = "[" * 3000 + "]" * 3000


@pytest.mark.parametrize("line,message", [
    (DEEP, "{p}:2: not a valid gold file: the line's JSON nests too deeply to read"),
    (json.dumps({**GOLD_ITEM, "id": "G2", "rec": {"x": [[[[DEEP]]]]}}).replace(json.dumps(DEEP), DEEP),
     "{p}:2: not a valid gold file: the line's JSON nests too deeply to read"),
    (json.dumps({**GOLD_ITEM, "rec": 5}), "{p}:2: not a valid gold file: 'rec' must be a string, not a number"),
    (json.dumps({**GOLD_ITEM, "also_ok": None}),
     "{p}:2: not a valid gold file: 'also_ok' must be an array of strings, not null"),
    (json.dumps({**GOLD_ITEM, "also_ok": "partial"}),
     "{p}:2: not a valid gold file: 'also_ok' must be an array of strings, not a string"),
    (json.dumps({**GOLD_ITEM, "resp": ["fund them", 3]}),
     "{p}:2: not a valid gold file: 'resp' must be an array of strings, but it holds a number"),
    (json.dumps({**GOLD_ITEM, "status": ["accepted"]}),
     "{p}:2: not a valid gold file: 'status' must be a string, not an array"),
    (json.dumps({**GOLD_ITEM, "id": {"n": 1}}),
     "{p}:2: not a valid gold file: 'id' must be a string or a number, not an object"),
])
def test_gold_line_nested_too_deep_or_of_the_wrong_type_is_one_numbered_error(tmp_path, line, message):
    """Once: RecursionError on "[[[[...]]]]" 3,000 deep, and TypeError on "rec": 5 or "also_ok": null."""
    rows, gold = tmp_path / "alignments.jsonl", tmp_path / "gold.jsonl"
    rows.write_text(json.dumps(ROW) + "\n")
    gold.write_text(json.dumps(GOLD_ITEM) + "\n" + line + "\n")
    res = _evaluate(rows, gold)
    assert (res.exit_code, res.output) == (1, "Error: " + message.format(p=gold) + "\n")


@pytest.mark.parametrize("line,message", [
    (DEEP, "{p}:2: not a valid alignments file: the line's JSON nests too deeply to read"),
    (json.dumps({**ROW, "recommendation_text": 5}),
     "{p}:2: not a valid alignments file: 'recommendation_text' must be a string, not a number"),
    (json.dumps({**ROW, "status": None}), "{p}:2: not a valid alignments file: 'status' must be a string, not null"),
    (json.dumps({**ROW, "response_text": ["We will fund them."]}),
     "{p}:2: not a valid alignments file: 'response_text' must be a string or null, not an array"),
])
def test_alignments_line_nested_too_deep_or_of_the_wrong_type_is_one_numbered_error(tmp_path, line, message):
    rows, gold = tmp_path / "alignments.jsonl", tmp_path / "gold.jsonl"
    rows.write_text(json.dumps(ROW) + "\n" + line + "\n")
    gold.write_text(json.dumps(GOLD_ITEM) + "\n")
    res = _evaluate(rows, gold)
    assert (res.exit_code, res.output) == (1, "Error: " + message.format(p=rows) + "\n")


def test_a_gap_row_with_null_response_and_a_numeric_gold_id_still_score(tmp_path):
    rows, gold = tmp_path / "alignments.jsonl", tmp_path / "gold.jsonl"
    rows.write_text(json.dumps({**ROW, "status": "gap", "response_text": None}) + "\n")
    gold.write_text(json.dumps({**GOLD_ITEM, "id": 7, "status": "gap", "resp": []}) + "\n")
    res = CliRunner().invoke(main, ["evaluate", str(rows), "--gold", str(gold), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["status_right"] == 1
