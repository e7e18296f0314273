"""CSV export: document text is data, so a cell a spreadsheet would run as a formula is neutralised."""
import csv
import json

import pytest

from conftest import FIXTURES, HashingEmbedder
from reviewnlp.export import neutralise_formula
from reviewnlp.pipeline import run

FORMULA_FIXTURE = FIXTURES / "recommendation_starting_with_formula.txt"


@pytest.fixture(scope="module")
def formula_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("formula_out")
    run([FORMULA_FIXTURE], out, embedder=HashingEmbedder())
    return out


def test_formula_cells_are_prefixed_in_csv_and_exact_in_jsonl(formula_run):
    rows = list(csv.DictReader((formula_run / "alignments.csv").read_text(encoding="utf-8-sig").splitlines()))
    recs = sorted(r["recommendation_text"] for r in rows)
    assert recs == ["'+44 The Government should publish data on kinship carers every year.",
                    "'-1 The Department should set up a kinship care taskforce by 2025.",
                    "'=HYPERLINK(\"http://attacker.example/steal\",\"Read the full recommendation\") "
                    "The Government should fund kinship carers.",
                    "'@SUM(1+1) The Government should give kinship carers paid leave."]
    for row in rows:  # no cell of any column starts a formula
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values())
    exact = sorted(json.loads(l)["recommendation_text"] for l in (formula_run / "alignments.jsonl").open())
    assert exact == sorted(r[1:] for r in recs)  # JSONL keeps the text exactly


@pytest.mark.parametrize("value,expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("plain", "plain"), ("", ""), (-1.5, -1.5), (3, 3), (None, None)])
def test_neutralise_formula_touches_only_text_that_starts_a_formula(value, expected):
    assert neutralise_formula(value) == expected
