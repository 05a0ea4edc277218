"""Failed model loads, remembered with a back-off and shared by the server and its reader processes.

A model that fails to load (out of GPU memory, a broken file, a missing class) is not tried again on the
next request: the failure is kept, with the time of the next try, in `<data dir>/engines/load-failures.json`.
The file, not process memory, holds it because pages are read in separate reader processes while
`/health` answers from the server's own: every one of them sees the same record. The back-off doubles with
each failed attempt (up to an hour), and a record no longer applies once the model folder or the software
that failed to load it has changed, so a fixed folder or an upgraded package is tried at once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from utils.files import write_atomic

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 3600.0
FILE_NAME = "load-failures.json"


@dataclass
class LoadFailure:
    """One failed load: why, when, how often, when it may be tried again, and what it was tried with."""

    error: str
    failed_at: float
    attempts: int
    retry_at: float
    signature: list[Any]

    def waiting(self) -> float:
        """Seconds left before the next try (0 when it may be tried now)."""
        return max(0.0, self.retry_at - time.time())

    def reason(self) -> str:
        """The failure as /health and `available()` tell it."""
        plural = "s" if self.attempts > 1 else ""
        return (
            f"loading the model failed ({self.error}); next try in {round(self.waiting())}s or when the model "
            f"folder changes ({self.attempts} failed attempt{plural})"
        )

    def as_dict(self) -> dict[str, Any]:
        """For /health: the error, when, attempts and seconds until the next try."""
        return {
            "error": self.error,
            "failed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.failed_at)),
            "attempts": self.attempts,
            "retry_in_s": round(self.waiting()),
        }


class LoadFailures:
    """The remembered failures under one data directory (a JSON file; in memory when it cannot be written)."""

    _lock = threading.Lock()

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / "engines" / FILE_NAME
        self._memory: dict[str, dict[str, Any]] = {}

    def _read(self) -> dict[str, dict[str, Any]]:
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return dict(self._memory)
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s: %s", self.path, exc)
            return dict(self._memory)
        return loaded if isinstance(loaded, dict) else {}

    def _write(self, records: dict[str, dict[str, Any]]) -> None:
        self._memory = records
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(records, indent=2).encode("utf-8"))
        except OSError as exc:  # a read-only data dir: this process still remembers
            log.warning("cannot write %s (%s); load failures are kept in this process only", self.path, exc)

    def get(self, key: str, signature: list[Any]) -> LoadFailure | None:
        """The record for `key` if it was made with this signature (expired or not)."""
        record = self._read().get(key)
        if not isinstance(record, dict):
            return None
        try:
            failure = LoadFailure(**record)
        except TypeError:
            return None
        return failure if failure.signature == signature else None

    def active(self, key: str, signature: list[Any]) -> LoadFailure | None:
        """The record for `key` while its back-off lasts."""
        failure = self.get(key, signature)
        return failure if failure is not None and failure.waiting() > 0 else None

    def record(self, key: str, error: str, signature: list[Any], first_backoff_s: float) -> LoadFailure:
        """Remember a failed load; the back-off doubles with each attempt made with the same signature."""
        with self._lock:
            previous = self.get(key, signature)
            attempts = previous.attempts + 1 if previous else 1
            backoff = min(first_backoff_s * 2 ** (attempts - 1), MAX_BACKOFF_S)
            now = time.time()
            failure = LoadFailure(error, now, attempts, now + backoff, signature)
            records = self._read()
            records[key] = asdict(failure)
            self._write(records)
        return failure

    def clear(self, key: str) -> None:
        """Forget the failures of `key` (after a successful load)."""
        with self._lock:
            records = self._read()
            if key in records:
                del records[key]
                self._write(records)
