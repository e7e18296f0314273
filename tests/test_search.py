"""Search over a real run (real MiniLM, real FAISS index) on the briefing and the Home Affairs pair."""
import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import CORPUS, SEED_BRIEFING
from reviewnlp.cli import main
from reviewnlp.search import BM25, Searcher, intent_stances


# A heading equal to a query's words, a diagram's labels, a paragraph printed twice and segments with no content:
# each would rank in the top k of "harbour dredging licences" if search did not leave it out.
HARBOUR = """# Harbour dredging licences

The harbour authority issued twelve harbour dredging licences in 2023, each tied to a survey of the seabed.

Fishermen told the authority that they could not see where dredging was allowed, and asked for the licences to be \
published.

The authority should publish every harbour dredging licence with its survey, so that fishermen can see where \
dredging is allowed.

Licensed dredging areas

North basin dredging zone

## Annex

The authority should publish every harbour dredging licence with its survey, so that fishermen can see where \
dredging is allowed.

.

*

The
"""
# A review nothing in the run answers: its recommendations are unpaired.
LIGHTHOUSE = """# Review of lighthouse maintenance

## Recommendations

Recommendation 1: The Lighthouse Board should inspect every lighthouse lamp twice a year.

Recommendation 2: The Lighthouse Board should publish its lamp inspection reports online.
"""
HARBOUR_PARAGRAPH = ("The authority should publish every harbour dredging licence with its survey, so that fishermen "
                     "can see where dredging is allowed.")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    src = tmp_path_factory.mktemp("search_in")
    shutil.copy(SEED_BRIEFING, src / SEED_BRIEFING.name)
    (src / "harbour_dredging.md").write_text(HARBOUR, encoding="utf-8")
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


@pytest.fixture(scope="module")
def unpaired_run(tmp_path_factory):
    """A run of a review alone: nothing among the inputs answers it."""
    src = tmp_path_factory.mktemp("unpaired_in")
    (src / "lighthouse_review.md").write_text(LIGHTHOUSE, encoding="utf-8")
    out = tmp_path_factory.mktemp("unpaired_out")
    res = CliRunner().invoke(main, ["run", str(src), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    return out


def test_a_recommendation_nothing_among_the_inputs_answers_is_shown_unpaired_not_gap(unpaired_run):
    """The lighthouse review has no response in the run: its asks are unpaired, as in every export, not the
    government's silence; the status filter finds them by that name."""
    run_dir, searcher = unpaired_run, Searcher(unpaired_run)
    (hit,) = searcher.search("inspect lighthouse lamps", k=1, kinds=["recommendation"])
    assert hit.path.endswith("lighthouse_review.md") and hit.status == "unpaired"
    found = searcher.search("lighthouse inspection", k=5, statuses=["unpaired"])
    assert len(found) == 2 and all(h.path.endswith("lighthouse_review.md") for h in found)
    assert searcher.search("lighthouse inspection", k=5, statuses=["gap"], documents=["lighthouse"]) == []
    res = CliRunner().invoke(main, ["search", "inspect lighthouse lamps", "-o", str(run_dir), "-k", "1",
                                    "--kind", "recommendation"])
    assert res.exit_code == 0 and res.output.startswith("1. recommendation · status: unpaired · "), res.output


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
similarity = sys.argv[3] == "similarity"
for mode in sys.argv[2].split(","):
    query = "kinship leave matching" if mode == "phrase" else "kinship carers allowance"
    hits = s.search(query, k=3, mode=mode, similarity=similarity)
    assert hits and all((h.similarity is not None) == similarity for h in hits), mode
print(" ".join(m for m in ("torch", "openvino", "sentence_transformers") if m in sys.modules))
"""


def test_lexical_and_phrase_search_load_no_model_and_dense_loads_no_torch(run_dir):
    """Lexical and phrase searches embed the query only to show similarity; similarity=False loads no model."""
    import subprocess
    import sys

    def loaded(modes, similarity):
        res = subprocess.run([sys.executable, "-c", NO_MODEL_PROBE, str(run_dir), modes, similarity],
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        return set(res.stdout.split())

    assert loaded("lexical,phrase", "none") == set()
    assert loaded("hybrid,dense", "similarity") == {"openvino"}  # the run was embedded with the default backend
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


# ------------------------------------------------ results fit for reading (issue 20)

def test_headings_fragments_and_copies_are_left_out_before_the_top_k(searcher):
    """Once: "The role of local authorities" (a heading) was hits 1 and 2, and one paragraph came back twice."""
    query = "harbour dredging licences"
    texts = [s.text for s in searcher.segs]
    heading = texts.index("Harbour dredging licences")
    assert int(np.argmax(searcher.bm25.scores(query))) == heading  # without the rule it would be hit 1
    assert {"Licensed dredging areas", "North basin dredging zone", ".", "*", "The"} <= set(texts)
    assert texts.count(HARBOUR_PARAGRAPH) == 2
    for mode in ("hybrid", "dense", "lexical"):
        hits = searcher.search(query, k=3, mode=mode, documents=["harbour"])
        # the document has three passages worth reading, and all three come back
        assert sorted(h.text for h in hits) == sorted([
            "The harbour authority issued twelve harbour dredging licences in 2023, each tied to a survey of the "
            "seabed.", "Fishermen told the authority that they could not see where dredging was allowed, and asked "
            "for the licences to be published.", HARBOUR_PARAGRAPH]), mode
        copy = next(h for h in hits if h.text == HARBOUR_PARAGRAPH)
        other = next(s for s in searcher.segs if s.text == HARBOUR_PARAGRAPH and s.seg_id != copy.seg_id)
        assert copy.to_dict()["also_in"] == (
            {"doc_id": other.doc_id, "title": "Harbour dredging licences", "page": None, "section": "Annex",
             "seg_id": other.seg_id},)
        assert [h.also_in for h in hits if h is not copy] == [(), ()]
    assert len(searcher.search(query, k=10)) == 10  # the corpus has enough: k still come back
    assert [h.text for h in searcher.search("see where dredging", mode="phrase")] == [
        "Fishermen told the authority that they could not see where dredging was allowed, and asked for the "
        "licences to be published.", HARBOUR_PARAGRAPH]


def test_no_hit_is_a_segment_without_content(searcher):
    for query in ("the", "harbour", "kinship", "recommendation", "2023"):
        for mode in ("hybrid", "lexical"):
            if query == "the":
                continue
            hits = searcher.search(query, k=20, mode=mode)
            assert hits and not {h.text for h in hits} & {".", "*", "The"}, (query, mode)


def test_similarity_is_the_cosine_in_every_mode(searcher):
    hits = searcher.search("financial support for kinship carers", k=10, mode="dense")
    sims = [h.similarity for h in hits]
    assert all(0.0 <= x <= 1.0 and x == round(x, 2) for x in sims)
    assert sims == sorted(sims, reverse=True) and sims[0] >= 0.5  # dense ranks by the same cosine
    assert all(abs(h.similarity - h.dense) <= 0.006 for h in hits)
    off_topic = searcher.search("financial support for kinship carers", k=3, mode="dense", documents=["harbour"])
    assert max(h.similarity for h in off_topic) < 0.3 < sims[-1]
    for mode, query in (("hybrid", "kinship carers allowance"), ("lexical", "kinship carers allowance"),
                        ("phrase", "kinship leave matching")):
        hits = searcher.search(query, k=5, mode=mode)
        assert hits and all(0.0 <= h.similarity <= 1.0 for h in hits), mode
        assert set(hits[0].to_dict()) >= {"similarity", "score", "also_in"}


EMPTY = 'the query is empty; type what you are looking for, e.g. "financial support for kinship carers"'


@pytest.mark.parametrize("query", ["", "   ", "?!", "the of", " . * "])
def test_an_empty_query_is_refused_in_words(searcher, run_dir, query):
    from reviewnlp.errors import InvalidQueryError

    for mode in ("hybrid", "phrase"):
        with pytest.raises(InvalidQueryError) as exc:
            searcher.search(query, mode=mode)
        assert str(exc.value) == EMPTY
    res = CliRunner().invoke(main, ["search", query, "-o", str(run_dir)])
    assert (res.exit_code, res.output) == (2, f'Error: the query is empty; type what you are looking for, e.g. '
                                              f'reviewnlp search "financial support for kinship carers" -o {run_dir}\n')


def test_cli_prints_tags_in_words_and_similarity_not_the_fusion_score(run_dir):
    import re

    res = CliRunner().invoke(main, ["search", "harbour dredging licences", "-o", str(run_dir), "-k", "3",
                                    "--doc", "harbour"])
    assert res.exit_code == 0, res.output
    sims = [float(x) for x in re.findall(r"similarity ([01]\.\d\d)\n", res.output)]
    assert len(sims) == 3 and all(s > 0.5 for s in sims)
    assert re.sub(r"similarity [01]\.\d\d", "similarity S", res.output) == f"""\
1. other text · similarity S
   Harbour dredging licences | Harbour dredging licences
   The harbour authority issued twelve harbour dredging licences in 2023, each tied to a survey of the seabed.
2. other text · similarity S
   Harbour dredging licences | Harbour dredging licences
   {HARBOUR_PARAGRAPH}
   also printed 1 more time: this document, under Annex
3. commentary · similarity S
   Harbour dredging licences | Harbour dredging licences
   Fishermen told the authority that they could not see where dredging was allowed, and asked for the licences to \
be published.
"""
    res = CliRunner().invoke(main, ["search", "what was rejected about the workforce?", "-o", str(run_dir), "-k", "1"])
    assert res.output.startswith("1. government response · stance: rejected · ")
    assert not re.search(r"\b0\.0\d{3}\b", res.output)  # the rank fusion score is for --json only
    res = CliRunner().invoke(main, ["search", "harbour dredging", "-o", str(run_dir), "-k", "2", "--doc", "harbour",
                                    "--mode", "lexical", "--no-similarity"])
    assert res.exit_code == 0 and res.output.startswith("1. other text\n") and "similarity" not in res.output


def test_help_explains_the_tags_and_the_score():
    from reviewnlp.passages import KIND_MEANINGS, KIND_WORDS, STATUS_MEANINGS
    from reviewnlp.records import KINDS, SHOWN_STATUSES

    assert tuple(KIND_WORDS) == tuple(KIND_MEANINGS) == KINDS and tuple(STATUS_MEANINGS) == SHOWN_STATUSES
    out = CliRunner().invoke(main, ["search", "--help"], terminal_width=200).output
    for kind in KINDS:
        assert f"  {KIND_WORDS[kind]:<22} {KIND_MEANINGS[kind]}\n" in out
    for status in SHOWN_STATUSES:
        assert f"  {status:<9} {STATUS_MEANINGS[status]}\n" in out
    assert "  government commitment  the government commits to act: accepts, pilots, funds, has acted\n" in out
    assert "  gap       nothing in the run answers the recommendation (status only)\n" in out
    assert "similarity: the cosine between the query's embedding and the passage's, 0 to 1;" in out
    assert "score: the rank fusion (RRF) score" in out
    assert "Left out of the results: headings on their own" in " ".join(out.split())
