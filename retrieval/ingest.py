"""Ingest a folder: walk it, skip what is stored, read the rest in parallel with the reading unit, store in batches.

`invoice-ocr ingest` is this plus printing (app/commands/library.py). Documents are read by
extraction.reading.DocumentReader (reader processes, the per-document time budget) on `workers` threads;
results are stored from the calling thread, STORE_BATCH invoices at a time, each batch committed whole, so
an interrupted ingest leaves a usable history and a second run skips what the first one stored.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from extraction.reading import DocumentReader
from utils.errors import Abandoned, InvoiceOcrError
from utils.hashing import sha256_hex

if TYPE_CHECKING:
    from collections.abc import Generator

    from extraction.schema import ExtractionResult
    from retrieval.service import InvoiceService

STORE_BATCH = 16  # results embedded and stored together
_POLL_S = 0.5  # the waiting thread wakes this often, so Ctrl-C is seen promptly


class IngestProgress(Protocol):
    """What an ingest tells its caller as it goes (a caller implements what it shows; NoProgress shows nothing)."""

    def planned(self, total: int) -> None:
        """`total` files are new and will be read."""

    def read(self, path: Path) -> None:
        """One file was read (stored with its batch, or refused or failed)."""

    def storing(self, invoices: int) -> None:
        """A batch of `invoices` is being embedded and stored."""

    def stored(self) -> None:
        """The batch announced by `storing` is stored."""


class NoProgress:
    """An ingest's progress shown nowhere."""

    def planned(self, total: int) -> None:
        """Nothing to show."""

    def read(self, path: Path) -> None:
        """Nothing to show."""

    def storing(self, invoices: int) -> None:
        """Nothing to show."""

    def stored(self) -> None:
        """Nothing to show."""


@dataclass
class IngestReport:
    """What an ingest did: counts by outcome and one (path, code, message) per file not stored.

    `counts` keys: stored (files), invoices, review (invoices that need review), skipped (already
    stored or a duplicate in the folder), refused (a domain error), failed (an unexpected error).
    """

    files: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    reasons: list[tuple[str, str, str]] = field(default_factory=list)
    interrupted: bool = False


@dataclass
class _Outcome:
    path: Path
    data: bytes | None = None
    results: list[ExtractionResult] | None = None
    code: str | None = None
    message: str | None = None


def find_files(root: Path) -> list[Path]:
    """`root` itself when it is a file, else every file under it (recursively, no hidden ones), sorted."""
    if root.is_file():
        return [root]
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def _read(reader: DocumentReader, path: Path, stop: threading.Event) -> _Outcome:
    """Read one file with the reading unit; every failure becomes an outcome, never an exception."""

    def should_stop() -> BaseException | None:
        return Abandoned("the ingest was interrupted") if stop.is_set() else None

    try:
        data = path.read_bytes()
        return _Outcome(path, data, reader.extract_invoices(data, path.name, should_stop=should_stop))
    except InvoiceOcrError as exc:
        return _Outcome(path, code=exc.code, message=exc.message)
    except OSError as exc:
        return _Outcome(path, code="unreadable_file", message=str(exc.strerror or exc))
    except Exception as exc:  # a bug in one document must not stop the batch; reported as a failure
        return _Outcome(path, code="internal_error", message=f"{type(exc).__name__}: {exc}")


def _read_all(reader: DocumentReader, paths: list[Path], workers: int) -> Generator[_Outcome, None, None]:
    """Each file's outcome as it is read, `workers` at a time (in the order they finish)."""
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest")
    queue = list(reversed(paths))
    running: set[Future[_Outcome]] = set()
    try:
        while queue or running:
            while queue and len(running) < workers * 2:
                running.add(pool.submit(_read, reader, queue.pop(), stop))
            done, running = wait(running, timeout=_POLL_S, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    finally:  # interrupted (or the caller stopped early): reads in flight are stopped, nothing more is read
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)


class _Batch:
    """Results waiting to be stored together, and the counts they add once stored."""

    def __init__(self, service: InvoiceService, report: IngestReport, progress: IngestProgress) -> None:
        self.service = service
        self.report = report
        self.progress = progress
        self.results: list[tuple[ExtractionResult, bytes]] = []
        self.files = 0

    def add(self, outcome: _Outcome) -> None:
        counts = self.report.counts
        if outcome.results is None or outcome.data is None:
            code = outcome.code or "error"
            counts["failed" if code == "internal_error" else "refused"] += 1
            self.report.reasons.append((str(outcome.path), code, outcome.message or ""))
            self.service.record_failure(outcome.path.name, code, None)
            return
        self.results.extend((result, outcome.data) for result in outcome.results)
        self.files += 1
        if len(self.results) >= STORE_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.results:
            return
        self.progress.storing(len(self.results))
        stored = self.service.store_many(self.results, enrich=False)
        self.progress.stored()
        counts = self.report.counts
        counts["stored"] += self.files
        counts["invoices"] += len(self.results)
        counts["review"] += sum(1 for r in stored if r.validation.needs_review)
        self.results.clear()
        self.files = 0


def ingest(
    service: InvoiceService,
    root: Path,
    workers: int = 1,
    progress: IngestProgress | None = None,
    reader: DocumentReader | None = None,
) -> IngestReport:
    """Read and store every new document under `root`; files already stored (by content) are skipped.

    Reads with `reader`, else with a reading unit of `workers` reader processes at the caller's priority
    (closed at the end). Ctrl-C stops the reads and returns the report with `interrupted` set: what was
    stored is stored whole, the batch still in memory is dropped.
    """
    progress = progress or NoProgress()
    files = find_files(root)
    report = IngestReport(files=len(files))
    todo: list[Path] = []
    seen: set[str] = set()
    for path in files:
        try:
            sha = sha256_hex(path.read_bytes())
        except OSError as exc:
            report.counts["refused"] += 1
            report.reasons.append((str(path), "unreadable_file", str(exc.strerror or exc)))
            continue
        if sha in seen or service.has_document(sha):
            report.counts["skipped"] += 1
            continue
        seen.add(sha)
        todo.append(path)
    progress.planned(len(todo))
    if not todo:
        return report
    own = reader is None
    unit = reader or DocumentReader(service.settings, workers=workers, background=False)
    batch = _Batch(service, report, progress)
    outcomes = _read_all(unit, todo, workers)
    try:
        for outcome in outcomes:
            batch.add(outcome)
            progress.read(outcome.path)
        batch.flush()
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        outcomes.close()  # stops the reads still in flight
        if own:
            unit.shutdown()
    return report
