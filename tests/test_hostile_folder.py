"""The hostile-folder benchmark, smaller: every bad input of issue 13 plus two good files, one real CLI run.

benchmarks/hostile_folder.py builds the folder (giant texts scaled down here), runs
``reviewnlp run --workers 2`` in a subprocess, and checks exit 0, every output,
one line per bad input, errors.jsonl, run.json, no formula cell and no NUL/BEL.
"""
import importlib.util
import sys

import pytest

from conftest import ROOT


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="FIFOs, sockets and /dev/zero")
def test_hostile_folder_run_exits_0_with_every_output_and_one_line_per_bad_input(capsys):
    spec = importlib.util.spec_from_file_location("hostile_folder", ROOT / "benchmarks" / "hostile_folder.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rc = bench.main(["--giant-mb", "0.5", "--wrapped-mb", "0.3", "--workers", "2", "--timeout", "600"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "exit code 0" in printed and "--- expectations: all held" in printed
