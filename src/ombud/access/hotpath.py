"""The transaction of a brokered read from the API: short, a writer from its first statement, committed (and on
PostgreSQL durable) before the answer leaves.

Every read writes (the volume count, the audit leaf, the decision row), and the audit log's gapless sequence
makes every such transaction take one store-wide lock — SQLite's single writer lock, PostgreSQL's lock on the
sequence row — until it ends. How long that lock is held is what limits reads per second, so:

- **SQLite.** The transaction starts with ``BEGIN IMMEDIATE``: it is a writer from its first statement, so it
  never reads a snapshot it would later have to upgrade (which SQLite refuses at once when another writer got
  in between). Writers from this path, in every worker process, queue on an advisory file lock beside the
  database before they begin: the kernel hands the lock to the next waiter the moment it is released, where
  SQLite's own busy handler would sleep and poll (1, 2, 5, 10... ms), which is what made the tail latency.
  Other writers (pages, commands) still meet SQLite's lock and busy timeout as before; the file lock only
  orders this path's writers among themselves. With WAL and ``synchronous=NORMAL`` a commit does not wait for
  the disk.
- **PostgreSQL.** A commit waits for its WAL to reach the disk (an fsync, about 1–3 ms here), and the
  sequence row lock is held through that wait, so one fsync per read would cap the whole system at a few
  hundred reads per second whatever the CPU. The read's transaction therefore commits with
  ``synchronous_commit = off`` (the lock is released as soon as the commit is written to the WAL buffers),
  and *then*, before the answer is sent, waits for durability with a synchronous commit of its own: its WAL
  record comes after the read's, so once it is flushed the read is too (``wait_durable``). Concurrent waits share fsyncs
  (PostgreSQL's group commit), and none holds a lock. A crash before the flush loses the read together with
  its audit leaf and decision row, all or nothing, and the caller gets an error, never the data. The one
  difference from a synchronous commit: for the millisecond or two until the flush, another transaction can
  already see the read's rows; were the server to crash in exactly that moment, it would have seen a leaf
  that then is not in the log. Signed checkpoints are not affected (a checkpoint is itself a synchronous
  commit, written after every leaf it covers).

When the sessions are bound to a connection that is already in a transaction (the test suite's savepoint
mode), the read simply runs in a session of that transaction.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ombud.db import make_engine

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: SQLite's own busy handler orders the writers
    fcntl = None  # type: ignore[assignment]

T = TypeVar("T")


class WriterQueue:
    """This path's writers of one SQLite file, in this process and in others, queued on an advisory file lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the file lock (waiting for it, in turn) for the duration of the block."""
        with self._local:
            if fcntl is None:
                yield
                return
            if self._fd is None or self._pid != os.getpid():  # a forked child needs its own open file
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)


_queues: dict[str, WriterQueue] = {}
_queues_lock = threading.Lock()


def writer_queue(database: str) -> WriterQueue:
    """The queue of writers of this SQLite database file (one per file per process)."""
    with _queues_lock:
        queue = _queues.get(database)
        if queue is None:
            queue = _queues[database] = WriterQueue(Path(database + ".writers.lock"))
        return queue


class _Job:
    __slots__ = ("error", "future", "result", "work")

    def __init__(self, work: Callable[[Session], Any], future: asyncio.Future[Any]) -> None:
        self.work = work
        self.future = future
        self.result: Any = None
        self.error: BaseException | None = None


class ReadBatcher:
    """Runs the reads that arrive together in one pass of the event loop as one batch.

    On SQLite the batch is one write transaction, each read in a savepoint of its own: one commit (and one
    turn of the writer lock) for the lot instead of one per read, which is where most of a read's cost went.
    On PostgreSQL each read is its own transaction (so row locks are taken and released in the same order as
    everywhere else and no batch can deadlock with another writer), and the batch waits once for the disk.
    Either way a read's answer is released only when its transaction is committed (and durable).
    """

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self._pending: dict[asyncio.AbstractEventLoop, list[_Job]] = {}

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` with the reads that arrived with it; its result once committed, or its exception."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        pending = self._pending.get(loop)
        if pending is None:
            pending = self._pending[loop] = []
            # After the other requests that are ready in this pass have queued their reads too.
            loop.call_soon(self._flush, loop)
        pending.append(_Job(work, future))
        return await future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        jobs = self._pending.pop(loop, [])
        if not jobs:
            return
        try:
            run_batch(self.sessions, jobs)
        except BaseException as exc:  # the batch as a whole failed (commit, lost connection): nobody gets data
            for job in jobs:
                job.error = exc
        for job in jobs:
            if job.future.cancelled():
                continue
            if job.error is not None:
                job.future.set_exception(job.error)
            else:
                job.future.set_result(job.result)


_batchers: weakref.WeakKeyDictionary[sessionmaker[Session], ReadBatcher] = weakref.WeakKeyDictionary()


def batcher(sessions: sessionmaker[Session]) -> ReadBatcher:
    """The batcher of this session factory (one per factory per process)."""
    found = _batchers.get(sessions)
    if found is None:
        found = _batchers[sessions] = ReadBatcher(sessions)
    return found


async def run_async(sessions: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """``run`` for a request handler: batched with the reads that arrive together (see ReadBatcher)."""
    return await batcher(sessions).run(work)


def run(sessions: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Run ``work`` in one short write transaction and commit it (durably) before returning its result.

    ``work`` must not commit; an exception from it rolls its writes back and propagates.
    """
    job = _Job(work, None)  # type: ignore[arg-type]
    run_batch(sessions, [job])
    if job.error is not None:
        raise job.error
    return job.result  # type: ignore[no-any-return]


def run_batch(sessions: sessionmaker[Session], jobs: list[_Job]) -> None:
    """Run the jobs, each atomically, setting each job's result or error; raises if the batch as a whole fails."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine):  # bound to an outer transaction: each "commit" is a savepoint release
        for job in jobs:
            _run_alone(sessions, job)
        return
    name = bind.dialect.name
    if name == "sqlite" and bind.url.database not in (None, "", ":memory:"):
        with writer_queue(str(bind.url.database)).hold():
            _sqlite_batch(bind, sessions, jobs)
    elif name == "postgresql":
        _postgres_batch(bind, sessions, jobs)
    else:
        for job in jobs:
            _run_alone(sessions, job)


def _run_alone(sessions: sessionmaker[Session], job: _Job) -> None:
    try:
        with sessions() as session, session.begin():
            job.result = job.work(session)
    except Exception as exc:
        job.error = exc


def _sqlite_batch(engine: Engine, sessions: sessionmaker[Session], jobs: list[_Job]) -> None:
    with engine.connect() as conn:
        trans = conn.begin()
        dbapi = conn.connection.dbapi_connection
        session: Session | None = None
        try:
            if not dbapi.in_transaction:  # the driver begins lazily; begin now, as a writer
                dbapi.execute("BEGIN IMMEDIATE")
            for job in jobs:
                # One session for the batch (it joins the connection's transaction; closing it leaves the
                # transaction alone), one savepoint per read. A read that fails is rolled back to its savepoint
                # and its session dropped, so nothing it loaded or changed reaches the reads after it.
                session = session or sessions(bind=conn)
                dbapi.execute("SAVEPOINT ombud_read")
                try:
                    job.result = job.work(session)
                    session.flush()
                except Exception as exc:
                    job.error = exc
                    session.close()
                    session = None
                    dbapi.execute("ROLLBACK TO ombud_read")
                dbapi.execute("RELEASE ombud_read")
            if session is not None:
                session.close()
                session = None
            trans.commit()
        except BaseException:
            if session is not None:
                session.close()
            if trans.is_active:
                trans.rollback()
            raise


_read_engines: dict[str, Engine] = {}
_read_engines_lock = threading.Lock()


def read_engine(engine: Engine) -> Engine:
    """This path's own pool of connections to the same PostgreSQL database, committing asynchronously.

    ``synchronous_commit`` is off for these connections' whole sessions (set when each connects), which saves a
    statement per read over ``SET LOCAL``; no other code uses them, and every batch waits for durability before
    its answers leave (``wait_durable``).
    """
    url = engine.url.render_as_string(hide_password=False)
    with _read_engines_lock:
        found = _read_engines.get(url)
        if found is None:
            found = _read_engines[url] = make_engine(url, connect_args={"options": "-c synchronous_commit=off"})
        return found


def _postgres_batch(engine: Engine, sessions: sessionmaker[Session], jobs: list[_Job]) -> None:
    with read_engine(engine).connect() as conn:
        dbapi = conn.connection.dbapi_connection
        for job in jobs:
            trans = conn.begin()
            try:
                with sessions(bind=conn) as session:
                    job.result = job.work(session)
                    session.flush()
                trans.commit()
            except Exception as exc:
                job.error = exc
                if trans.is_active:
                    trans.rollback()
        if any(job.error is None for job in jobs):
            wait_durable(dbapi)


def wait_durable(dbapi: Any) -> None:
    """Return once everything this connection committed is on disk (PostgreSQL; see the module's notes).

    A synchronous commit flushes the WAL up to its own commit record, which comes after every commit already
    made; but PostgreSQL skips the flush for a transaction that wrote no WAL of its own, so this one writes a
    tiny logical-decoding message (``ombud.durable``, empty; harmless to replication and decoding). The four
    statements travel in one round trip.
    """
    with dbapi.pipeline():
        dbapi.execute("SET LOCAL synchronous_commit = on")
        dbapi.execute("SELECT pg_logical_emit_message(true, 'ombud.durable', '')")
        dbapi.commit()
