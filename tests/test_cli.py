"""The CLI end to end on real files with the real models; exact error texts."""
import json
import re
import shutil
from pathlib import Path

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


# ------------------------------------------------ hostile folders and options (issue 13)


def test_output_folder_that_cannot_be_used_is_one_line(tmp_path):
    import os

    (tmp_path / "a_file").write_text("x")
    src = tmp_path / "w.txt"
    src.write_text("The weather was fine.\n")
    cases = [(tmp_path / "a_file" / "out", "cannot create the output folder (Not a directory)"),
             (Path("/proc/reviewnlp-out"), "cannot create the output folder (No such file or directory)")]
    if os.geteuid() != 0:  # root writes through a 0555 folder
        ro = tmp_path / "read_only"
        ro.mkdir(mode=0o555)
        cases.append((ro, "cannot write to the output folder (Permission denied)"))
    for out, why in cases:
        res = CliRunner().invoke(main, ["run", str(src), "-o", str(out)])
        assert (res.exit_code, res.output) == (1, f"Error: {out}: {why}\n"), out
    if Path("/sys/kernel").is_dir() and not os.access("/sys/kernel", os.W_OK):
        res = CliRunner().invoke(main, ["run", str(src), "-o", "/sys/kernel"])  # a read-only file system
        assert res.exit_code == 1 and res.output.startswith("Error: /sys/kernel: cannot write to the output folder (")
        assert res.output.count("\n") == 1


def test_serve_port_in_use_or_out_of_range_is_one_line(tmp_path):
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        res = CliRunner().invoke(main, ["serve", "-o", str(tmp_path), "--port", str(port)])
    finally:
        taken.close()
    assert (res.exit_code, res.output) == (1, f"Error: cannot listen on 127.0.0.1:{port} (Address already in use)\n")
    for bad in ("-1", "70000"):
        res = CliRunner().invoke(main, ["serve", "-o", str(tmp_path), "--port", bad])
        assert res.exit_code == 2
        assert res.output.endswith(f"Error: Invalid value for '--port': {bad} is not in the range 0<=x<=65535.\n")


@pytest.mark.parametrize("args,message", [
    (["-k", "-1"], "Invalid value for '-k' / '--top': -1 is not in the range x>=1."),
    (["-k", "0"], "Invalid value for '-k' / '--top': 0 is not in the range x>=1."),
    (["--from", "notadate"], "Invalid value for '--from': 'notadate' is not a date as YYYY-MM-DD"),
    (["--to", "2024-13-45"], "Invalid value for '--to': '2024-13-45' is not a date as YYYY-MM-DD"),
    (["--from", "2024-2-3"], "Invalid value for '--from': '2024-2-3' is not a date as YYYY-MM-DD"),
    (["--kind", "bogus"], "Invalid value for '--kind': 'bogus' is not one of 'recommendation', 'commitment', "
                          "'response', 'commentary', 'other'."),
])
def test_search_refuses_values_that_would_match_nothing_or_everything(batch, args, message):
    _, out, _ = batch
    res = CliRunner().invoke(main, ["search", "kinship", "-o", str(out), *args])
    assert res.exit_code == 2 and res.output.endswith(f"Error: {message}\n")


def test_search_library_refuses_them_too(batch):
    from reviewnlp.errors import InvalidQueryError
    from reviewnlp.search import Searcher

    _, out, _ = batch
    s = Searcher(out)
    for kwargs, message in [({"k": -1}, "k must be a whole number of at least 1, not -1"),
                            ({"stances": ["maybe"]}, "unknown stance 'maybe'; choose from accepted, partial, "
                                                     "deferred, rejected"),
                            ({"date_from": "2024-13-45"}, "from date '2024-13-45' is not a date as YYYY-MM-DD")]:
        with pytest.raises(InvalidQueryError) as exc:
            s.search("kinship", mode="lexical", **kwargs)
        assert str(exc.value) == message
    assert len(s.search("protocol", mode="lexical", k=2, date_from="2000-01-01", date_to="2100-12-31")) == 2


def test_fifo_and_dev_zero_named_on_the_command_line_are_one_error_line_each(tmp_path):
    """Once: a FIFO hung the run for ever and /dev/zero read until memory ran out."""
    import os
    import subprocess
    import sys

    fifo = tmp_path / "named_pipe.txt"
    os.mkfifo(fifo)
    good = tmp_path / "good.txt"
    good.write_text("The Government should fund kinship carers.\n")
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * 500_000)  # 2.4 MB
    res = subprocess.run([sys.executable, "-m", "reviewnlp.cli", "extract", str(fifo), "/dev/zero", str(good),
                          str(big), "-o", str(tmp_path / "out"), "--max-file-mb", "2"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0
    assert res.stderr.splitlines() == [  # in path order
        "error: /dev/zero: unsupported (a character device, not a regular file)",
        f"error: {big}: too-large (2.4 MB; the limit is 2 MB (--max-file-mb))",
        f"error: {fifo}: unsupported (a FIFO, not a regular file)"]
    assert res.stdout == f"1 documents extracted, 3 failed -> {tmp_path / 'out'}/documents.jsonl\n"


def test_a_run_where_every_file_failed_or_nothing_recommends_still_writes_every_output(tmp_path):
    """Once: IndexError "At least one sheet must be visible" and no run.json."""
    failed_only = tmp_path / "failed_only"
    failed_only.mkdir()
    shutil.copy(FIXTURES / "encrypted_user_password.pdf", failed_only / "locked.pdf")
    no_recs = tmp_path / "no_recs"
    no_recs.mkdir()
    (no_recs / "weather.txt").write_text("The weather was fine all week. Nobody asked anybody to do anything.\n")
    for src, first_line, rc in ((failed_only, "1 files: 0 processed, 0 from cache, 1 failed", 1),
                                (no_recs, "1 files: 1 processed, 0 from cache, 0 failed", 0)):
        out = tmp_path / f"out_{src.name}"
        res = CliRunner().invoke(main, ["run", str(src), "-o", str(out), "-q"])
        assert res.exit_code == rc, res.output  # nothing processed is exit 1, but every output is written
        assert res.output.splitlines()[0] == first_line
        assert json.loads((out / "run.json").read_text())["counts"]["recommendations"] == 0
        for name in ("alignments.jsonl", "alignments.csv", "alignments.xlsx", "report.html", "errors.jsonl"):
            assert (out / name).exists(), name
        assert (out / "alignments.jsonl").read_text() == ""


def test_terminal_lines_escape_control_characters_and_pages_read_as_ranges():
    from reviewnlp.cli import page_ranges, safe_line

    assert safe_line("scan\x1b[31m.pdf\n") == "scan\\x1b[31m.pdf\\n"
    assert page_ranges([9, 3, 4, 5, 12, 13]) == "3-5, 9, 12-13"


# ------------------------------------------------ terminal names, exit codes, the embeddings line (round two)

# Each fails at once (.docx is unsupported).  "sub [/b] draft.docx" is "b] draft.docx" in the folder "sub [":
# its path holds rich's closing tag "[/b]".
HOSTILE_NAMES = {"sub [/b] draft.docx": "sub [/b] draft.docx",
                 "[blink]BLINK.docx": "[blink]BLINK.docx",
                 "clear\x1b[2Jscreen.docx": "clear\\x1b[2Jscreen.docx",
                 "osc\x1b]0;title\x07name.docx": "osc\\x1b]0;title\\x07name.docx",
                 "forged\nerror: board_minutes.pdf: encrypted.docx":
                     "forged\\nerror: board_minutes.pdf: encrypted.docx",
                 ":warning: emoji.docx": ":warning: emoji.docx"}
# What must never reach a terminal from those names: the raw sequences, and rich's blink.
RAW_BYTES = (b"\x1b[2J", b"\x1b]0;title", b"\x07", b"\x1b[5m")


def _hostile_folder(root: Path) -> Path:
    src = root / "in"
    (src / "sub [").mkdir(parents=True)
    for name in HOSTILE_NAMES:
        (src / name).write_text("x")
    # U+202E (right-to-left override) and U+009B (an 8-bit CSI) survive extraction: search shows them escaped.
    (src / "good.txt").write_text("# Kinship \u202eevil\x9b2J carers\n\nThe Government should fund kinship "
                                  "carers.\nNext line.\n\nThe Government accepts this recommendation.\n")
    return src


def _expected_lines(src: Path, prefix: str) -> list[str]:
    return sorted(f"{prefix}{src}/{shown}: unsupported (suffix '.docx')" for shown in HOSTILE_NAMES.values())


def _run_on_a_terminal(args: list[str], timeout: float = 300) -> tuple[int, bytes]:
    """``python -m reviewnlp ARGS`` with a pseudo-terminal as stdout and stderr, so rich draws its bars."""
    import os
    import pty
    import select
    import sys
    import time

    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    env.update(TERM="xterm-256color", HF_HUB_OFFLINE="1")
    pid, fd = pty.fork()
    if pid == 0:  # the child becomes the CLI
        try:
            os.execve(sys.executable, [sys.executable, "-m", "reviewnlp", *args], env)
        finally:
            os._exit(127)
    out, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([fd], [], [], 1.0)[0]:
                try:
                    chunk = os.read(fd, 1 << 16)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                out += chunk
        else:
            os.kill(pid, 9)
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), out


def _screen_lines(out: bytes) -> list[str]:
    """The lines a terminal ends up showing: rich's cursor and colour sequences dropped, redraws resolved."""
    import re

    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.decode("utf-8", "replace"))
    return [line.rsplit("\r", 1)[-1] for line in text.replace("\r\n", "\n").split("\n")]


def test_file_names_reach_a_terminal_escaped_one_line_each(tmp_path):
    """Once: "[/b]" in a path killed the run with rich's MarkupError, "[blink]" blinked, ESC[2J cleared the
    screen, an OSC sequence retitled the window, and a newline forged an "error:" line."""
    src = _hostile_folder(tmp_path)
    out = tmp_path / "out"
    rc, raw = _run_on_a_terminal(["run", str(src), "-o", str(out)])
    lines = _screen_lines(raw)
    assert rc == 0, raw.decode("utf-8", "replace")[-3000:]
    assert b"Traceback" not in raw and b"MarkupError" not in raw
    assert b"\x1b[" in raw  # rich did draw (its own escapes are fine)
    for seq in RAW_BYTES:
        assert seq not in raw, seq
    assert sorted(l for l in lines if l.startswith("error: ")) == _expected_lines(src, "error: ")
    assert sorted(l for l in lines if l.startswith("  failed: ")) == _expected_lines(src, "  failed: ")
    assert not any(l.startswith("error: board_minutes.pdf") for l in lines)
    assert sum(l.startswith("embeddings: openvino ") for l in lines) == 1
    assert len(json.loads((out / "run.json").read_text())["failed"]) == len(HOSTILE_NAMES)


def test_file_names_are_escaped_off_a_terminal_too(tmp_path):
    import os

    src = _hostile_folder(tmp_path)
    os.symlink("missing", src / "dangling\x1b[31m.txt")  # a skipped entry
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", str(src), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.output and "\x07" not in res.output
    lines = res.output.splitlines()
    assert sorted(l for l in lines if l.startswith("error: ")) == _expected_lines(src, "error: ")
    assert sorted(l for l in lines if l.startswith("  failed: ")) == _expected_lines(src, "  failed: ")
    assert f"skipped: {src}/dangling\\x1b[31m.txt: broken symlink" in lines
    assert f"  skipped: {src}/dangling\\x1b[31m.txt: broken symlink" in lines
    assert sum(l.startswith("embeddings: openvino ") for l in lines) == 1
    res = CliRunner().invoke(main, ["extract", str(src), "-o", str(tmp_path / "extract_out")])
    lines = res.output.splitlines()
    assert sorted(l for l in lines if l.startswith("error: ")) == _expected_lines(src, "error: ")
    assert f"skipped: {src}/dangling\\x1b[31m.txt: broken symlink" in lines
    res = CliRunner().invoke(main, ["search", "kinship carers", "-o", str(out), "--mode", "lexical"])
    assert res.exit_code == 0, res.output
    assert "Kinship \\u202eevil\\x9b2J carers" in res.output
    assert "\u202e" not in res.output and "\x9b" not in res.output and "\x1b" not in res.output
    # Each line is a hit's numbered head or one of its indented lines: no name breaks a line of its own.
    assert all(re.match(r"\d+\. \S|   \S", l) for l in res.output.splitlines())


def test_a_run_where_nothing_could_be_processed_exits_1_and_says_so(tmp_path):
    import os

    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(FIXTURES / "encrypted_user_password.pdf", src / "locked.pdf")
    (src / "notes.docx").write_text("x")
    os.symlink("missing.txt", src / "dangling.txt")
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", str(src), "-o", str(out), "-q"])
    assert res.exit_code == 1
    assert res.output.splitlines()[0] == "2 files: 0 processed, 0 from cache, 2 failed, 1 skipped"
    assert res.output.endswith(f"Error: no input file could be processed (2 failed, 1 skipped); "
                               f"see {out}/errors.jsonl\n")
    assert len((out / "errors.jsonl").read_text().splitlines()) == 2
    assert json.loads((out / "run.json").read_text())["files"]["failed"] == 2
    res = CliRunner().invoke(main, ["run", str(src), "-o", str(out), "-q"])  # from the cache: still nothing
    assert res.exit_code == 1 and res.output.endswith("see " + f"{out}/errors.jsonl\n")


def test_an_error_line_naming_a_hostile_folder_is_one_escaped_line(tmp_path):
    empty = tmp_path / "empty\x1b[2J\nError: forged"
    empty.mkdir()
    res = CliRunner().invoke(main, ["run", str(empty), "-o", str(tmp_path / "out")])
    assert (res.exit_code, res.output) == (
        1, f"Error: no input files found in {tmp_path}/empty\\x1b[2J\\nError: forged\n")
