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
    message = (f"{mixed}: stage keys in run.json do not match the folder's files (align, index, outputs, vectors: "
               "another run wrote them); run `reviewnlp run` again")
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
