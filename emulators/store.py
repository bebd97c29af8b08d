"""The emulators' storage: JSON documents by kind and id, in SQLite (default) or PostgreSQL.

Deliberately small: every vendor keeps its records as documents and filters them in Python with its
own query syntax, so one table serves all five APIs. What matters here is safety, not cleverness:

- a write is committed before the response that acknowledges it is sent (SQLite in WAL mode with
  `synchronous=FULL`, so an acknowledged write survives `kill -9` and power loss of the process);
- several worker processes may share one database file: writes take the write lock up front
  (`BEGIN IMMEDIATE`) and wait for it (`busy_timeout`) instead of failing;
- `:memory:` gives tests a private, throwaway store.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

Doc = dict[str, Any]

_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (kind, id)
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_POSTGRES_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    seq BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (kind, id)
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
"""


class _Backend(Protocol):
    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]: ...
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


class _SQLite:
    placeholder = "?"

    def __init__(self, path: str) -> None:
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.conn.executescript(_SQLITE_SCHEMA)

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, params).fetchall()

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()


class _Postgres:
    placeholder = "%s"

    def __init__(self, url: str) -> None:
        import psycopg  # type: ignore[import-not-found, unused-ignore]  # optional: PostgreSQL users only

        self.conn = psycopg.connect(url, autocommit=True)
        with self.conn.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(727272)")  # one schema creator at a time
            cursor.execute(_POSTGRES_SCHEMA)
            cursor.execute("SELECT pg_advisory_unlock(727272)")

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cursor:
            cursor.execute(sql.replace("?", "%s"), params)
            return list(cursor.fetchall()) if cursor.description else []

    def begin(self) -> None:
        self.conn.execute("BEGIN")
        # writers queue up like SQLite's BEGIN IMMEDIATE: no lost updates between workers
        self.conn.execute("SELECT pg_advisory_xact_lock(737373)")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()


def open_backend(url: str) -> _Backend:
    if url.startswith(("postgresql://", "postgres://")):
        return _Postgres(url)
    path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else url
    return _SQLite(path)


class Store:
    """JSON documents grouped by kind. Thread-safe; one instance per process."""

    def __init__(self, url: str = ":memory:") -> None:
        self.url = url
        self._db = open_backend(url)
        self._lock = threading.RLock()
        self._depth = 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """All writes inside commit together, before the caller answers; nested calls join."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.begin()
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.rollback()
                raise
            self._depth -= 1
            if outer:
                self._db.commit()

    # -- documents -------------------------------------------------------------------------------
    def insert(self, kind: str, doc: Doc, id: str | None = None) -> str:
        key = id if id is not None else uuid.uuid4().hex
        with self.transaction():
            self._db.execute(
                "INSERT INTO docs (kind, id, body) VALUES (?, ?, ?)",
                (kind, key, json.dumps(doc, separators=(",", ":"))),
            )
        return key

    def get(self, kind: str, id: str) -> Doc | None:
        with self._lock:
            rows = self._db.execute(
                "SELECT body FROM docs WHERE kind = ? AND id = ?", (kind, str(id))
            )
        return json.loads(rows[0][0]) if rows else None

    def put(self, kind: str, id: str, doc: Doc) -> None:
        """Insert or replace."""
        body = json.dumps(doc, separators=(",", ":"))
        with self.transaction():
            updated = self._db.execute(
                "UPDATE docs SET body = ? WHERE kind = ? AND id = ? RETURNING id",
                (body, kind, str(id)),
            )
            if not updated:
                self._db.execute(
                    "INSERT INTO docs (kind, id, body) VALUES (?, ?, ?)", (kind, str(id), body)
                )

    def update(self, kind: str, id: str, change: Callable[[Doc], Doc | None]) -> Doc | None:
        """Read-modify-write under the write lock; `change` returns the new document or None."""
        with self.transaction():
            current = self.get(kind, id)
            if current is None:
                return None
            new = change(current)
            if new is not None:
                self.put(kind, id, new)
                return new
            return current

    def delete(self, kind: str, id: str) -> bool:
        with self.transaction():
            return bool(
                self._db.execute(
                    "DELETE FROM docs WHERE kind = ? AND id = ? RETURNING id", (kind, str(id))
                )
            )

    def all(self, kind: str) -> list[tuple[str, Doc]]:
        """Every document of a kind, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, body FROM docs WHERE kind = ? ORDER BY seq", (kind,)
            )
        return [(row[0], json.loads(row[1])) for row in rows]

    def find(self, kind: str, match: Callable[[Doc], bool] | None = None) -> list[Doc]:
        return [doc for _, doc in self.all(kind) if match is None or match(doc)]

    def first(self, kind: str, match: Callable[[Doc], bool]) -> Doc | None:
        return next((doc for _, doc in self.all(kind) if match(doc)), None)

    def count(self, kind: str) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM docs WHERE kind = ?", (kind,))[0][0])

    def next_id(self, name: str, start: int = 1) -> int:
        """The next number of a named sequence, durable and unique across workers."""
        with self.transaction():
            rows = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,))
            value = int(rows[0][0]) + 1 if rows else start
            if rows:
                self._db.execute("UPDATE counters SET value = ? WHERE name = ?", (value, name))
            else:
                self._db.execute("INSERT INTO counters (name, value) VALUES (?, ?)", (name, value))
        return value


def now() -> float:
    return time.time()
