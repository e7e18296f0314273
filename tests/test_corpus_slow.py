"""The whole bundled corpus through the CLI, scored against the dev gold (slow: ~3 min)."""
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from conftest import CORPUS, SHARED_EVAL
from reviewnlp.cli import main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus_out")
    res = CliRunner().invoke(main, ["run", str(CORPUS), "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


def test_whole_corpus_runs_without_failures(corpus_run):
    manifest = json.loads((corpus_run / "run.json").read_text())
    assert manifest["counts"]["documents"] == 16 and manifest["counts"]["failed"] == 0
    assert manifest["counts"]["pages"] > 900


@pytest.mark.skipif(not (SHARED_EVAL / "score.py").exists(), reason="shared eval kit not present")
def test_dev_gold_meets_the_foundation_bar(corpus_run):
    res = subprocess.run([sys.executable, str(SHARED_EVAL / "score.py"), str(corpus_run / "alignments.jsonl"),
                          str(SHARED_EVAL / "dev_gold.jsonl"), "--json"], capture_output=True, text=True, check=True)
    metrics = json.loads(res.stdout)
    print(metrics)
    assert metrics["recall"] >= 0.70 and metrics["status_accuracy"] >= 0.50
