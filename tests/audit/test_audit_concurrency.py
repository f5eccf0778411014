"""Several writers, each on its own connection, committing at once: one gapless sequence, one tree.

These tests commit for real (the other tests run inside a rolled-back transaction), so they empty the audit
tables before and after themselves.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import random
import threading
from datetime import timedelta
from pathlib import Path
from queue import Empty

import pytest
from auditutil import empty_log
from sqlalchemy import text

from ombud.audit import checkpoint as checkpoints
from ombud.audit import service
from ombud.audit.events import AuditEvent
from ombud.audit.verify import verify_log
from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.db import make_engine, make_sessionmaker, transaction


def _reset(engine):
    with engine.begin() as conn:
        empty_log(conn)


@pytest.fixture
def committed(engine, database_url, tmp_path):
    """A context whose sessions commit for real, on the test store; the audit tables emptied around the test."""
    _reset(engine)
    ctx = Context(Settings(env=Environment.test, data_dir=tmp_path / "data", database_url=database_url))
    ctx.__dict__["engine"] = engine
    ctx.__dict__["sessions"] = make_sessionmaker(engine)
    try:
        yield ctx
    finally:
        _reset(engine)


class _Crash(Exception):
    """A unit of work that dies after appending, before committing."""


def _writer(ctx, worker, transactions, committed, seed):
    rng = random.Random(seed)
    for n in range(transactions):
        count = rng.randint(1, 3)
        events = [AuditEvent("access.read", "employee", f"E-{worker}", customer_id=f"C-{n}") for _ in range(count)]
        crash = rng.random() < 0.2
        try:
            with transaction(ctx.sessions) as session:
                indexes = service.append_events(session, events)
                if crash:
                    raise _Crash
            committed.extend(indexes)
        except _Crash:
            pass


def _check(ctx, committed, min_checkpoints=2):
    with transaction(ctx.sessions) as session:
        checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
        stored = [r[0] for r in session.execute(text("SELECT idx FROM audit_event ORDER BY idx"))]
        assert stored == sorted(committed) == list(range(len(committed)))
        assert service.log_size(session) == len(committed)
        report = verify_log(session, [checkpoints.verifier(ctx.keys, ctx.settings)], ctx.settings.audit_origin)
        assert report.ok, report.problems
        assert report.events == len(committed) and report.checkpoints >= min_checkpoints
        return report


def test_threads_appending_and_checkpointing_at_once_keep_one_sequence(committed):
    ctx = committed
    indexes: list[int] = []
    lock = threading.Lock()

    class Sink(list):
        def extend(self, values):
            with lock:
                indexes.extend(values)

    stop = threading.Event()

    def checkpointer():
        while not stop.is_set():
            with transaction(ctx.sessions) as session:
                checkpoints.maybe_checkpoint(session, ctx.keys, ctx.settings, interval=timedelta(0))
            stop.wait(0.01)

    workers = [threading.Thread(target=_writer, args=(ctx, w, 25, Sink(), w)) for w in range(6)]
    signer = threading.Thread(target=checkpointer)
    signer.start()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    stop.set()
    signer.join()
    _check(ctx, indexes)


def _process_worker(url: str, data_dir: str, worker: int, queue) -> None:
    engine = make_engine(url)
    ctx = Context(Settings(env=Environment.test, data_dir=Path(data_dir), database_url=url))
    ctx.__dict__["engine"] = engine
    ctx.__dict__["sessions"] = make_sessionmaker(engine)
    done: list[int] = []
    _writer(ctx, worker, 30, done, 1000 + worker)
    engine.dispose()
    queue.put(done)


@pytest.mark.postgres_only
def test_processes_like_api_workers_keep_one_sequence_and_one_tree(postgres_only, committed, database_url, tmp_path):
    ctx = committed
    mp = multiprocessing.get_context("fork")  # each child opens its own engine and connections
    queue = mp.Queue()
    procs = [mp.Process(target=_process_worker, args=(database_url, str(tmp_path), w, queue)) for w in range(3)]
    for p in procs:
        p.start()
    results: list[list[int]] = []
    while len(results) < len(procs):
        # Checkpoint while the workers append (how often it lands in between depends on the scheduler).
        with transaction(ctx.sessions) as session:
            checkpoints.maybe_checkpoint(session, ctx.keys, ctx.settings, interval=timedelta(0))
        with contextlib.suppress(Empty):
            results.append(queue.get(timeout=0.05))
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    indexes = [i for done in results for i in done]
    assert len(set(indexes)) == len(indexes)
    _check(ctx, indexes, min_checkpoints=1)


def test_a_connection_lost_mid_append_loses_nothing_committed(committed):
    ctx = committed
    with transaction(ctx.sessions) as session:
        service.append_events(session, [AuditEvent("staff.sign_in")] * 3)
    conn = ctx.engine.connect()
    session = make_sessionmaker(conn)()
    session.begin()
    assert service.append_event(session, AuditEvent("access.read")) == 3
    conn.invalidate()  # the worker dies: its connection closes without a commit
    conn.close()
    with transaction(ctx.sessions) as session:
        assert service.log_size(session) == 3
        assert service.append_event(session, AuditEvent("access.read")) == 3
    _check(ctx, [0, 1, 2, 3], min_checkpoints=1)
