"""Analyst corrections (review.py): recorded as appended lines, applied by every export and every later run,
idempotent, and never lost: a correction whose row is gone is listed in run.json."""
import csv
import dataclasses
import json
import os

import pytest
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from conftest import SMALL_PDF, SMALL_REPORT, HashingEmbedder, fake_run
from reviewnlp.cli import main
from reviewnlp.pipeline import run
from reviewnlp.records import STATUSES, Alignment, Segment, read_jsonl
from reviewnlp.review import (FILE, Correction, CorrectionError, append_correction, apply_corrections,
                              load_corrections, make_correction, model_view, segment_map)

REPORT, RESPONSE = SMALL_REPORT, SMALL_PDF


def _row(i: int, block: tuple[str, ...] = ("r:s1", "r:s2")) -> Alignment:
    return Alignment(recommendation_text=f"Rec {i} should happen.", status="partial", response_text="We will try.",
                     rec_id=f"d:s{i}", rec_doc_id="d", rec_page=1, rec_start=0, rec_end=5, body=None,
                     label=str(i), response_id="r:s1", response_doc_id="r", response_page=2, response_start=0,
                     response_end=12, response_block={"segments": list(block), "doc_id": "r"})


SEGS = segment_map([Segment("r:s1", "r", 0, 12, "We will try.", 2, None),
                    Segment("r:s2", "r", 13, 40, "We will do it all by 2027.", 3, None)])


def test_a_correction_sets_status_passage_and_review_and_keeps_the_models_reading():
    c = make_correction(_row(1), status="accepted", response_id="r:s2", note="verdict on p3", reviewer="AB",
                        at="2026-12-03T10:00:00Z")
    (row,), orphans = apply_corrections([_row(1)], [c], SEGS)
    assert orphans == []
    assert (row.status, row.model_status) == ("accepted", "partial")
    assert (row.response_text, row.response_page, row.response_id) == ("We will do it all by 2027.", 3, "r:s2")
    assert row.model_response["response_text"] == "We will try."
    assert row.review["reviewer"] == "AB" and row.review["reviewed_at"] == "2026-12-03T10:00:00Z"
    assert model_view(row) == _row(1)


def test_the_latest_correction_of_a_row_wins():
    first = make_correction(_row(1), status="rejected", at="2026-12-01T00:00:00Z")
    second = make_correction(_row(1), status="deferred", note="on reflection", at="2026-12-02T00:00:00Z")
    (row,), _ = apply_corrections([_row(1)], [first, second], SEGS)
    assert row.status == "deferred" and row.review["note"] == "on reflection"


@pytest.mark.parametrize("kwargs, message", [
    ({"status": "maybe"}, "status must be one of accepted, partial, deferred, rejected, gap, not 'maybe'"),
    ({"response_id": "x:s9"}, "'x:s9' is not a passage of this recommendation's answer block"),
    ({"note": "n" * 4001}, "the note must be text of at most 4000 characters"),
])
def test_a_bad_correction_is_refused_in_words(kwargs, message):
    with pytest.raises(CorrectionError) as exc:
        make_correction(_row(1), **kwargs)
    assert str(exc.value) == message


corrections = st.lists(st.tuples(st.integers(0, 4), st.sampled_from((None,) + STATUSES),
                                 st.sampled_from((None, "r:s1", "r:s2")), st.booleans()), max_size=8)


@settings(max_examples=60, deadline=None)
@given(corrections)
def test_applying_is_idempotent_and_undoable(spec):
    rows = [_row(i) for i in range(4)]  # rec 4 has no row: its corrections are orphans
    made = [Correction(rec_id=f"d:s{i}", response_doc_id="r", status=s, response_id=p, reviewed=rv, at="t")
            for i, s, p, rv in spec]
    once, orphans = apply_corrections(rows, made, SEGS)
    twice, orphans2 = apply_corrections(once, made, SEGS)
    assert twice == once and orphans2 == orphans
    assert [model_view(r) for r in once] == rows
    assert {o["rec_id"] for o in orphans} == ({"d:s4"} & {c.rec_id for c in made})
    for r in once:
        assert r.status in STATUSES and r.model_status == "partial"


def test_a_torn_line_is_reported_and_the_others_still_apply(tmp_path):
    append_correction(tmp_path, make_correction(_row(1), status="accepted"))
    with open(tmp_path / FILE, "a", encoding="utf-8") as fh:
        fh.write('{"rec_id": "d:s2", "status": "acc')  # a write cut off mid-line
    found, problems = load_corrections(tmp_path)
    assert [c.status for c in found] == ["accepted"]
    assert len(problems) == 1 and problems[0].startswith(f"{tmp_path / FILE}:2: not a correction (")


def test_a_planted_link_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(victim, out / FILE)
    with pytest.raises(CorrectionError, match="cannot record the correction"):
        append_correction(out, make_correction(_row(1), status="accepted"))
    assert victim.read_text() == "keep me\n"
    assert load_corrections(out) == ([], [])


# End to end: a real run of a report and its response (fake embedder: the point is the table, not search).

@pytest.fixture(scope="module")
def corrected(tmp_path_factory):
    src, out = fake_run(tmp_path_factory)
    rows = list(read_jsonl(out / "alignments.jsonl", Alignment))
    explicit = [r for r in rows if r.match == "explicit" and len((r.response_block or {}).get("segments", ())) > 1]
    target = explicit[0]
    other = next(s for s in target.response_block["segments"] if s != target.response_id)
    new_status = next(s for s in ("rejected", "deferred") if s != target.status)
    append_correction(out, make_correction(target, status=new_status, response_id=other, note="=cmd|' /C calc'!A0",
                                           reviewer="Analyst One", at="2026-12-03T09:00:00Z"))
    append_correction(out, Correction(rec_id=f"{target.rec_doc_id}:s99999", response_doc_id=target.response_doc_id,
                                      status="accepted", reviewer="Analyst One", at="2026-12-03T09:01:00Z"))
    return src, out, target, other, new_status


def test_export_applies_the_corrections_to_every_table(corrected):
    src, out, target, other, new_status = corrected
    result = CliRunner().invoke(main, ["export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (f"corrections: 1 rows reviewed from {out}/corrections.jsonl; 1 found no row (listed in run.json)"
            in result.output)
    assert (f"  orphaned correction: {target.rec_doc_id}:s99999: the recommendation is not in this run's table "
            "(its document changed, or was left out)") in result.output
    rows = {r.rec_id: r for r in read_jsonl(out / "alignments.jsonl", Alignment)}
    got = rows[target.rec_id]
    assert (got.status, got.model_status, got.response_id) == (new_status, target.status, other)
    with open(out / "alignments.csv", encoding="utf-8-sig", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["rec_id"] == target.rec_id)
    assert (row["status"], row["model_status"], row["reviewed"], row["reviewer"], row["reviewed_at"]) == (
        new_status, target.status, "True", "Analyst One", "2026-12-03T09:00:00Z")
    assert row["review_note"] == "'=cmd|' /C calc'!A0"  # a note is data: never a formula
    unreviewed = [r for r in rows.values() if r.rec_id != target.rec_id]
    assert all(r.review is None and r.status == r.model_status for r in unreviewed)


def test_corrections_survive_a_rerun_and_orphans_are_listed_in_run_json(corrected):
    src, out, target, other, new_status = corrected
    manifest = run([src], out, embedder=HashingEmbedder())
    assert manifest["cache"]["recomputed"]["align"] is False  # the rows were not re-aligned, only re-applied
    rows = {r.rec_id: r for r in read_jsonl(out / "alignments.jsonl", Alignment)}
    assert rows[target.rec_id].status == new_status
    corr = manifest["corrections"]
    assert (corr["lines"], corr["reviewed_rows"], corr["problems"]) == (2, 1, [])
    assert [o["rec_id"] for o in corr["orphans"]] == [f"{target.rec_doc_id}:s99999"]
    assert json.loads((out / "run.json").read_text())["corrections"] == corr
    # A later judgement of the same row replaces it; the next run applies that one.
    append_correction(out, dataclasses.replace(make_correction(rows[target.rec_id], status=None, note="model was right"),
                                               at="2026-12-03T11:00:00Z"))
    manifest = run([src], out, embedder=HashingEmbedder())
    assert manifest["cache"]["recomputed"]["review"] is True and manifest["cache"]["recomputed"]["align"] is False
    row = {r.rec_id: r for r in read_jsonl(out / "alignments.jsonl", Alignment)}[target.rec_id]
    assert (row.status, row.response_id, row.review["note"]) == (target.status, target.response_id, "model was right")


def test_reviewed_rows_become_status_training_examples(corrected):
    src, out, target, other, new_status = corrected
    CliRunner().invoke(main, ["export", "-o", str(out)])
    from reviewnlp.review import training_examples

    reviewed = {r.rec_id: r for r in read_jsonl(out / "alignments.jsonl", Alignment)}[target.rec_id]
    (ex,) = training_examples(out)  # the reviewed row, with the status the analyst's latest judgement gives it
    assert (ex["rec"], ex["status"], ex["scope"], ex["group"]) == (
        target.recommendation_text, reviewed.status, "whole", f"corrections:{REPORT.name}")
    assert [p["text"] for p in ex["passages"]] == [SEGS_OF(out)[s].text for s in target.response_block["segments"]]
    # The training script takes them, and the analyst's label replaces a hand-labelled one of the same row.
    import importlib.util

    from conftest import ROOT
    spec = importlib.util.spec_from_file_location("train_status", ROOT / "scripts" / "train_status.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    hand = [{**ex, "id": "hand:1", "status": "accepted", "source": "hand"}, {**ex, "id": "hand:2", "rec": "Other."}]
    merged = train.with_corrections(hand, [out])
    assert [(r["id"], r["status"]) for r in merged] == [("hand:2", reviewed.status), (ex["id"], reviewed.status)]


def SEGS_OF(out):
    return segment_map(read_jsonl(out / "segments.jsonl", Segment))
