"""The bounded extraction pool: admission, Busy, timeouts, shutdown and the write gate."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from app.api.workers import ExtractionPool
from utils.errors import Abandoned, Busy, ExtractionTimeout


def _blocker(release: threading.Event, started: threading.Event | None = None):
    def job(_job):
        if started is not None:
            started.set()
        release.wait(10)
        return "done"

    return job


def test_full_pool_refuses_with_retry_after_and_frees_slots_afterwards():
    pool = ExtractionPool(workers=1, queue_size=1, timeout=10)
    release, started = threading.Event(), threading.Event()
    running, _ = pool.submit(_blocker(release, started))
    waiting, _ = pool.submit(_blocker(release))
    assert started.wait(5)
    assert pool.state() == {"workers": 1, "running": 1, "waiting": 1, "capacity": 2}
    with pytest.raises(Busy) as info:
        pool.submit(_blocker(release))
    assert info.value.status == 503 and info.value.retry_after >= 1
    with pytest.raises(Busy):
        pool.reserve(2)
    release.set()
    assert running.result(5) == "done" and waiting.result(5) == "done"
    assert pool.state()["running"] == 0 and pool.state()["waiting"] == 0
    pool.submit(lambda job: 1)[0].result(5)
    pool.shutdown(1)


def test_timeout_abandons_the_job_and_it_never_writes():
    pool = ExtractionPool(workers=1, queue_size=2, timeout=0.2)
    release = threading.Event()
    writes: list[str] = []

    def job(j):
        release.wait(5)
        return j.commit(lambda: writes.append("stored"))

    with pytest.raises(ExtractionTimeout) as info:
        asyncio.run(pool.run(job))
    assert info.value.status == 504
    release.set()
    deadline = time.monotonic() + 5
    while pool.state()["running"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert writes == []
    pool.shutdown(1)


def test_shutdown_finishes_running_work_drops_waiting_and_closes_writes():
    pool = ExtractionPool(workers=1, queue_size=2, timeout=10)
    release, started = threading.Event(), threading.Event()
    writes: list[str] = []

    def slow(j):
        started.set()
        release.wait(5)
        return j.commit(lambda: writes.append("first"))

    first, _ = pool.submit(slow)
    queued, _ = pool.submit(lambda j: j.commit(lambda: writes.append("second")))
    assert started.wait(5)
    threading.Timer(0.2, release.set).start()
    pool.shutdown(grace=5)
    assert first.result(1) is None and writes == ["first"]
    assert queued.cancelled()
    with pytest.raises(Abandoned):
        pool.submit(lambda j: None)


def test_shutdown_grace_over_abandons_without_writing():
    pool = ExtractionPool(workers=1, queue_size=1, timeout=10)
    release, started = threading.Event(), threading.Event()
    writes: list[str] = []

    def slow(j):
        started.set()
        release.wait(5)
        return j.commit(lambda: writes.append("late"))

    future, _ = pool.submit(slow)
    assert started.wait(5)
    pool.shutdown(grace=0.1)
    release.set()
    with pytest.raises(Abandoned):
        future.result(5)
    assert writes == []


def test_run_many_is_all_or_nothing():
    pool = ExtractionPool(workers=1, queue_size=1, timeout=10)
    with pytest.raises(Busy):
        asyncio.run(pool.run_many([lambda j: 1, lambda j: 2, lambda j: 3]))
    assert pool.state()["waiting"] == 0
    assert asyncio.run(pool.run_many([lambda j: 1, lambda j: 2])) == [1, 2]
    pool.shutdown(1)
