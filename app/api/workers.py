"""Bounded extraction pool: N worker threads, a waiting line of fixed size, timeouts, graceful shutdown.

A worker thread runs one job: it hands the document to the reading unit (extraction/reading.py: a
reader process, within the document's time budget) and waits, then stores the result, so the event loop
keeps serving searches and reads meanwhile. A job that times out or is abandoned at shutdown never writes
to the store: writes pass through one gate that shutdown closes. All of this is HTTP's: the waiting line
answers Busy (503), the asyncio bridge and the shutdown gate follow the server's lifespan.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from extraction.reader_processes import lower_priority
from utils.errors import Abandoned, Busy, ExtractionTimeout

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from app.api.metrics import Metrics

log = logging.getLogger("invoice_ocr.workers")
T = TypeVar("T")


class Job:
    """What a running extraction can ask: whether it may still write its result."""

    def __init__(self, pool: ExtractionPool) -> None:
        self._pool = pool
        self.cancelled = threading.Event()

    def commit(self, write: Callable[[], T]) -> T:
        """Run `write` (a store call) unless the job was cancelled or the pool closed; atomic with shutdown."""
        with self._pool._write_gate:
            if self.cancelled.is_set() or self._pool._closed_for_writes:
                raise Abandoned("the request was abandoned before its result was stored")
            return write()


class ExtractionPool:
    """Runs extraction jobs on `workers` threads with at most `queue_size` waiting; full -> Busy."""

    def __init__(self, workers: int, queue_size: int, timeout: float, metrics: Metrics | None = None) -> None:
        self.workers = workers
        self.queue_size = queue_size
        self.timeout = timeout
        self.metrics = metrics
        self._executor = ThreadPoolExecutor(
            max_workers=workers, thread_name_prefix="extract", initializer=lower_priority
        )
        self._lock = threading.Lock()
        self._write_gate = threading.Lock()
        self._closed_for_writes = False
        self._accepting = True
        self._waiting = 0
        self._running = 0
        self._avg_seconds = 5.0
        if metrics is not None:
            metrics.queue_capacity.set(workers + queue_size)

    @property
    def capacity(self) -> int:
        """Jobs running plus waiting before new ones are refused."""
        return self.workers + self.queue_size

    def state(self) -> dict[str, int]:
        """Workers, running, waiting and capacity (for /health)."""
        with self._lock:
            return {
                "workers": self.workers,
                "running": self._running,
                "waiting": self._waiting,
                "capacity": self.capacity,
            }

    def retry_after(self) -> int:
        """Seconds a refused client should wait: the queue ahead divided over the workers."""
        with self._lock:
            ahead = self._waiting + self._running
        return max(1, min(120, math.ceil(self._avg_seconds * ahead / self.workers)))

    def _publish(self) -> None:
        if self.metrics is not None:
            self.metrics.queue_waiting.set(self._waiting)
            self.metrics.queue_running.set(self._running)

    def reserve(self, count: int = 1) -> None:
        """Take `count` waiting slots at once, or none: Busy when they do not all fit."""
        with self._lock:
            if not self._accepting:
                raise Abandoned("the server is shutting down", retry_after=10)
            ahead = self._waiting + self._running
            if ahead + count > self.capacity:
                wait = max(1, min(120, math.ceil(self._avg_seconds * max(ahead, 1) / self.workers)))
                raise Busy(
                    f"the extraction queue is full ({ahead} of {self.capacity} slots taken); retry in {wait} s",
                    retry_after=wait,
                )
            self._waiting += count
            self._publish()

    def submit(self, fn: Callable[[Job], T], reserved: bool = False) -> tuple[Future[T], Job]:
        """Queue `fn(job)`; raises Busy when every worker and waiting slot is taken (unless `reserved`)."""
        if not reserved:
            self.reserve(1)
        job = Job(self)

        def run() -> T:
            with self._lock:
                self._waiting -= 1
                self._running += 1
                self._publish()
            start = time.perf_counter()
            try:
                if job.cancelled.is_set():
                    raise Abandoned("the request was abandoned before it started")
                return fn(job)
            finally:
                elapsed = time.perf_counter() - start
                with self._lock:
                    self._running -= 1
                    self._avg_seconds = 0.8 * self._avg_seconds + 0.2 * elapsed
                    self._publish()

        try:
            future = self._executor.submit(run)
        except RuntimeError as exc:  # executor already shut down
            with self._lock:
                self._waiting -= 1
                self._publish()
            raise Abandoned("the server is shutting down") from exc
        future.add_done_callback(lambda f: self._release_if_cancelled(f))
        return future, job

    def _release_if_cancelled(self, future: Future[Any]) -> None:
        # A job cancelled while still waiting never ran `run`, so its waiting slot is given back here.
        if future.cancelled():
            with self._lock:
                self._waiting -= 1
                self._publish()

    async def run_many(self, fns: Sequence[Callable[[Job], T]], timeout: float | None = None) -> list[T]:
        """Run several jobs that were admitted together (all or none); the first error is raised."""
        self.reserve(len(fns))
        tasks = [asyncio.ensure_future(self.run(fn, timeout, reserved=True)) for fn in fns]
        try:
            return list(await asyncio.gather(*tasks))
        finally:
            for task in tasks:
                task.cancel()

    async def run(self, fn: Callable[[Job], T], timeout: float | None = None, reserved: bool = False) -> T:
        """Run `fn(job)` in the pool and await it; ExtractionTimeout after `timeout` (default: the pool's)."""
        future, job = self.submit(fn, reserved=reserved)
        limit = self.timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), limit)
        except TimeoutError as exc:
            job.cancelled.set()
            future.cancel()
            raise ExtractionTimeout(f"the extraction took longer than {limit:g} s and was abandoned") from exc
        except (asyncio.CancelledError, CancelledError) as exc:
            job.cancelled.set()
            future.cancel()
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # the client went away: the job must not write any more
            raise Abandoned("the server is shutting down") from exc

    def run_sync(self, fn: Callable[[Job], T], timeout: float | None = None) -> T:
        """Blocking form of `run` for callers on plain threads (the UI)."""
        future, job = self.submit(fn)
        limit = self.timeout if timeout is None else timeout
        try:
            return future.result(limit)
        except TimeoutError as exc:
            job.cancelled.set()
            future.cancel()
            raise ExtractionTimeout(f"the extraction took longer than {limit:g} s and was abandoned") from exc
        except CancelledError as exc:
            raise Abandoned("the server is shutting down") from exc

    def shutdown(self, grace: float = 30.0) -> None:
        """Refuse new jobs, drop waiting ones, let running ones finish within `grace`, then close writes."""
        with self._lock:
            self._accepting = False
        self._executor.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            with self._lock:
                if self._running == 0:
                    break
            time.sleep(0.05)
        with self._write_gate:  # waits for a store in progress; later commits are refused
            self._closed_for_writes = True
        with self._lock:
            still = self._running
        if still:
            log.warning("shutdown: %d extraction(s) still running were abandoned without storing", still)
