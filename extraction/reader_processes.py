"""Reader processes: run a reading job in a spawned, lower-priority child that a crash or a stop costs alone.

Reading a scan is CPU-heavy Python and native code. In a server's own process it competes with the
event loop for the GIL, so searches wait behind OCR even at a lower thread priority, and a document
that crashes a native library would take the whole process down. Here each job runs in a spawned child
(in the background, in the idle scheduling class, at nice 10 where that class is not available: it reads
with the CPU time the server leaves unused), and a crashed child costs only its job (UnreadableDocument,
nothing stored) and is replaced. Results come back as the same pickled objects.

Each caller has a reader process of its own for the length of a call, so a job that runs past its time
budget, or whose caller gave up, is ended by stopping that process alone; a reader left holding much
memory after a large document is replaced by a fresh one. What a job is (load, OCR, parse) and the time
budget live in extraction/reading.py, the one way documents are read off the caller's thread.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
from typing import TYPE_CHECKING, Any

from utils.errors import Abandoned, UnreadableDocument

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.connection import Connection
    from multiprocessing.context import SpawnProcess

log = logging.getLogger("invoice_ocr.readers")
# Extraction (threads, the OCR runtime's threads and reader processes) runs at a lower CPU priority, so
# that searches and reads keep their latency while a long document is being read.
EXTRACT_NICE = 10
_POLL_S = 0.05
_CLOSE_WAIT_S = 5.0


def lower_priority() -> None:
    """Run the calling thread (and the threads and processes it starts) at EXTRACT_NICE."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not allowed: normal priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), EXTRACT_NICE)


def reader_priority() -> None:
    """Run a reader process in the idle scheduling class: it gets only CPU time nothing else wants."""
    # Only whole reader processes: a thread of the server in this class could starve while holding the GIL.
    lower_priority()
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def _resident_bytes() -> int:
    """This process's resident memory now (what it keeps after a job, unlike the peak)."""
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _Progress:
    """What a job in a reader sends its progress through: (done, total) pairs, tagged on the reader's pipe."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def send(self, pair: tuple[int, int]) -> None:
        """Report (pages done, pages in all)."""
        self._conn.send(("page", *pair))


def _serve(conn: Connection, background: bool, warm_up: Callable[[], None] | None) -> None:
    """A reader process: warm up, say so, then run the jobs sent on `conn` one at a time until told to stop."""
    # The parent decides when a reader ends (shutdown, a stopped job): Ctrl-C in a terminal reaches the
    # whole process group, and a reader must not die of it with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if background:
        reader_priority()
    if warm_up is not None:
        try:
            warm_up()
        except Exception:  # the first job meets the same problem and reports it
            log.debug("a reader process could not warm up", exc_info=True)
    try:
        conn.send(("ready",))
    except (OSError, ValueError):
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        fn, args, report = job
        try:
            result = fn(*args, _Progress(conn) if report else None)
        except BaseException as exc:  # every failure goes back to the caller, the reader stays
            try:
                conn.send(("error", exc))
            except Exception:  # an exception that does not pickle
                conn.send(("error", RuntimeError(f"{type(exc).__name__}: {exc}")))
            continue
        conn.send(("done", result, _resident_bytes()))


class _ReaderDied(Exception):
    """The reader process ended in the middle of a job."""


class _JobFailed(Exception):
    """The job raised in the reader (which is still sound): `error` is what it raised."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


class _Reader:
    """One spawned reader process and the pipe it takes jobs on."""

    def __init__(self, background: bool = True, warm_up: Callable[[], None] | None = None) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of the server's threads or locks
        self._conn, child = context.Pipe(duplex=True)
        self.process: SpawnProcess = context.Process(target=_serve, args=(child, background, warm_up), daemon=True)
        self.process.start()
        child.close()
        self.ready = False

    def _await_ready(self) -> None:
        """Wait until the process has started and warmed up (no job's time is spent on that)."""
        while not self.ready:
            message = self._next_message()
            self.ready = message is not None and message[0] == "ready"

    def _next_message(self) -> tuple[Any, ...] | None:
        """The reader's next message, or None when none came within one poll; _ReaderDied once it is gone."""
        try:
            if not self._conn.poll(_POLL_S):
                if not self.process.is_alive():
                    raise _ReaderDied
                return None
            return tuple(self._conn.recv())
        except (EOFError, OSError, ValueError) as exc:
            raise _ReaderDied from exc

    def run(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        on_page: Callable[[int, int], None] | None,
        should_stop: Callable[[], BaseException | None] | None,
    ) -> tuple[Any, int]:
        """`fn(*args, progress)` here: (its result, the reader's resident bytes afterwards).

        `should_stop` is asked between messages, first once the reader is ready and has the job (a time
        budget kept by it leaves out starting and warming up a fresh reader); the error it returns ends the
        job: the process is killed.
        """
        self._await_ready()
        try:
            self._conn.send((fn, args, on_page is not None))
        except (OSError, ValueError) as exc:
            raise _ReaderDied from exc
        while True:
            stop = should_stop() if should_stop is not None else None
            if stop is not None:
                self.kill()
                raise stop
            message = self._next_message()
            if message is None:
                continue
            kind, *payload = message
            if kind == "page":
                if on_page is not None:
                    on_page(*payload)
            elif kind == "done":
                return payload[0], payload[1]
            else:
                raise _JobFailed(payload[0])

    def kill(self) -> None:
        """Stop the process now (whatever it is reading, nothing of it has been stored)."""
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.join(_CLOSE_WAIT_S)
        self._conn.close()

    def close(self) -> None:
        """Let the process finish and exit; killed if it does not."""
        with contextlib.suppress(Exception):
            self._conn.send(None)
        self.process.join(_CLOSE_WAIT_S)
        self.kill()


class ReaderProcesses:
    """Spawned reader processes: one per call in flight, kept for the next (up to `workers`).

    A reader whose resident memory passes `max_rss_bytes` after a job is replaced, so a large document's
    memory goes back to the system instead of staying with the reader. `background` readers run in the
    idle scheduling class (a server's, beside its searches); others at the caller's priority (a CLI run).
    """

    def __init__(
        self,
        workers: int,
        max_rss_bytes: int | None = None,
        background: bool = True,
        warm_up: Callable[[], None] | None = None,
    ) -> None:
        self.workers = workers
        self.max_rss_bytes = max_rss_bytes
        self.background = background
        self.warm_up = warm_up  # run by each fresh reader before its first job (module-level: it must pickle)
        self._lock = threading.Lock()
        self._idle: list[_Reader] = []
        self._busy: set[_Reader] = set()
        self._closed = False

    def _take(self) -> _Reader:
        with self._lock:
            if self._closed:
                raise Abandoned("the server is shutting down")
            reader = self._idle.pop() if self._idle else None
        if reader is None or not reader.process.is_alive():
            if reader is not None:
                reader.kill()
            reader = _Reader(self.background, self.warm_up)
        with self._lock:
            self._busy.add(reader)
            closed = self._closed
        if closed:  # shut down while the process started
            self._drop(reader)
            raise Abandoned("the server is shutting down")
        return reader

    def _drop(self, reader: _Reader) -> None:
        with self._lock:
            self._busy.discard(reader)
        reader.kill()

    def _give_back(self, reader: _Reader, rss: int) -> None:
        with self._lock:
            self._busy.discard(reader)
            keep = not self._closed and len(self._idle) < self.workers
            recycle = self.max_rss_bytes is not None and rss > self.max_rss_bytes
            if keep and not recycle:
                self._idle.append(reader)
                return
        if recycle:
            log.info("replacing a reader process that holds %d MB after its last document", rss >> 20)
        reader.close()

    def call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_page: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], BaseException | None] | None = None,
    ) -> Any:
        """`fn(*args, progress)` in a reader process, where progress (with on_page) carries (done, total).

        `should_stop()` is asked while the reader works: an error it returns stops the reader and is raised.
        """
        reader = self._take()
        try:
            result, rss = reader.run(fn, args, on_page, should_stop)
        except _ReaderDied as exc:
            self._drop(reader)
            if self._closed:
                raise Abandoned("the server is shutting down; the document was not stored") from exc
            log.error("a reader process died while running %s", getattr(fn, "__name__", fn))
            raise UnreadableDocument(
                "reading this document stopped its reader process (a crash in a native library or out of "
                "memory); nothing was stored"
            ) from exc
        except _JobFailed as failed:
            self._give_back(reader, 0)
            raise failed.error from None
        except BaseException:
            self._drop(reader)  # stopped, or failed on this side mid-job: the reader's state is unknown
            raise
        self._give_back(reader, rss)
        return result

    def shutdown(self) -> None:
        """Refuse new reads and stop every reader (running reads are abandoned: nothing of them is stored)."""
        with self._lock:
            self._closed = True
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
        for reader in idle:
            reader.kill()
        for reader in busy:  # their callers see the reader end, answer Abandoned and clean up
            with contextlib.suppress(Exception):
                reader.process.kill()
