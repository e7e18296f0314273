"""Isolated workers: each input file is extracted and segmented in a child process that may die alone.

A decompression bomb (a few KB of PDF whose content stream inflates to 3 GB) makes pdfium abort the process it
runs in, and the kernel's OOM killer sends SIGKILL: in the run's own process either ends the whole batch, and in
a ``ProcessPoolExecutor`` it breaks the pool without saying which file did it.  Here each of N fresh worker
processes (``python -c``, importing only reviewnlp, see :class:`_Child`) holds one file at a time under a memory limit (``RLIMIT_DATA``, ``--max-memory-mb``), and the parent knows which
file each holds: a worker that dies is reaped, its file becomes a failed unit naming the signal, and a fresh
worker takes the next file.

A worker's first file pays for importing spaCy and loading the models (several seconds), so idle workers are
kept warm between calls in one process and leave on their own after ``WORKER_IDLE_S`` without work.  Workers
die with the process that started them (:func:`die_with_parent`), ignore Ctrl-C (the terminal
sends it to the whole process group; the parent stops them) and unwind on SIGTERM, so a tesseract they started
is killed with them.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import signal
import threading
import time
from collections import deque
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Sequence

if TYPE_CHECKING:
    from pathlib import Path

    from .records import Document, FailedFile

#: Memory each worker may hold, in MB (``--max-memory-mb``; 0: no limit).  A worker with spaCy and the models
#: loaded holds about 450 MB; pdfium needs over 4 GB for one 3 GB content stream.
DEFAULT_MAX_MEMORY_MB = 4096
WORKER_DIED = "worker-died"
OUT_OF_MEMORY = "out-of-memory"
#: Failure causes that say more about the memory limit or the machine than about the file.
MEMORY_CAUSES = (WORKER_DIED, OUT_OF_MEMORY)
WORKER_IDLE_S = 30.0  # a warm worker given no file for this long exits (code 0)
STOP_GRACE_S = 2.0    # how long a worker told to stop may take to unwind before it is killed

Job = tuple[int, str]  # (index, path)
_warm: list["_Worker"] = []  # idle workers left by earlier calls in this process
_warm_lock = threading.Lock()
# A forked child does not own its parent's workers (multiprocessing refuses to even ask if they are alive).
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_warm.clear)


class _Terminated(BaseException):
    """Raised in a worker by SIGTERM so that ``with`` blocks and ``finally`` clauses run before it exits."""


def _terminated(signum, frame) -> None:
    raise _Terminated


def die_with_parent(parent: int) -> None:
    """Runs first in each pool worker: the worker dies with the process that started it.

    On Linux the kernel sends SIGKILL when the parent dies (``PR_SET_PDEATHSIG``);
    elsewhere, and for the instant before ``prctl`` ran, a thread polls the parent.
    Without this a ``kill -9`` of the run leaves the workers (and the resource
    tracker they keep open) running with PPID 1.  ``parent`` is the run's pid,
    passed in because a worker still importing when the run died has already
    been re-parented by the time this runs.
    """
    import ctypes
    import signal
    import sys
    import threading
    import time

    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="reviewnlp-parent-watch", daemon=True).start()


def limit_memory(max_memory_mb: float) -> None:
    """Cap this process's data (heap and private mappings) at ``max_memory_mb`` MB; 0 leaves it unlimited.

    ``RLIMIT_DATA`` rather than ``RLIMIT_AS``: address space that threads and allocators only reserve is not
    memory, and counting it would fail a healthy worker on a machine with many cores.  Children (tesseract)
    inherit the limit.
    """
    if not max_memory_mb:
        return
    import resource

    limit = int(max_memory_mb * 1024 * 1024)
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))


def _no_core_dumps() -> None:
    """A worker that pdfium aborts must not leave a core file of gigabytes in the folder the run started in."""
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))


def memory_hint(max_memory_mb: float) -> str:
    """The second half of a worker's failure line: what the file may be, and the limit it ran under."""
    if max_memory_mb:
        return f"the file may be a decompression bomb or need more than --max-memory-mb {max_memory_mb:g}"
    return "the file may be a decompression bomb or need more memory than this machine has"


def _failure_blob(path: str, cause: str, what: str, max_memory_mb: float) -> dict:
    from .units import Unit, unit_blob
    from .records import FailedFile

    message = f"{path}: {what} while extracting; {memory_hint(max_memory_mb)}"
    return unit_blob(Unit(path, failure=FailedFile(path=path, stage="extract", cause=cause, message=message)))


def _ran_out(blob: dict) -> bool:
    """True when a blob's failure is a MemoryError the extract or segment stage caught and reported."""
    failure = blob.get("failure") or {}
    return failure.get("cause") in ("unreadable", "unsegmentable") and f"({MemoryError.__name__}" in failure.get(
        "message", "")


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives a trip through pickle, else a plain ReviewNLPError with its message."""
    from .errors import ReviewNLPError

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return ReviewNLPError(str(exc))


def _serve(conn, parent: int, max_mb: float, max_memory_mb: float, segment: bool, ocr: bool, env: str) -> None:
    """A worker's life: answer each (index, path) with ("done", index, blob, leaving) until told to stop.

    ``ocr``: whether the run found tesseract (the worker agrees with it); ``env`` only keys warm workers.
    A MemoryError ends the worker after its answer: a heap that ran out once is not trusted with another file.
    """
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        limit_memory(max_memory_mb)
        _no_core_dumps()
        from .units import process_file

        if not ocr:
            from .extract.ocr import turn_off_ocr

            turn_off_ocr()

        while conn.poll(WORKER_IDLE_S):
            job = conn.recv()
            if job is None:
                return
            i, path = job
            try:
                blob = process_file(path, max_mb=max_mb, segment=segment)
            except MemoryError:
                blob = None
            except Exception as exc:  # a broken install or a bug: the parent stops the run and says so
                conn.send(("raise", i, _portable(exc)))
                return
            if blob is None or _ran_out(blob):
                conn.send(("done", i, _failure_blob(path, OUT_OF_MEMORY, "ran out of memory (MemoryError)",
                                                    max_memory_mb), True))
                return
            conn.send(("done", i, blob, False))
    except (EOFError, BrokenPipeError):
        return  # the parent has gone
    except _Terminated:
        pass
    # Cleanup has run; end by the signal itself, so the parent reads how the worker ended as SIGTERM.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


class _Child:
    """A worker process started as ``python -c`` (the parts of ``multiprocessing.Process`` the pool uses).

    Not ``multiprocessing``'s spawn: that re-runs the caller's ``__main__`` module in every worker, so a
    script that calls :func:`reviewnlp.run` at its top level, as the README's examples do, would start
    itself again in each worker.  This child imports only reviewnlp.
    """

    def __init__(self, fd: int, args: tuple) -> None:
        import subprocess
        import sys

        package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        code = ("import sys; from multiprocessing.connection import Connection; from reviewnlp.workers import "
                f"_serve; _serve(Connection({fd}), *{args!r})")
        self._popen = subprocess.Popen([sys.executable, "-c", code], pass_fds=(fd,), env=env,
                                       stdin=subprocess.DEVNULL)
        self.pid = self._popen.pid
        try:  # a descriptor that becomes readable when the child ends, for connection.wait
            self._pidfd = os.pidfd_open(self.pid)
            self.sentinel = self._pidfd
        except (AttributeError, OSError):
            self._pidfd, self.sentinel = None, None

    @property
    def exitcode(self) -> int | None:
        return self._popen.poll()

    def is_alive(self) -> bool:
        return self._popen.poll() is None

    def join(self, timeout: float | None = None) -> None:
        import subprocess

        try:
            self._popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    def kill(self) -> None:
        if self.is_alive():
            self._popen.kill()

    def terminate(self) -> None:
        if self.is_alive():
            self._popen.terminate()


class _Worker:
    """One worker process and this process's end of its pipe; ``job`` is the (index, path) it holds."""

    def __init__(self, settings: tuple) -> None:
        from multiprocessing.connection import Pipe

        self.settings = settings
        self.conn, child = Pipe()
        self.proc = _Child(child.fileno(), (os.getpid(), *settings))
        child.close()  # only the worker holds its end now, so its death reads here as end-of-file
        self.job: Job | None = None

    def give(self, job: Job) -> None:
        self.job = job
        try:
            self.conn.send(job)
        except OSError:
            pass  # it has just died: the wait reaps it and names this file

    def answer(self) -> tuple | None:
        """The worker's reply, or None when it died (its pipe closed or broke mid-message)."""
        try:
            return self.conn.recv() if self.conn.poll() else None
        except Exception:
            return None

    def reap(self) -> str:
        """Wait for a dead worker and say how it ended: "SIGKILL", "SIGABRT", "exit code 1"."""
        self.proc.join(STOP_GRACE_S)
        if self.proc.exitcode is None:  # its pipe broke but it lives on: it cannot be trusted with a file
            self.proc.kill()
            self.proc.join()
        self.conn.close()
        code = self.proc.exitcode
        if code < 0:
            try:
                return signal.Signals(-code).name
            except ValueError:
                return f"signal {-code}"
        return f"exit code {code}"


def _warm_workers(settings: tuple, n: int) -> list[_Worker]:
    """Up to ``n`` live idle workers with these settings, left by an earlier call."""
    with _warm_lock:
        live = [w for w in _warm if w.proc.is_alive()]
        for w in _warm:
            if w not in live:
                w.reap()
        mine = [w for w in live if w.settings == settings][:n]
        _warm[:] = [w for w in live if w not in mine]
    return mine


def _park(pool: list[_Worker]) -> None:
    with _warm_lock:
        _warm.extend(w for w in pool if w.job is None and w.proc.is_alive())


def _stop(pool: list[_Worker]) -> None:
    """Stop every worker: idle ones are asked to leave, busy ones get SIGTERM, and SIGKILL after the grace."""
    for w in pool:
        if w.job is None:
            try:
                w.conn.send(None)
            except OSError:
                pass
        elif w.proc.is_alive():
            w.proc.terminate()
    deadline = time.monotonic() + STOP_GRACE_S
    for w in pool:
        w.proc.join(max(0.0, deadline - time.monotonic()))
        if w.proc.exitcode is None:
            w.proc.kill()
            w.proc.join()
        w.conn.close()


def run_isolated(jobs: Iterable[Job], *, workers: int, max_mb: float, max_memory_mb: float = DEFAULT_MAX_MEMORY_MB,
                 segment: bool = True, on_start: Callable[[int, int, str], None] | None = None
                 ) -> Iterator[tuple[int, dict]]:
    """Process each (index, path) in one of ``workers`` isolated worker processes; yield (index, blob) as
    they finish (:func:`reviewnlp.units.process_file`'s blob; extraction only without ``segment``).

    A worker that dies while it holds a file (a signal, an abort, a MemoryError) makes that file a failed
    unit (stage "extract", cause "worker-died" or "out-of-memory") and a fresh worker takes the next one.
    ``on_start(pid, index, path)`` is called as each file is handed to a worker.  An error a worker raises
    on purpose (a missing model) stops every worker and is raised here.
    """
    from .extract.ocr import ocr_available

    queue = deque(jobs)
    if not queue:
        return
    # A warm worker is reused only by a call that would have started the same one: same limits, same answer
    # on OCR, same environment (it was inherited at the start).
    env = hashlib.sha256(repr(sorted(os.environ.items())).encode("utf-8", "surrogateescape")).hexdigest()
    settings = (max_mb, max_memory_mb, segment, ocr_available(), env)
    pool = _warm_workers(settings, min(workers, len(queue)))
    finished = False
    try:
        while queue or any(w.job for w in pool):
            for w in list(pool):
                if w.job is None and queue:
                    if not w.proc.is_alive():  # it left while idle: not any file's doing
                        w.reap()
                        pool.remove(w)
                        continue
                    w.give(queue.popleft())
                    if on_start:
                        on_start(w.proc.pid, *w.job)
            while queue and len(pool) < workers:
                pool.append(_Worker(settings))
                pool[-1].give(queue.popleft())
                if on_start:
                    on_start(pool[-1].proc.pid, *pool[-1].job)
            busy = [w for w in pool if w.job is not None]
            ready = set(wait([x for w in busy for x in (w.conn, w.proc.sentinel) if x is not None]))
            for w in [w for w in busy if w.conn in ready or w.proc.sentinel in ready]:
                reply = w.answer()
                if reply is None or reply[0] == "done" and reply[3]:
                    pool.remove(w)
                    job, w.job = w.job, None
                    how = w.reap()
                    if reply is not None:
                        yield reply[1], reply[2]
                    elif how == "exit code 0":
                        queue.appendleft(job)  # it timed out idle just as the file was sent: not the file's doing
                    else:
                        yield job[0], _failure_blob(job[1], WORKER_DIED, f"worker died ({how})", max_memory_mb)
                elif reply[0] == "raise":
                    raise reply[2]
                else:
                    w.job = None
                    yield reply[1], reply[2]
        finished = True
    finally:
        if finished:
            _park(pool)
        else:  # Ctrl-C, an error, or the consumer stopped early: nothing may outlive this call
            _stop(pool)


def extract_isolated(paths: Sequence["Path"], *, max_mb: float, max_memory_mb: float = DEFAULT_MAX_MEMORY_MB,
                     workers: int = 1) -> tuple[list["Document"], list["FailedFile"]]:
    """:func:`reviewnlp.extract.extract_many` with each file extracted in an isolated worker: the documents
    (byte-identical files once) and the failures, in input order."""
    from .units import unit_from_blob

    blobs = dict(run_isolated(enumerate(map(str, paths)), workers=workers, max_mb=max_mb,
                              max_memory_mb=max_memory_mb, segment=False))
    docs: dict[str, Document] = {}
    failed: list[FailedFile] = []
    for i, path in enumerate(paths):
        unit = unit_from_blob(str(path), blobs[i])
        if unit.failure:
            failed.append(unit.failure)
        else:
            docs.setdefault(unit.doc.doc_id, unit.doc)
    return list(docs.values()), failed
