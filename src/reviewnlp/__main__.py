"""``python -m reviewnlp``: the command line (:mod:`reviewnlp.cli`)."""
from .cli import main

main(prog_name="reviewnlp")
