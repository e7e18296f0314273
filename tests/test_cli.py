"""The CLI end to end on real files with the real models; exact error texts."""
import json
import shutil

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, SMALL_PDF
from reviewnlp.cli import main
from reviewnlp.records import STATUSES

CONTRACT = {"recommendation_text", "status", "response_text"}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    src = tmp_path_factory.mktemp("in")
    shutil.copy(SMALL_PDF, src / SMALL_PDF.name)
    shutil.copy(FIXTURES / "saved_page_with_site_chrome.html", src / "kinship.html")
    shutil.copy(FIXTURES / "encrypted_user_password.pdf", src / "locked.pdf")
    out = tmp_path_factory.mktemp("out")
    result = CliRunner().invoke(main, ["run", str(src), "-o", str(out)])
    return src, out, result


def test_run_writes_every_output(batch):
    src, out, result = batch
    assert result.exit_code == 0, result.output
    for name in ("documents.jsonl", "segments.jsonl", "vectors.npy", "vectors.json", "index.faiss",
                 "index.faiss.json", "alignments.jsonl", "alignments.csv", "errors.jsonl", "run.json"):
        assert (out / name).exists(), name
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["counts"]["documents"] == 2 and manifest["counts"]["failed"] == 1
    assert manifest["models"]["embedding"].startswith("sentence-transformers/all-MiniLM-L6-v2")
    assert set(manifest["timings_s"]) >= {"extract+segment", "embed", "index", "align", "total"}
    assert json.loads((out / "index.faiss.json").read_text())["model_id"] == manifest["models"]["embedding"]


def test_run_reports_bad_file_in_one_line_and_continues(batch):
    src, out, result = batch
    assert f"error: {src / 'locked.pdf'}: encrypted (password required)\n" in result.output
    errors = [json.loads(l) for l in (out / "errors.jsonl").read_text().splitlines()]
    assert [(e["cause"], e["stage"]) for e in errors] == [("encrypted", "extract")]


def test_alignments_follow_the_contract(batch):
    _, out, _ = batch
    rows = [json.loads(l) for l in (out / "alignments.jsonl").read_text().splitlines()]
    assert rows
    docs = {json.loads(l)["doc_id"]: json.loads(l) for l in (out / "documents.jsonl").read_text().splitlines()}
    for r in rows:
        assert CONTRACT <= set(r) and r["status"] in STATUSES
        assert (r["response_text"] is None) == (r["status"] == "gap")
        assert docs[r["rec_doc_id"]]["text"][r["rec_start"]:r["rec_end"]] == r["recommendation_text"]
        if r["response_text"]:
            text = docs[r["response_doc_id"]]["text"]
            assert text[r["response_start"]:r["response_end"]] == r["response_text"]
    pdf_rows = [r for r in rows if r["rec_page"] is not None]
    assert any("CPS publish its new media protocol" in r["recommendation_text"] and r["rec_page"] == 4
               for r in pdf_rows)
    header = (out / "alignments.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("rec_id,body,label,recommendation_text")


def test_stage_commands_reproduce_run(batch, tmp_path):
    src, out, _ = batch
    runner = CliRunner()
    for args in (["extract", str(src)], ["segment"], ["embed"], ["index"], ["align"], ["export"]):
        res = runner.invoke(main, args + ["-o", str(tmp_path)])
        assert res.exit_code == 0, (args, res.output)
    for name in ("documents.jsonl", "segments.jsonl", "alignments.jsonl", "alignments.csv"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_missing_previous_stage_is_a_clear_error(tmp_path):
    res = CliRunner().invoke(main, ["align", "-o", str(tmp_path)])
    assert res.exit_code == 1
    assert res.output == f"Error: {tmp_path / 'segments.jsonl'}: not found; run the previous stage first\n"


def test_search_json(batch):
    _, out, _ = batch
    res = CliRunner().invoke(main, ["search", "media protocol for prosecutions", "-o", str(out), "-k", "3",
                                    "--json"])
    assert res.exit_code == 0, res.output
    hits = [json.loads(l) for l in res.output.splitlines()]
    assert len(hits) == 3 and "protocol" in hits[0]["text"].lower() and hits[0]["page"] is not None


def test_search_refuses_index_from_another_model(batch, tmp_path):
    _, out, _ = batch
    for name in ("index.faiss", "segments.jsonl", "documents.jsonl"):
        shutil.copy(out / name, tmp_path / name)
    meta = json.loads((out / "index.faiss.json").read_text())
    meta["model_id"] = "some/other-model"
    (tmp_path / "index.faiss.json").write_text(json.dumps(meta))
    res = CliRunner().invoke(main, ["search", "anything", "-o", str(tmp_path)])
    assert res.exit_code == 1
    assert res.output.startswith(f"Error: {tmp_path / 'index.faiss'}: index was built with some/other-model, "
                                 "but this run uses sentence-transformers/all-MiniLM-L6-v2")


def test_evaluate_matches_contract(batch, tmp_path):
    _, out, _ = batch
    row = json.loads((out / "alignments.jsonl").read_text().splitlines()[0])
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "G1", "rec": row["recommendation_text"][:60], "status": row["status"],
                                "also_ok": [], "resp": [row["response_text"][:40]] if row["response_text"] else []})
                    + "\n" + json.dumps({"id": "G2", "rec": "a sentence no document contains at all", "status": "gap",
                                         "also_ok": [], "resp": []}) + "\n")
    res = CliRunner().invoke(main, ["evaluate", str(out / "alignments.jsonl"), "--gold", str(gold), "--json"])
    metrics = json.loads(res.output)
    assert (metrics["found"], metrics["status_right"], metrics["response_right"]) == (1, 1, 1)
    res = CliRunner().invoke(main, ["evaluate", str(out / "alignments.jsonl"), "--gold", str(gold)])
    assert res.output.splitlines()[0] == "G2\tnot found"
