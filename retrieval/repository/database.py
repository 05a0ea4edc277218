"""The DuckDB invoice history: connection, migrations, one writer, per-thread readers, content-addressed files."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from retrieval.repository.schema import INVOICE_CHILD_TABLES, MIGRATIONS
from retrieval.textindex import term_counts
from utils.errors import Conflict, DatabaseDamaged, InvoiceOcrError
from utils.files import write_atomic


def fts_extension_path() -> Path | None:
    """The fts extension file shipped in the duckdb-extension-fts package, when installed."""
    try:
        import duckdb_extension_fts
    except ImportError:
        return None
    base = Path(duckdb_extension_fts.__file__).parent / "extensions"
    candidates = sorted(base.glob(f"v{duckdb.__version__}/*.duckdb_extension")) or sorted(
        base.glob("*/fts.duckdb_extension")
    )
    return candidates[0] if candidates else None


def one_row(cur: duckdb.DuckDBPyConnection) -> tuple[Any, ...]:
    """The row of a query that always yields one: an aggregate, `INSERT ... RETURNING`, a row known to exist."""
    row = cur.fetchone()
    if row is None:
        raise LookupError("the query returned no row")
    return row


def _open_error(db_path: Path, exc: duckdb.Error) -> InvoiceOcrError:
    """What opening the database failed on, told apart: held by another process, damaged, or else."""
    text = str(exc)
    if "lock" in text.lower():
        return Conflict(f"the history database {db_path} is in use by another process: {text}")
    if isinstance(exc, duckdb.IOException) or "corrupt" in text.lower() or "serializ" in text.lower():
        return DatabaseDamaged(
            f"the history database {db_path} is damaged or truncated ({text}); restore it from a backup,"
            " or move it away to start an empty history"
        )
    return DatabaseDamaged(f"cannot open the history database {db_path}: {text}")


class Store:
    """The history database: one writer at a time (a lock), readers on their own cursors."""

    def __init__(self, db_path: Path, files_dir: Path) -> None:
        self.db_path = Path(db_path)
        self.files_dir = Path(files_dir)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.files_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.db_path))
        except duckdb.Error as exc:
            raise _open_error(self.db_path, exc) from exc
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._cursors_lock = threading.Lock()
        self.write_lock = threading.RLock()
        self.stemming = self._load_fts()
        try:
            self._migrate()
        except duckdb.Error as exc:  # a file that opens can still be cut short past its header
            self._con.close()
            raise _open_error(self.db_path, exc) from exc
        self.generation = 0  # bumped on every committed write; caches key on it

    # -- connections --------------------------------------------------------------------------
    def _load_fts(self) -> bool:
        path = fts_extension_path()
        try:
            if path is not None:
                self._con.execute(f"LOAD '{path.as_posix()}'")
            else:
                self._con.execute("LOAD fts")
            return True
        except duckdb.Error:
            return False

    def stem_sql(self, expr: str) -> str:
        """SQL applying the fts stemmer to expr (identity when the extension is missing)."""
        return f"stem({expr}, 'porter')" if self.stemming else expr

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor (DuckDB cursors are not shared between threads)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._con.cursor()
            self._local.cursor = cur
            with self._cursors_lock:
                self._cursors.append(cur)
        return cur

    def close(self) -> None:
        """Close every cursor and the database."""
        with self._cursors_lock:
            for cur in self._cursors:
                with suppress(duckdb.Error):
                    cur.close()
            self._cursors.clear()
        self._con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The writer: hold the lock, run in one transaction, commit or roll back."""
        with self.write_lock:
            cur = self.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                self.generation += 1
                raise
            cur.execute("COMMIT")
            self.generation += 1

    def _migrate(self) -> None:
        cur = self._con
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR,"
            " applied_at TIMESTAMP DEFAULT current_timestamp)"
        )
        done = {row[0] for row in cur.execute("SELECT version FROM schema_migrations").fetchall()}
        for version, name, statements in MIGRATIONS:
            if version in done:
                continue
            cur.execute("BEGIN TRANSACTION")
            try:
                for sql in statements:
                    cur.execute(sql)
                cur.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name])
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    def schema_version(self) -> int:
        """The highest applied migration."""
        return int(one_row(self.cursor().execute("SELECT max(version) FROM schema_migrations"))[0] or 0)

    # -- files ----------------------------------------------------------------------------------
    def file_path(self, sha256: str) -> Path:
        """Where the original file with this hash lives."""
        return self.files_dir / sha256

    def save_file(self, sha256: str, data: bytes) -> Path:
        """Store the original bytes once under files/<sha256> (temp, fsync, rename)."""
        path = self.file_path(sha256)
        if not path.exists():
            write_atomic(path, data)
        return path

    def remove_orphan_files(self) -> int:
        """Delete files no stored document names (a crash between writing a file and committing it); how many.

        Only safe while no write is in flight: called when the history opens, before any.
        """
        known = {row[0] for row in self.fetch("SELECT sha256 FROM documents")}
        removed = 0
        for path in self.files_dir.iterdir():
            if path.is_file() and path.name not in known:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    # -- reads ----------------------------------------------------------------------------------
    def fetch(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        """Rows of a read query on this thread's cursor."""
        return self.cursor().execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        row = self.cursor().execute(sql, params or []).fetchone()
        return row[0] if row else None

    def embedding_ids(self, model: str | None = None) -> np.ndarray:
        """Invoice ids with a stored embedding (of one model when given)."""
        if model is None:
            rows = self.fetch("SELECT invoice_id FROM embeddings ORDER BY invoice_id")
        else:
            rows = self.fetch("SELECT invoice_id FROM embeddings WHERE model = ? ORDER BY invoice_id", [model])
        return np.array([r[0] for r in rows], dtype=np.int64)

    def embeddings(self, ids: list[int] | None = None, model: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) stored in DuckDB, optionally for some ids or one model."""
        sql = "SELECT invoice_id, vector FROM embeddings WHERE true"
        params: list[Any] = []
        if ids is not None:
            sql += " AND list_contains(?::BIGINT[], invoice_id)"
            params.append([int(i) for i in ids])
        if model is not None:
            sql += " AND model = ?"
            params.append(model)
        rows = self.fetch(sql + " ORDER BY invoice_id", params)
        if not rows:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
        out_ids = np.array([r[0] for r in rows], dtype=np.int64)
        vectors = np.array([r[1] for r in rows], dtype=np.float32)
        return out_ids, vectors

    # -- writes (inside transaction()) ------------------------------------------------------------
    def index_text(self, cur: duckdb.DuckDBPyConnection, invoice_id: int, text: str) -> None:
        """Replace the keyword postings of one invoice."""
        self.unindex_text(cur, invoice_id)
        counts = term_counts(text)
        if not counts:
            cur.execute("INSERT INTO fts_docs VALUES (?, 0)", [invoice_id])
            return
        terms, tfs = list(counts.keys()), list(counts.values())
        stem = self.stem_sql("t")
        cur.execute(
            f"INSERT INTO fts_dict (term) SELECT DISTINCT {stem} FROM (SELECT unnest(?::VARCHAR[]) AS t)"
            " ON CONFLICT DO NOTHING",
            [terms],
        )
        cur.execute(
            f"INSERT INTO fts_postings SELECT d.termid, ?, sum(u.c)::INTEGER FROM"
            f" (SELECT unnest(?::VARCHAR[]) AS t, unnest(?::INTEGER[]) AS c) u"
            f" JOIN fts_dict d ON d.term = {self.stem_sql('u.t')} GROUP BY d.termid",
            [invoice_id, terms, tfs],
        )
        cur.execute("INSERT INTO fts_docs VALUES (?, ?)", [invoice_id, sum(tfs)])

    def unindex_text(self, cur: duckdb.DuckDBPyConnection, invoice_id: int) -> None:
        """Drop the keyword postings of one invoice."""
        cur.execute("DELETE FROM fts_postings WHERE invoice_id = ?", [invoice_id])
        cur.execute("DELETE FROM fts_docs WHERE invoice_id = ?", [invoice_id])

    def orphan_counts(self) -> dict[str, int]:
        """Per table, the rows that belong to no stored invoice (left by a write that lost a race with a delete)."""
        gone = "NOT EXISTS (SELECT 1 FROM invoices i WHERE i.id = t.invoice_id)"
        return {
            table: int(self.scalar(f"SELECT count(*) FROM {table} t WHERE {gone}") or 0)
            for table in INVOICE_CHILD_TABLES
        }

    def drop_orphans(self, cur: duckdb.DuckDBPyConnection) -> int:
        """Inside a transaction: delete the rows that belong to no stored invoice; returns how many."""
        dropped = 0
        for table in INVOICE_CHILD_TABLES:
            row = cur.execute(f"DELETE FROM {table} WHERE invoice_id NOT IN (SELECT id FROM invoices)").fetchone()
            dropped += int(row[0]) if row else 0
        return dropped

    def compact_postings(self) -> None:
        """Rewrite the postings sorted by term so term lookups skip most row groups."""
        with self.transaction() as cur:
            cur.execute("CREATE TEMP TABLE _postings AS SELECT * FROM fts_postings ORDER BY termid, invoice_id")
            cur.execute("DELETE FROM fts_postings")
            cur.execute("INSERT INTO fts_postings SELECT * FROM _postings")
            cur.execute("DROP TABLE _postings")
        self.cursor().execute("CHECKPOINT")

    def put_embedding(self, cur: duckdb.DuckDBPyConnection, invoice_id: int, model: str, vector: np.ndarray) -> None:
        """Store (or replace) one invoice's embedding."""
        cur.execute(
            "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
            [invoice_id, model, np.asarray(vector, dtype=np.float32).tolist()],
        )

    def record_failure(self, filename: str, error_code: str, engine: str | None) -> None:
        """One failed extraction, for error-rate figures."""
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO failures (filename, error_code, engine) VALUES (?, ?, ?)", [filename, error_code, engine]
            )


def dumps(value: Any) -> str:
    """JSON text for a JSON column (decimals and dates as strings where pydantic did not convert them)."""
    return json.dumps(value, default=str)
