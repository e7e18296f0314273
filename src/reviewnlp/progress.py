"""Progress reporting: rich bars with counts and ETA on a terminal, plain log lines otherwise.

Log lines go to stderr, at most one per second per stage plus the last, so a
batch over a thousand files writes a readable log rather than a flood.  Every
line and note may carry file names, which are data: they are shown through
:func:`safe_line` and never read as rich markup.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Callable, Iterator, TextIO

# Characters of the note shown beside a bar (its tail: the file name's end is the part that tells files apart).
NOTE_CHARS = 48


def safe_line(text: str) -> str:
    """``text`` with control and other unprintable characters shown as escapes, for one terminal line.

    A newline becomes ``\\n`` and ESC ``\\x1b``, so a file name can neither forge a line nor send the
    terminal a control sequence.
    """
    return "".join(c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for c in text)


class Progress:
    """Stage-by-stage progress.  ``with progress.stage("extract", total) as advance: advance(note=...)``."""

    def __init__(self, stream: TextIO | None = None, rich: bool | None = None, quiet: bool = False):
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.rich = (self.stream.isatty() if rich is None else rich) and not quiet
        self._bars = None
        if self.rich:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn,
                                       TimeElapsedColumn, TimeRemainingColumn)

            self._bars = RichProgress(TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(),
                                      TextColumn("eta"), TimeRemainingColumn(), TimeElapsedColumn(),
                                      TextColumn("{task.fields[note]}", markup=False),
                                      console=Console(file=self.stream),
                                      transient=False)

    def log(self, message: str) -> None:
        """One plain line (printed above the bars on a terminal), shown literally: no markup, no escapes."""
        if self.quiet:
            return
        message = safe_line(message)
        if self._bars is not None:
            from rich.text import Text

            # A Text is never parsed for markup or emoji codes; soft_wrap keeps it one line however long.
            self._bars.console.print(Text(message), highlight=False, soft_wrap=True)
        else:
            print(message, file=self.stream, flush=True)

    @contextmanager
    def stage(self, name: str, total: int, unit: str = "files") -> Iterator[Callable[..., None]]:
        """Yield ``advance(n=1, note="")`` for one stage of ``total`` items."""
        if self.quiet:
            yield lambda n=1, note="": None
            return
        if self._bars is not None:
            with self._bars:
                task = self._bars.add_task(name, total=total, note="")
                yield lambda n=1, note="": self._bars.update(task, advance=n, note=safe_line(note)[-NOTE_CHARS:])
            return
        state = {"done": 0, "last": 0.0}
        start = time.monotonic()

        def advance(n: int = 1, note: str = "") -> None:
            state["done"] += n
            now = time.monotonic()
            if now - state["last"] < 1.0 and state["done"] < total:
                return
            state["last"] = now
            elapsed = now - start
            rate = state["done"] / elapsed if elapsed > 0 else 0.0
            eta = (total - state["done"]) / rate if rate > 0 else 0.0
            tail = f"  {safe_line(note)}" if note else ""
            print(f"[{name}] {state['done']}/{total} {unit}  {elapsed:.0f}s elapsed, eta {eta:.0f}s{tail}",
                  file=self.stream, flush=True)

        yield advance
