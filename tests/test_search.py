"""Search over a real run (real MiniLM, real FAISS index) on the briefing and the Home Affairs pair."""
import json
import shutil

import pytest
from click.testing import CliRunner

from conftest import CORPUS, SEED_BRIEFING
from reviewnlp.cli import main
from reviewnlp.search import BM25, Searcher, intent_stances


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    src = tmp_path_factory.mktemp("search_in")
    shutil.copy(SEED_BRIEFING, src / SEED_BRIEFING.name)
    for name in ("hoc_home_affairs_summer2024_disorder_report.pdf", "hoc_home_affairs_summer2024_disorder_govt_response.pdf"):
        shutil.copy(CORPUS / "dev" / name, src / name)
    out = tmp_path_factory.mktemp("search_out")
    res = CliRunner().invoke(main, ["run", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


@pytest.fixture(scope="module")
def searcher(run_dir):
    return Searcher(run_dir)


def test_kinship_allowances(searcher):
    hits = searcher.search("financial support for kinship carers", k=3)
    assert all("kinship" in h.text.lower() for h in hits)
    assert all(h.path.endswith(SEED_BRIEFING.name) for h in hits)
    assert any("financial allowance" in h.text or "financial support" in h.text for h in hits)


def test_regional_commissioning(searcher):
    hits = searcher.search("regional commissioning of placements", k=5)
    assert any("regional care cooperatives" in h.text for h in hits)


def test_what_was_rejected_about_the_workforce(searcher):
    hits = searcher.search("what was rejected about the workforce?", k=3)
    assert hits[0].stance == "rejected" and hits[0].kind == "response"
    assert any("social workers" in h.text for h in hits)


def test_pdf_hits_carry_pages_and_highlight(searcher):
    hits = searcher.search("media protocol contempt of court", k=5, documents=["disorder"])
    assert hits and all("disorder" in h.path for h in hits)
    for h in hits:
        assert h.page is not None
        a, b = h.highlight
        assert h.context[a:b] == h.text
    assert any(h.page == 15 and h.kind == "recommendation" for h in hits)


def test_filters_and_phrase(searcher):
    hits = searcher.search("kinship", k=20, kinds=["recommendation"], bodies=["Lords"])
    assert hits and all(h.kind == "recommendation" and "Lords" in h.body for h in hits)
    exact = searcher.search("kinship leave matching", mode="phrase")
    assert [h.text for h in exact] == ["All new special guardians and kinship carers with a Child Arrangements Order "
                                       "should be given kinship leave matching the entitlement given to adopters."]
    assert searcher.search("kinship", date_from="2030-01-01") == []


def test_cli_search_json(run_dir):
    res = CliRunner().invoke(main, ["search", "windfall tax on providers", "-o", str(run_dir), "-k", "2", "--json"])
    assert res.exit_code == 0, res.output
    hits = [json.loads(l) for l in res.output.splitlines()]
    assert "windfall tax" in hits[0]["text"]
    assert hits[0]["status"] in {"accepted", "partial", "deferred", "rejected", "gap"}  # its alignment status


def test_bm25_and_intent():
    bm = BM25(["kinship carers allowance", "regional care cooperatives", "kinship"])
    s = bm.scores("kinship allowance")
    assert s[0] > s[2] > 0 and s[1] == 0
    assert intent_stances("what was rejected about the workforce?") == {"rejected"}
    assert intent_stances("kinship allowances") == set()


NO_MODEL_PROBE = """
import sys
from reviewnlp.search import Searcher
s = Searcher(sys.argv[1])
for mode in sys.argv[2].split(","):
    query = "kinship leave matching" if mode == "phrase" else "kinship carers allowance"
    assert s.search(query, k=3, mode=mode), mode
print(" ".join(m for m in ("torch", "openvino", "sentence_transformers") if m in sys.modules))
"""


def test_lexical_and_phrase_search_load_no_model_and_dense_loads_no_torch(run_dir):
    import subprocess
    import sys

    def loaded(modes):
        res = subprocess.run([sys.executable, "-c", NO_MODEL_PROBE, str(run_dir), modes], capture_output=True,
                             text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        return set(res.stdout.split())

    assert loaded("lexical,phrase") == set()
    assert loaded("hybrid,dense") == {"openvino"}  # the run was embedded with the default backend
    assert (run_dir / "bm25.npz").exists()  # saved by the run, loaded by search
