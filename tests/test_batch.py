"""Batch runs: caches, resume after kill -9, parallel and Ray executors, bad folders, progress output."""
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import CORPUS, FIXTURES, SMALL_PDF, HashingEmbedder
from reviewnlp.pipeline import run
from reviewnlp.progress import Progress

OUTPUTS = ("documents.jsonl", "segments.jsonl", "errors.jsonl", "vectors.npy", "vectors.json", "index.faiss",
           "index.faiss.json", "alignments.jsonl", "alignments.csv", "alignments.xlsx", "report.html")
SEEDS = sorted((CORPUS / "seeds").glob("00[0-3]_*.txt"))


def _inputs(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    for p in SEEDS[:2]:
        shutil.copy(p, src / p.name)
    shutil.copy(SMALL_PDF, src / SMALL_PDF.name)
    return src


def _snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    return {n: ((out / n).read_bytes(), (out / n).stat().st_mtime_ns) for n in OUTPUTS}


def test_warm_rerun_redoes_nothing_and_a_changed_file_redoes_only_its_own_work(tmp_path):
    src, out = _inputs(tmp_path), tmp_path / "out"
    cold = run([src], out, embedder=HashingEmbedder())
    assert cold["files"] == {"total": 3, "done": 3, "cached": 0, "failed": 0, "skipped": 0}
    before = _snapshot(out)
    # What a killed run was writing when it died is swept away by the next run.
    leftovers = [out / ".vectors.json.k3j2.tmp", out / "cache" / "units" / ".abc.json.x9.tmp"]
    for p in leftovers:
        p.write_bytes(b"half a file")
    warm = run([src], out, embedder=HashingEmbedder())
    assert not any(p.exists() for p in leftovers)
    assert warm["files"]["cached"] == 3 and warm["counts"]["newly_embedded"] == 0
    assert not any(warm["cache"]["recomputed"].values())
    assert _snapshot(out) == before  # not even rewritten
    changed = src / SEEDS[0].name
    changed.write_text(changed.read_text(encoding="utf-8") + "\nThe Government will publish a kinship strategy.\n",
                       encoding="utf-8")
    third = run([src], out, embedder=HashingEmbedder())
    assert (third["files"]["done"], third["files"]["cached"]) == (1, 2)
    # Vectors are found by text: of the changed file only the added sentence is new.
    assert third["counts"]["newly_embedded"] == 1
    texts = [json.loads(line)["text"] for line in (out / "segments.jsonl").read_text().splitlines()]
    assert "The Government will publish a kinship strategy." in texts


def test_another_model_invalidates_vectors_but_not_extraction(tmp_path):
    src, out = _inputs(tmp_path), tmp_path / "out"
    run([src], out, embedder=HashingEmbedder())

    class Other(HashingEmbedder):
        model_id = "test/other-model"

    m = run([src], out, embedder=Other())
    assert m["files"]["cached"] == 3 and not m["cache"]["recomputed"]["outputs"]
    texts = {json.loads(line)["text"] for line in (out / "segments.jsonl").read_text().splitlines()}
    # Every distinct text embedded again (identical texts once): the first model's vectors are never reused.
    assert m["cache"]["recomputed"]["vectors"] and m["counts"]["newly_embedded"] == len(texts)
    assert json.loads((out / "vectors.json").read_text())["model_id"] == "test/other-model"


def test_an_extraction_change_re_embeds_nothing_and_gives_a_cold_runs_bytes(tmp_path, monkeypatch):
    # Issue 22: an upgrade that touched extraction made every vector new, though no text had changed.
    import reviewnlp.batch as batch

    src, out = _inputs(tmp_path), tmp_path / "out"
    run([src], out, embedder=HashingEmbedder())
    settings = batch.extract_settings()
    monkeypatch.setattr(batch, "extract_settings", lambda: {**settings, "code": "an upgrade"})
    batch.segment_settings.cache_clear()
    try:
        again = run([src], out, embedder=HashingEmbedder())
        cold = run([src], tmp_path / "cold", embedder=HashingEmbedder())
    finally:
        batch.segment_settings.cache_clear()
    assert again["files"]["done"] == 3 and again["counts"]["newly_embedded"] == 0
    # Nothing the units hold changed, so no later stage is redone either.
    assert not any(again["cache"]["recomputed"].values())
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (tmp_path / "cold" / name).read_bytes(), name


def test_ocr_appearing_re_extracts_only_the_files_with_unread_image_pages(tmp_path, monkeypatch):
    import reviewnlp.extract.ocr as ocr

    if not ocr.ocr_available():
        pytest.skip("tesseract is not installed")
    src, out = _inputs(tmp_path), tmp_path / "out"
    shutil.copy(FIXTURES / "text_page_then_rasterised_page.pdf", src / "scan.pdf")
    monkeypatch.setattr(ocr, "tesseract_version", lambda: None)
    first = run([src], out, embedder=HashingEmbedder())
    assert first["files"]["done"] == 4
    monkeypatch.undo()
    second = run([src], out, embedder=HashingEmbedder())
    assert (second["files"]["done"], second["files"]["cached"]) == (1, 3)
    scan = next(d for d in second["documents"] if d["path"].endswith("scan.pdf"))
    assert scan["ocr_pages"] == [2]


def _cli(args, **kw):
    return subprocess.Popen([sys.executable, "-m", "reviewnlp.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kw)


def _kill_when(proc, ready, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            pytest.fail("the run finished before the kill point")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("kill point never reached")
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.mark.slow  # 25-45 s; CI runs it with the slow tests
def test_kill_9_at_any_stage_then_resume_gives_byte_identical_outputs(tmp_path):
    src = _inputs(tmp_path)
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    assert _cli(["run", "-q", str(src), "-o", str(clean)]).wait() == 0
    kill_points = [
        lambda: any((killed / "cache" / "units").glob("*.json")),        # mid extraction
        lambda: any((killed / "cache" / "vectors").rglob("*.npy")),      # mid embedding
        lambda: (killed / "vectors.npy").exists(),                       # index / align / exports
    ]
    for ready in kill_points:
        _kill_when(_cli(["run", "-q", str(src), "-o", str(killed)]), ready)
    assert not (killed / "run.json").exists()  # no run has finished yet
    assert _cli(["run", "-q", str(src), "-o", str(killed)]).wait() == 0
    for name in OUTPUTS:
        assert (killed / name).read_bytes() == (clean / name).read_bytes(), name
    assert not list(killed.rglob(".*.tmp"))  # no temp file left behind


def test_bad_files_folder_with_workers_processes_every_good_file_and_explains_each_bad_one(tmp_path):
    from click.testing import CliRunner
    from reviewnlp.cli import main

    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(SMALL_PDF, src / "good.pdf")
    shutil.copy(SEEDS[0], src / "good.txt")
    shutil.copy(FIXTURES / "truncated_half_file.pdf", src / "corrupt.pdf")
    shutil.copy(FIXTURES / "encrypted_user_password.pdf", src / "locked.pdf")
    (src / "zero.pdf").write_bytes(b"")
    shutil.copy(FIXTURES / "blank_page_no_text_layer.pdf", src / "blank.pdf")
    shutil.copy(FIXTURES / "rasterised_page_only.pdf", src / "scanned.pdf")
    (src / "notes.docx").write_bytes(b"PK\x03\x04 not supported")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", str(src), "-o", str(out), "--workers", "2"])
    assert res.exit_code == 0, res.output
    errors = {Path(e["path"]).name: e for e in map(json.loads, (out / "errors.jsonl").read_text().splitlines())}
    assert {n: e["cause"] for n, e in errors.items()} == {
        "corrupt.pdf": "corrupt", "locked.pdf": "encrypted", "zero.pdf": "empty",
        "blank.pdf": "empty", "notes.docx": "unsupported"}
    for e in errors.values():
        assert e["message"].startswith(str(src / Path(e["path"]).name) + ": ") and "\n" not in e["message"]
    manifest = json.loads((out / "run.json").read_text())
    assert manifest["files"] == {"total": 8, "done": 3, "cached": 0, "failed": 5, "skipped": 0}
    assert sorted(Path(d["path"]).name for d in manifest["documents"]) == ["good.pdf", "good.txt", "scanned.pdf"]
    # The image-only scan is read by OCR where tesseract is installed (as CI installs it), else explained.
    scanned = next(json.loads(l) for l in (out / "documents.jsonl").read_text().splitlines() if "scanned" in l)
    assert all(p["ocr"] for p in scanned["pages"])
    assert next(d for d in manifest["documents"] if "scanned" in d["path"])["ocr_pages"] == [1]
    assert f"  read by OCR (check these pages): {src / 'scanned.pdf'}: pages 1\n" in res.output
    assert "8 files: 3 processed, 0 from cache, 5 failed\n" in res.output
    assert f"  failed: {src / 'locked.pdf'}: encrypted (password required)\n" in res.output


@pytest.mark.slow  # 25-45 s; CI runs it with the slow tests
def test_ray_executor_gives_the_same_alignment_table(tmp_path):
    pytest.importorskip("ray")
    src = _inputs(tmp_path)
    local = run([src], tmp_path / "local", embedder=HashingEmbedder())
    ray_run = run([src], tmp_path / "ray", embedder=HashingEmbedder(), executor="ray", workers=2)
    assert ray_run["execution"] == {"executor": "ray", "workers": 2}
    for name in ("documents.jsonl", "segments.jsonl", "alignments.jsonl", "alignments.csv"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    assert local["counts"]["recommendations"] == ray_run["counts"]["recommendations"] > 0


def test_progress_is_plain_lines_without_a_terminal_and_bars_with_one():
    plain = io.StringIO()
    p = Progress(stream=plain)
    with p.stage("extract", 2) as advance:
        advance(note="a.pdf")
        advance(note="b.pdf (cached)")
    lines = plain.getvalue().splitlines()
    assert lines[0].startswith("[extract] 1/2 files") and lines[-1].startswith("[extract] 2/2 files")
    assert lines[-1].endswith("b.pdf (cached)") and "eta" in lines[-1]
    bars = io.StringIO()
    with Progress(stream=bars, rich=True).stage("embed", 10, unit="segments") as advance:
        advance(10, note="doc")
    assert "embed" in bars.getvalue() and "10/10" in bars.getvalue()


def test_a_new_reranker_recomputes_only_the_alignment(tmp_path, monkeypatch):
    from reviewnlp import pipeline

    src, out = _inputs(tmp_path), tmp_path / "out"
    run([src], out, embedder=HashingEmbedder())
    shipped = pipeline.shipped_model_id
    monkeypatch.setattr(pipeline, "shipped_model_id",
                        lambda name, *a: "reranker-test-other" if name == "reranker" else shipped(name, *a))
    m = run([src], out, embedder=HashingEmbedder())
    assert m["cache"]["recomputed"] == {"outputs": False, "vectors": False, "index": False, "align": True,
                                       "review": True}
    assert m["files"]["cached"] == 3 and m["counts"]["newly_embedded"] == 0


def _children(pid: int) -> dict[int, str]:
    """Live child processes of ``pid`` with their command lines (from /proc)."""
    out = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out[int(stat.parent.name)] = cmd
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_kill_9_of_a_workers_run_leaves_no_orphaned_workers(tmp_path):
    """Once: the resource tracker and two spawn workers (~390 MB each) lived on with PPID 1.

    Workers are ``python -c "... reviewnlp.workers ..."`` children of the run (see reviewnlp.workers._Child).
    """
    src = tmp_path / "in"
    src.mkdir()
    for i in range(6):
        shutil.copy(SMALL_PDF, src / f"copy_{i}.pdf")
    proc = _cli(["run", "-q", str(src), "-o", str(tmp_path / "out"), "--workers", "2"])
    deadline = time.monotonic() + 120
    while True:
        kids = _children(proc.pid)
        workers = [p for p, c in kids.items() if "reviewnlp.workers" in c]
        if len(workers) == 2:
            break
        assert proc.poll() is None, "the run finished before its workers were seen"
        assert time.monotonic() < deadline, "workers never started"
        time.sleep(0.05)
    time.sleep(0.5)  # let them import and start on a file
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 15
    while any(_alive(p) for p in kids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = {p: kids[p][:80] for p in kids if _alive(p)}
    for p in left:
        os.kill(p, signal.SIGKILL)  # tidy up before failing
    assert not left, f"orphaned after kill -9 of the run: {left}"


DAMAGED_UNITS = ["[]", "{}", "null", '{"document": null, "failure": null, "segments": []}',
                 '{"document": {"path": 3}, "failure": null, "segments": []}', "\x00\x01"]


def test_a_damaged_unit_file_is_a_miss_and_the_document_comes_back(tmp_path):
    """Once "[]" was a traceback and "{}" made the document vanish ("4 from cache, 0 failed", 3 documents)."""
    inp = _inputs(tmp_path)
    out = tmp_path / "out"
    first = run([inp], out, embedder=HashingEmbedder())
    for content in DAMAGED_UNITS:
        for unit in (out / "cache" / "units").glob("*.json"):
            unit.write_text(content)
        again = run([inp], out, embedder=HashingEmbedder())
        assert (again["files"]["cached"], again["files"]["failed"]) == (0, 0), content
        assert again["counts"]["documents"] == first["counts"]["documents"], content
        assert again["counts"]["segments"] == first["counts"]["segments"], content


@pytest.mark.parametrize("where", ["shard", "old_layout"])
def test_empty_or_torn_vector_files_are_a_miss_and_a_changed_input_still_runs(tmp_path, where):
    inp = _inputs(tmp_path)
    out = tmp_path / "out"
    run([inp], out, embedder=HashingEmbedder())
    vectors = out / "cache" / "vectors"
    if where == "shard":
        for f in vectors.rglob("*.npy"):
            f.write_bytes(b"")
        (next(vectors.iterdir()) / "model.json").write_text("[]")
    else:
        (vectors / "0123456789abcdef.npy").write_bytes(b"")
    next(inp.glob("*.txt")).open("a").write("\n\nWe recommend that the council publishes a plan.\n")
    again = run([inp], out, embedder=HashingEmbedder())
    assert again["files"]["done"] == 1 and again["counts"]["segments"] > 0
    # Torn shards are re-embedded; the old layout's empty file is not read at all.
    assert (again["counts"]["newly_embedded"] > 10) == (where == "shard")
    assert again["counts"]["newly_embedded"] >= 1
