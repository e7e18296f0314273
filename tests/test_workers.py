"""Isolated workers: a file that kills its worker (a decompression bomb, kill -9, the OOM killer) fails alone.

The bomb and the dead worker go through the real CLI in a subprocess; the pool itself is driven on real files.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXTURES, SEED_BRIEFING
from reviewnlp.workers import DEFAULT_MAX_MEMORY_MB, run_isolated

BOMB = FIXTURES / "content_stream_inflating_to_3_gb.pdf"  # 5 KB; pdfium needs over 4 GB to parse it
SLOW_SCAN = FIXTURES / "image_page_listed_12_times.pdf"   # 12 pages to OCR: several seconds of tesseract
GOOD = "We recommend that the council publishes a kinship care plan by 2026.\n\nThe Government accepts this.\n"
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; rlimits")


def _needs_tesseract():
    from reviewnlp.extract.ocr import ocr_available

    if not ocr_available():
        pytest.skip("tesseract is not installed")


def _folder(tmp_path: Path, **files: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.txt").write_text(GOOD, encoding="utf-8")
    for name, path in files.items():
        shutil.copy(path, src / f"{name}.pdf")
    return src


def _cli(*args, env: dict | None = None, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "reviewnlp", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})},
                            **kw)


def _state(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process from /proc, or None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0], int(fields[1])


def _descendants(pid: int) -> dict[int, str]:
    """Live descendants of ``pid`` with their command lines (from /proc)."""
    parents, cmds = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if fields[0] != "Z":
            parents[int(stat.parent.name)], cmds[int(stat.parent.name)] = int(fields[1]), cmd
    out, todo = {}, [pid]
    while todo:
        p = todo.pop()
        for child, parent in parents.items():
            if parent == p and child not in out:
                out[child] = cmds[child]
                todo.append(child)
    return out


def _ocring(proc: subprocess.Popen, timeout: float = 120.0) -> int:
    """The pid of the run's process (a worker) that has a tesseract running: it is OCRing a page."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = _descendants(proc.pid)
        for pid, cmd in kids.items():
            state = _state(pid) if cmd.startswith("tesseract") else None
            if state:
                return state[1]
        assert proc.poll() is None, "the run ended before any page was OCRed"
        time.sleep(0.05)
    proc.kill()
    pytest.fail("tesseract never ran")


def _wait_gone(pids, timeout: float = 15.0) -> list[int]:
    deadline = time.monotonic() + timeout
    left = list(pids)
    while left and time.monotonic() < deadline:
        left = [p for p in left if (_state(p) or ("Z",))[0] != "Z"]
        time.sleep(0.1)
    return left


def _errors(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]


def _documents(out: Path) -> list[str]:
    return [Path(json.loads(line)["path"]).name for line in (out / "documents.jsonl").read_text().splitlines()]


@linux_only
def test_a_decompression_bomb_under_the_memory_limit_fails_alone_and_the_file_beside_it_is_processed(tmp_path):
    """Once: pdfium aborted the run (rc 134) on a 3 GB content stream, no errors.jsonl, the good file lost too."""
    src, out = _folder(tmp_path, bomb=BOMB), tmp_path / "out"
    proc = _cli("run", src, "-o", out)  # one worker and the default --max-memory-mb: isolation is the default
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    line = (f"{src / 'bomb.pdf'}: worker died (SIGABRT) while extracting; the file may be a decompression bomb or "
            f"need more than --max-memory-mb {DEFAULT_MAX_MEMORY_MB}")
    assert f"  failed: {line}\n" in stdout and stdout.count("failed: ") == 1
    assert "2 files: 1 processed, 0 from cache, 1 failed\n" in stdout
    assert _errors(out) == [{"path": str(src / "bomb.pdf"), "stage": "extract", "cause": "worker-died",
                             "message": line}]
    assert _documents(out) == ["good.txt"]
    assert (out / "segments.jsonl").read_text() and (out / "alignments.csv").exists()


@linux_only
def test_the_extract_command_isolates_files_too(tmp_path):
    src, out = _folder(tmp_path, bomb=BOMB), tmp_path / "out"
    proc = _cli("extract", src, "-o", out, "--max-memory-mb", "1024")
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert (f"error: {src / 'bomb.pdf'}: worker died (SIGABRT) while extracting; the file may be a decompression "
            "bomb or need more than --max-memory-mb 1024\n") in stderr
    assert "1 documents extracted, 1 failed" in stdout and _documents(out) == ["good.txt"]


@linux_only
def test_kill_9_of_the_worker_ocring_a_page_fails_that_file_and_the_run_goes_on(tmp_path):
    """Once: with --workers 2, the OOM killer's SIGKILL broke the pool: rc 1, no outputs, the culprit unnamed."""
    _needs_tesseract()
    src, out = _folder(tmp_path, scan=SLOW_SCAN), tmp_path / "out"
    proc = _cli("run", src, "-o", out, "--workers", "2")
    os.kill(_ocring(proc), signal.SIGKILL)
    family = _descendants(proc.pid)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    line = (f"{src / 'scan.pdf'}: worker died (SIGKILL) while extracting; the file may be a decompression bomb or "
            f"need more than --max-memory-mb {DEFAULT_MAX_MEMORY_MB}")
    assert f"  failed: {line}\n" in stdout and stdout.count("failed: ") == 1
    assert [(e["path"], e["cause"], e["message"]) for e in _errors(out)] == [(str(src / "scan.pdf"), "worker-died",
                                                                              line)]
    assert _documents(out) == ["good.txt"] and (out / "alignments.jsonl").exists()
    assert not _wait_gone(family), "a worker outlived the run"


@linux_only
def test_the_pool_names_the_file_a_killed_worker_held_and_a_fresh_worker_takes_the_next():
    held = []

    def kill_the_first(pid, index, path):
        held.append((pid, index))
        if index == 0:
            os.kill(pid, signal.SIGKILL)

    jobs = [(0, str(FIXTURES / "rasterised_page_only.pdf")), (1, str(SEED_BRIEFING)), (2, str(SEED_BRIEFING))]
    results = dict(run_isolated(jobs, workers=1, max_mb=200, segment=False, on_start=kill_the_first))
    assert sorted(results) == [0, 1, 2]
    assert results[0]["failure"] == {
        "path": jobs[0][1], "stage": "extract", "cause": "worker-died",
        "message": f"{jobs[0][1]}: worker died (SIGKILL) while extracting; the file may be a decompression bomb or "
                   f"need more than --max-memory-mb {DEFAULT_MAX_MEMORY_MB}"}
    assert results[1]["document"] and results[2]["document"]
    assert held[0][0] != held[1][0] == held[2][0]  # a fresh worker, which then stays for the next file


@linux_only
def test_a_memory_error_in_a_worker_is_one_clear_line(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("The Government should publish the data. " * 1_500_000, encoding="utf-8")  # 60 MB
    (i, blob), = run_isolated([(0, str(big))], workers=1, max_mb=200, max_memory_mb=200, segment=False)
    assert blob["failure"] == {"path": str(big), "stage": "extract", "cause": "out-of-memory",
                               "message": f"{big}: ran out of memory (MemoryError) while extracting; the file may "
                                          "be a decompression bomb or need more than --max-memory-mb 200"}


@linux_only
def test_ctrl_c_with_workers_stops_at_once_and_leaves_no_process(tmp_path):
    """The terminal sends SIGINT to the whole process group: workers ignore it and the run stops them."""
    _needs_tesseract()
    src = _folder(tmp_path, scan=SLOW_SCAN)
    proc = _cli("run", src, "-o", tmp_path / "out", "--workers", "2", start_new_session=True)
    _ocring(proc)
    family = _descendants(proc.pid)
    t = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert time.monotonic() - t < 10
    assert proc.returncode == 1 and "Aborted!" in stderr and "Traceback" not in stderr, stderr
    assert not _wait_gone(family, 5), "a worker or tesseract outlived the run"


@linux_only
def test_sigterm_during_ocr_leaves_no_temp_file_and_no_process(tmp_path):
    """Once: the OCR page PNGs stayed in /tmp after the run was stopped with SIGTERM."""
    _needs_tesseract()
    src, tmp = _folder(tmp_path, scan=SLOW_SCAN), tmp_path / "tmp"
    tmp.mkdir()
    proc = _cli("run", src, "-o", tmp_path / "out", env={"TMPDIR": str(tmp)})
    _ocring(proc)
    family = _descendants(proc.pid)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert not _wait_gone(family, 10), "a worker or tesseract outlived the run"
    assert not list(tmp.rglob("*"))
