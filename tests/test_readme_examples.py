"""Every Python example in README.md runs as written (from a folder holding the bundled corpus, as a user's
checkout does), with the real models, and prints what the README says it prints."""
import contextlib
import io
import os
import re
import shutil

from conftest import CORPUS, ROOT

BLOCK_RE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def test_every_python_block_of_the_readme_runs_as_written(tmp_path):
    blocks = BLOCK_RE.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 2, "the README's Python API examples are gone"
    shutil.copytree(CORPUS / "seeds", tmp_path / "corpus" / "seeds")
    here = os.getcwd()
    os.chdir(tmp_path)
    out = io.StringIO()
    try:
        namespace: dict = {}
        with contextlib.redirect_stdout(out):
            for code in blocks:  # one namespace, as a reader pasting them in order into one session
                exec(compile(code, "README.md", "exec"), namespace)
    finally:
        os.chdir(here)
    printed = out.getvalue()
    assert re.search(r"^\d+ recommendations; \{", printed, re.M)
    assert (tmp_path / "outputs" / "seeds" / "reviewnlp.sqlite").is_file()
    assert "kinship" in printed.lower()
