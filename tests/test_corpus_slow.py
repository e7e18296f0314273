"""The whole bundled corpus through the CLI, scored against the dev gold (slow: ~3 min)."""
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import CORPUS, SHARED_EVAL
from reviewnlp.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus_out")
    res = CliRunner().invoke(main, ["run", str(CORPUS), "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


def test_whole_corpus_runs_without_failures(corpus_run):
    manifest = json.loads((corpus_run / "run.json").read_text())
    assert manifest["counts"]["documents"] == 16 and manifest["counts"]["failed"] == 0
    assert manifest["counts"]["pages"] > 900


@pytest.mark.skipif(not (SHARED_EVAL / "score.py").exists(), reason="shared eval kit not present")
def test_dev_gold_holds_the_measured_accuracy(corpus_run):
    res = subprocess.run([sys.executable, str(SHARED_EVAL / "score.py"), str(corpus_run / "alignments.jsonl"),
                          str(SHARED_EVAL / "dev_gold.jsonl"), "--json"], capture_output=True, text=True, check=True)
    metrics = json.loads(res.stdout)
    print(metrics)
    # Regression guard a little under the held-out figures in the README (the reranker never fits the briefing):
    # 100% found, 64% status, 43% response on the whole corpus.
    assert metrics["recall"] >= 0.95 and metrics["status_accuracy"] >= 0.55 and metrics["response_accuracy"] >= 0.38


def test_in_a_mixed_corpus_each_report_is_answered_by_its_own_response(corpus_run):
    """Every numbered report shares numbers with every numbered response; only content pairs them."""
    docs = {json.loads(l)["doc_id"]: json.loads(l)["path"] for l in (corpus_run / "documents.jsonl").open()}
    pairing = json.loads((corpus_run / "pairing.json").read_text())
    for report, response in [("covid_inquiry_module1_report.pdf", "covid_inquiry_module1_govt_response.pdf"),
                             ("hol_behaviour_change_report.pdf", "hol_behaviour_change_govt_response.pdf"),
                             ("hoc_home_affairs_summer2024_disorder_report.pdf",
                              "hoc_home_affairs_summer2024_disorder_govt_response.pdf")]:
        rid = next(d for d, p in docs.items() if p.endswith(report))
        assert [p["path"].rsplit("/", 1)[-1] for p in pairing[rid]["partners"]] == [response]
        rows = [json.loads(l) for l in (corpus_run / "alignments.jsonl").open()]
        answered = {docs[r["response_doc_id"]].rsplit("/", 1)[-1] for r in rows
                    if r["rec_doc_id"] == rid and r["match"] == "explicit"}
        assert answered == {response}


def _labels(out, name):
    docs = {json.loads(l)["doc_id"]: json.loads(l)["path"] for l in (out / "documents.jsonl").read_text().splitlines()}
    labels = set()
    for line in (out / "segments.jsonl").read_text().splitlines():
        s = json.loads(line)
        if s["kind"] == "recommendation" and docs[s["doc_id"]].endswith(name) and s["label"]:
            labels.add(s["label"].replace("Recommendation ", ""))
    return labels


@pytest.mark.parametrize("name,expected", [
    ("covid_inquiry_module1_report.pdf", {str(n) for n in range(1, 11)}),
    ("covid_inquiry_module1_govt_response.pdf", {str(n) for n in range(1, 11)}),
    ("grenfell_phase2_govt_response.pdf", {str(n) for n in range(1, 59)}),
    ("hol_behaviour_change_report.pdf", {f"8.{n}" for n in (5, 6, 7, 9, 10, 11, 12, 13, 16, 18, 19, 20, 22, 24, 26, 27,
                                                            28, 33)}),
])
def test_numbered_recommendations_found_with_labels(corpus_run, name, expected):
    """Counts verified by reading: the Covid report prints Recommendations 1-10 (Appendix 4 lists them),
    its response answers the same 10, the Grenfell response quotes Recommendations 1-58, and the
    Behaviour Change report's summary (chapter 8) recommends or urges in 18 numbered paragraphs."""
    assert expected <= _labels(corpus_run, name)


def test_infected_blood_outline_labels(corpus_run):
    """The report's list (chapter 1.5, "The Recommendations") has 58 leaf recommendations, 1 and 2a to 12e."""
    leaves = ({"1", "2a", "2b", "2c", "3a", "3b", "3c", "4a i", "4a ii", "4a iii", "4a iv", "4a v", "4b i", "4c i", "4c ii",
               "4d i", "4e", "5a", "5b", "5c", "7b", "7c", "7d", "7e", "8a", "8b", "11a", "11b", "11c", "11d"}
              | {f"6a {r}" for r in ("i", "ii", "iii", "iv", "v", "vi")} | {f"7a {r}" for r in ("i", "ii", "iii")}
              | {f"7f {r}" for r in ("i", "ii", "iii")} | {f"9{c}" for c in "abcdef"}
              | {f"10a {r}" for r in ("i", "ii", "iii", "iv", "v")} | {f"12{c}" for c in "abcde"})
    found = _labels(corpus_run, "infected_blood_inquiry_vol1_report.pdf")
    assert len(leaves) == 58 and leaves <= found, sorted(leaves - found)
