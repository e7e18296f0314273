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


# ------------------------------------------------ hostile folders, round two (loading and limits)

@pytest.mark.parametrize("where", ["never_run", "empty", "half"])
def test_search_with_no_finished_run_is_one_line(tmp_path, where):
    """Once: `reviewnlp search` before any run, or with a wrong -o, printed a 30-line FileNotFoundError traceback."""
    from reviewnlp.errors import OutputFolderError

    out = tmp_path / where
    if where != "never_run":
        out.mkdir()
    if where == "half":  # documents and segments, but the run never reached its index
        (out / "documents.jsonl").write_text("")
        (out / "segments.jsonl").write_text("")
    message = f"{out}: no finished run here (no index.faiss); make one with: reviewnlp run INPUTS -o {out}"
    res = CliRunner().invoke(main, ["search", "kinship", "-o", str(out)])
    assert (res.exit_code, res.output) == (1, f"Error: {message}\n")
    with pytest.raises(OutputFolderError) as exc:
        Searcher(out)
    assert str(exc.value) == message
    assert (where == "never_run") is not out.exists()  # looking is not writing


def test_the_suggested_command_quotes_a_folder_name_with_spaces(tmp_path):
    out = tmp_path / "my outputs"
    res = CliRunner().invoke(main, ["search", "kinship", "-o", str(out)])
    assert res.exit_code == 1
    assert res.output.endswith(f"make one with: reviewnlp run INPUTS -o '{out}'\n")


def test_default_outputs_folder_is_named_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, ["search", "kinship"])
    assert (res.exit_code, res.output) == (1, "Error: outputs: no finished run here (no index.faiss); make one with: "
                                              "reviewnlp run INPUTS -o outputs\n")


def test_cli_k_is_capped_at_max_k(tmp_path):
    """Once: -k 100000 asked for every segment of the corpus; the CLI refuses it before loading anything."""
    from reviewnlp.search import MAX_K

    res = CliRunner().invoke(main, ["search", "kinship", "-o", str(tmp_path), "-k", str(MAX_K + 1)])
    assert res.exit_code == 2
    assert res.output.endswith(f"Error: Invalid value for '-k' / '--top': {MAX_K + 1} is not in the range "
                               f"1<=x<={MAX_K}.\n")
    assert f"(at most {MAX_K})" in CliRunner().invoke(main, ["search", "--help"]).output


def test_library_k_is_capped_at_max_k(tmp_path):
    from conftest import HashingEmbedder
    from reviewnlp.errors import InvalidQueryError
    from reviewnlp.pipeline import run
    from reviewnlp.search import MAX_K

    (tmp_path / "in").mkdir()
    shutil.copy(SEED_BRIEFING, tmp_path / "in" / SEED_BRIEFING.name)
    run([tmp_path / "in"], tmp_path / "out", embedder=HashingEmbedder())
    s = Searcher(tmp_path / "out", HashingEmbedder())
    assert len(s.search("kinship care", k=MAX_K, mode="dense")) == MAX_K
    with pytest.raises(InvalidQueryError) as exc:
        s.search("kinship care", k=MAX_K + 1, mode="dense")
    assert str(exc.value) == f"k must be at most {MAX_K}, not {MAX_K + 1}"
    res = CliRunner().invoke(main, ["search", "kinship", "-o", str(tmp_path / "out"), "-k", str(MAX_K),
                                    "--mode", "lexical", "--json"])
    assert res.exit_code == 0 and 0 < len(res.output.splitlines()) <= MAX_K
