"""The output folder: one writer at a time, and search refuses a folder holding files of two runs."""
import json
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import CORPUS, HashingEmbedder
from reviewnlp.cli import main
from reviewnlp.errors import OutputFolderError
from reviewnlp.outdir import check_consistent, locked, refresh_manifest
from reviewnlp.pipeline import run
from reviewnlp.search import Searcher

SEEDS = sorted((CORPUS / "seeds").glob("00[0-1]_*.txt"))


def _reviewnlp(*args):
    return subprocess.run([sys.executable, "-m", "reviewnlp.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def test_a_second_run_on_a_locked_folder_stops_at_once_with_one_line(tmp_path):
    out = tmp_path / "out"
    with locked(out):
        res = _reviewnlp("run", SEEDS[0], "-o", out)
        assert (res.returncode, res.stderr) == (1, f"Error: {out}: another reviewnlp run (pid {os.getpid()}) is "
                                                   "writing to this folder; wait for it to finish or choose another -o\n")
        assert not (out / "documents.jsonl").exists()  # nothing was written by the refused run
        with locked(out):  # re-entrant in the process that holds it
            pass
    with locked(out):  # released when the holder leaves
        assert (out / ".reviewnlp.lock").read_text() == f"{os.getpid()}\n"


def test_output_folder_that_cannot_be_created_is_one_line(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    with pytest.raises(OutputFolderError) as exc:
        run([SEEDS[0]], blocker / "out", embedder=HashingEmbedder())
    assert str(exc.value) == f"{blocker / 'out'}: cannot create the output folder (Not a directory)"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    a, b = tmp_path_factory.mktemp("run_a"), tmp_path_factory.mktemp("run_b")
    run([SEEDS[0]], a, embedder=HashingEmbedder())
    run([SEEDS[1]], b, embedder=HashingEmbedder())
    return a, b


def _mixed(tmp_path, two_runs, names):
    a, b = two_runs
    mixed = tmp_path / "mixed"
    shutil.copytree(a, mixed)
    for name in names:
        shutil.copy(b / name, mixed / name)
    return mixed


def test_search_refuses_vectors_index_and_alignments_of_another_run(tmp_path, two_runs):
    """What two runs on one -o could leave: documents and segments from one, the rest from the other."""
    mixed = _mixed(tmp_path, two_runs, ["vectors.npy", "vectors.json", "index.faiss", "index.faiss.json",
                                        "alignments.jsonl"])
    res = CliRunner().invoke(main, ["search", "kinship", "-o", str(mixed)])
    assert (res.exit_code, res.output) == (1, f"Error: {mixed}: vectors.json is not the file run.json recorded "
                                              "(another run or stage wrote it); run `reviewnlp run` again\n")
    with pytest.raises(OutputFolderError):
        Searcher(mixed, HashingEmbedder())


def test_search_and_serve_refuse_stage_keys_of_another_run(tmp_path, two_runs):
    mixed = _mixed(tmp_path, two_runs, [os.path.join("cache", "state.json")])
    message = (f"{mixed}: stage keys in run.json do not match the folder's files (align, index, outputs, review, "
               "vectors: another run wrote them); run `reviewnlp run` again")
    with pytest.raises(OutputFolderError) as exc:
        check_consistent(mixed)
    assert str(exc.value) == message
    res = CliRunner().invoke(main, ["serve", "-o", str(mixed), "--port", "0"])
    assert (res.exit_code, res.output) == (1, f"Error: {message}\n")


def test_a_finished_run_and_a_stage_command_after_it_stay_searchable(tmp_path, two_runs):
    a, _ = two_runs
    folder = tmp_path / "run"
    shutil.copytree(a, folder)
    check_consistent(folder)
    assert Searcher(folder, HashingEmbedder()).search("kinship carers", k=1)
    table = (folder / "alignments.jsonl").read_text()
    (folder / "alignments.jsonl").write_text(table + table)  # another table, as a re-run align stage writes
    with pytest.raises(OutputFolderError):
        check_consistent(folder)
    refresh_manifest(folder)  # what every stage command does after writing
    check_consistent(folder)
    assert json.loads((folder / "run.json").read_text())["output_digests"]["alignments.jsonl"]


# --- planted links and damaged folders (issue 21: nothing is written or deleted outside the output folder) ---

def _tiny_inputs(tmp_path):
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "a.txt").write_text("We recommend that the Government should fund kinship carers.\n\n"
                               "The Government accepts this recommendation.\n", encoding="utf-8")
    return inp


def _cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _listing(folder):
    """Path -> bytes of everything under a decoy folder, to compare before and after."""
    return {p.relative_to(folder): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def test_a_lock_file_planted_as_a_link_is_replaced_and_its_target_untouched(tmp_path):
    inp, out = _tiny_inputs(tmp_path), tmp_path / "out"
    assert _cli("run", inp, "-o", out, "-q").exit_code == 0
    victim, missing = tmp_path / "victim.txt", tmp_path / "would_be_created.txt"
    victim.write_text("precious\n")
    for target in (victim, missing):
        (out / ".reviewnlp.lock").unlink()
        (out / ".reviewnlp.lock").symlink_to(target)
        res = _cli("export", "-o", out)
        assert res.exit_code == 0, res.output
        assert not (out / ".reviewnlp.lock").is_symlink()
    (out / ".reviewnlp.lock").unlink()
    (out / ".reviewnlp.lock").symlink_to(victim)
    assert _cli("run", inp, "-o", out, "-q").exit_code == 0
    assert victim.read_text() == "precious\n" and not missing.exists()


def test_a_lock_file_hard_linked_to_another_file_is_not_truncated(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    os.link(victim, out / ".reviewnlp.lock")
    with locked(out):
        assert (out / ".reviewnlp.lock").read_text() == f"{os.getpid()}\n"
    assert victim.read_text() == "precious\n"


def test_planted_cache_folder_link_and_fixed_temp_name_write_nothing_outside(tmp_path):
    inp, out, decoy = _tiny_inputs(tmp_path), tmp_path / "out", tmp_path / "decoy"
    assert _cli("run", inp, "-o", out, "-q").exit_code == 0
    decoy.mkdir()
    (decoy / "keep.tmp").write_text("x")
    (decoy / ".keep.json.abc.tmp").write_text("x")  # what the temp sweep would delete
    (decoy / "victim").write_text("precious")
    before = _listing(decoy)
    shutil.rmtree(out / "cache" / "units")
    (out / "cache" / "units").symlink_to(decoy)
    shutil.rmtree(out / "cache" / "vectors")
    (out / "cache" / "vectors").symlink_to(decoy)
    (out / ".index.faiss.tmp").symlink_to(decoy / "victim")
    (inp / "b.txt").write_text("We recommend that councils publish their kinship allowances.\n", encoding="utf-8")
    res = _cli("run", inp, "-o", out, "-q")
    assert res.exit_code == 0, res.output
    res = _cli("index", "-o", out)
    assert res.exit_code == 0, res.output
    assert _listing(decoy) == before
    assert not (out / "index.faiss").is_symlink() and (out / "cache" / "units").is_dir()
    assert not (out / "cache" / "units").is_symlink() and list((out / "cache" / "units").glob("*.json"))


def test_a_failed_write_is_one_line_and_leaves_no_finished_looking_run(tmp_path):
    """A full disk, reproduced by the kernel: a file-size limit makes write() fail as ENOSPC would."""
    import resource
    import signal

    inp, out = _tiny_inputs(tmp_path), tmp_path / "out"
    for n in range(40):  # enough segments that their vectors pass the limit
        (inp / f"n{n}.txt").write_text(f"Paragraph {n} says that the council must act on item {n}.\n")

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    res = subprocess.run([sys.executable, "-m", "reviewnlp.cli", "run", str(inp), "-o", str(out), "-q"],
                         capture_output=True, text=True, timeout=300, preexec_fn=limit,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert res.returncode == 1 and "Traceback" not in res.stderr
    line, = res.stderr.splitlines()
    assert line.startswith(f"Error: {out}/") and line.endswith(
        ": cannot write (File too large); the run stopped before it finished; make room and run it again "
        "(finished work is cached)")
    assert not (out / "run.json").exists()
    search = _cli("search", "kinship", "-o", out)
    assert (search.exit_code, search.output) == (
        1, f"Error: {out}: the last run here stopped before it finished; run `reviewnlp run` again\n")
    again = _cli("run", inp, "-o", out, "-q")
    assert again.exit_code == 0, again.output
    assert not (out / ".reviewnlp.unfinished").exists()
    assert _cli("search", "kinship", "-o", out).exit_code == 0


def test_a_rerun_repairs_a_damaged_output_instead_of_recording_it_as_good(tmp_path):
    inp, out = _tiny_inputs(tmp_path), tmp_path / "out"
    assert _cli("run", inp, "-o", out, "-q").exit_code == 0
    good = {name: (out / name).read_bytes() for name in ("segments.jsonl", "alignments.csv")}
    with open(out / "segments.jsonl", "r+b") as fh:
        fh.truncate(50)
    (out / "alignments.csv").write_text("edited")
    res = _cli("run", inp, "-o", out)
    assert res.exit_code == 0, res.output
    assert "recomputed: outputs, align" in res.output
    assert {name: (out / name).read_bytes() for name in good} == good
    assert _cli("search", "kinship", "-o", out).exit_code == 0


def test_a_damaged_cache_state_is_a_miss_for_run_and_search(tmp_path):
    """Once "[]" or "null" in cache/state.json was a traceback from run and from search."""
    inp, out = _tiny_inputs(tmp_path), tmp_path / "out"
    assert _cli("run", inp, "-o", out, "-q").exit_code == 0
    for state in ("[]", "null", '{"outputs": 5}'):
        (out / "cache" / "state.json").write_text(state)
        res = _cli("search", "kinship", "-o", out)
        assert res.exit_code == 0 and "kinship" in res.output, (state, res.output)
        res = _cli("run", inp, "-o", out, "-q")
        assert res.exit_code == 0, (state, res.output)
        assert _cli("search", "kinship", "-o", out).exit_code == 0
