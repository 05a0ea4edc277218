"""Files written whole or not at all: write a temporary file beside the target, fsync it, rename it over."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def write_atomic(path: Path, data: bytes, mode: int = 0o666) -> None:
    """Write `data` to `path` atomically: readers see the old file or the new one, never a part.

    The temporary file is unique per process and thread, so concurrent writers never share one;
    `mode` is the permission of a newly created file (before the umask), as for `os.open`.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
