"""The read endpoint's transactions on a store that commits for real (a scratch SQLite file or PostgreSQL database):
committed before the answer, batched, each read atomic, one leaf per decision, gapless, never stale."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from accessutil import case, customer, employee
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from ombud import migrate
from ombud.access import broker, grants, hotpath
from ombud.access import events as access_events
from ombud.access.classes import DataClass
from ombud.access.models import GrantKind
from ombud.app import create_app
from ombud.audit.models import AuditEntry
from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.db import transaction
from ombud.staff import service as staff_service
from ombud.staff.models import Employee, Role


@pytest.fixture(scope="module")
def store_url(database_url, tmp_path_factory):
    """A scratch store of this module's own: these tests commit, and must not touch the suite's shared store."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        scratch = f"sqlite:///{tmp_path_factory.mktemp('hotpath') / 'ombud.db'}"
        migrate.upgrade(scratch)
        yield scratch
        return
    name = f"{url.database}_hotpath"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    scratch = url.set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(scratch)
    try:
        yield scratch
    finally:
        for engine in list(hotpath._read_engines.values()):
            engine.dispose()
        hotpath._read_engines.clear()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def real(store_url, tmp_path):
    """A context whose sessions commit for real (on the scratch store)."""
    ctx = Context(Settings(env=Environment.test, data_dir=tmp_path / "data", database_url=store_url,
                           audit_checkpoint_schedule=False))
    yield ctx
    ctx.close()


def _setup(ctx, *, readers=1, role=Role.agent):
    """Agents, each with a customer, an open support ticket about them and an API token (committed)."""
    with transaction(ctx.sessions) as session:
        out = []
        for _ in range(readers):
            agent, acct = employee(session, role), customer(session)
            c = case(session, acct, agent)
            token = staff_service.create_api_token(session, agent, name="tool").token
            out.append((agent.id, acct.external_id, c.id, token))
        return out


def _post(client, token, customer_id, purpose, fields=("email",)):
    return client.post("/api/access/read", headers={"authorization": f"Bearer {token}"},
                       json={"customer_id": customer_id, "fields": list(fields), "purpose": purpose})


def _counts(ctx):
    with ctx.sessions() as session:
        decisions = session.scalar(select(func.count()).select_from(access_events.VIEW))
        leaves = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "access.read"))
        events = session.scalar(select(func.count()).select_from(AuditEntry))
        top = session.scalar(select(func.max(AuditEntry.idx)))
    return decisions, leaves, events, top


def test_a_read_and_a_refusal_are_committed_before_the_answer(real):
    [(_agent, cust, case_id, token)] = _setup(real)
    before = _counts(real)
    with TestClient(create_app(ctx=real)) as client:
        allowed = _post(client, token, cust, f"case:{case_id}")
        refused = _post(client, token, cust, None)
    assert allowed.status_code == 200 and refused.status_code == 403
    # A new session, a new connection: both reads are in the store, each with its one leaf.
    with real.sessions() as session:
        for response, decision in ((allowed, "allow"), (refused, "deny")):
            index = response.json()["audit_index"]
            leaf = session.get(AuditEntry, index)
            assert leaf.action == "access.read" and leaf.decision == decision and leaf.customer_id == cust
            event = access_events.get(session, index)
            assert event is not None and event.customer_id == cust
            assert event.decision.value == response.json()["decision"]
    decisions, leaves, events, top = _counts(real)
    assert (decisions - before[0], leaves - before[1]) == (2, 2) and top + 1 == events


def test_a_closed_case_a_revoked_grant_or_token_refuse_the_very_next_read(real):
    [(agent_id, cust, case_id, token)] = _setup(real)
    with transaction(real.sessions) as session:
        officer = employee(session, Role.privacy_officer)
        officer_token = staff_service.create_api_token(session, officer, name="tool").token
        agent = session.get(Employee, agent_id)
        grant = grants.request_grant(session, requester=agent, kind=GrantKind.just_in_time, customer_id=cust,
                                     data_class=DataClass.payment,
                                     justification="customer disputes a charge on this card", duration_minutes=30)
        grants.approve(session, grant, approver=officer)
        grant_id = grant.id
    with TestClient(create_app(ctx=real)) as client:
        officer_calls = {"authorization": f"Bearer {officer_token}"}
        assert _post(client, token, cust, f"case:{case_id}").status_code == 200
        assert client.post(f"/api/access/cases/{case_id}/close", json={"reason": "done"},
                           headers=officer_calls).status_code == 200
        refused = _post(client, token, cust, f"case:{case_id}")
        assert refused.status_code == 403 and "closed" in refused.json()["detail"]

        assert _post(client, token, cust, f"grant:{grant_id}", ["payment_methods"]).status_code == 200
        assert client.post(f"/api/access/grants/{grant_id}/revoke", json={"reason": "no longer needed"},
                           headers=officer_calls).status_code == 200
        assert _post(client, token, cust, f"grant:{grant_id}", ["payment_methods"]).status_code == 403

        with transaction(real.sessions) as session:
            prefix = token.removeprefix(staff_service.TOKEN_PREFIX).split("_", 1)[0]
            staff_service.revoke_api_token(session, prefix)
        assert _post(client, token, cust, f"grant:{grant_id}").status_code == 401


def test_concurrent_clients_each_get_one_leaf_and_the_log_stays_gapless(real):
    readers = _setup(real, readers=6)
    before = _counts(real)
    app = create_app(ctx=real)
    statuses: list[int] = []
    lock = threading.Lock()

    def client_loop(reader):
        _agent, cust, case_id, token = reader
        with TestClient(app) as client:
            for n in range(15):
                purpose = f"case:{case_id}" if n % 5 else None  # every fifth read is refused, and recorded too
                status = _post(client, token, cust, purpose).status_code
                with lock:
                    statuses.append(status)

    with ThreadPoolExecutor(len(readers)) as pool:
        list(pool.map(client_loop, readers))
    assert sorted(set(statuses)) == [200, 403] and len(statuses) == 90
    decisions, leaves, events, top = _counts(real)
    assert decisions - before[0] == leaves - before[1] == 90
    assert top + 1 == events


def test_reads_in_one_batch_are_each_atomic(real):
    """A read that fails half-way leaves nothing behind; the reads batched with it are committed."""
    [(agent_id, cust, case_id, _token)] = _setup(real)
    before = _counts(real)

    def good(session):
        return broker.read(session, session.get(Employee, agent_id), customer_id=cust, fields=["email"],
                           purpose=f"case:{case_id}").audit_index

    def bad(session):
        good(session)  # writes its count, leaf and decision row...
        raise RuntimeError("the client went away")  # ...and then fails

    jobs = [hotpath._Job(work, None) for work in (good, bad, good)]
    hotpath.run_batch(real.sessions, jobs)
    assert isinstance(jobs[1].error, RuntimeError)
    first, third = jobs[0].result, jobs[2].result
    assert third == first + 1  # the failed read's index was given back: no gap
    decisions, leaves, events, top = _counts(real)
    assert (decisions - before[0], leaves - before[1]) == (2, 2) and top + 1 == events


def test_reads_that_arrive_together_share_one_batch(real, monkeypatch):
    [(agent_id, cust, case_id, _token)] = _setup(real)
    sizes: list[int] = []
    original = hotpath.run_batch

    def counting(sessions, jobs):
        sizes.append(len(jobs))
        return original(sessions, jobs)

    monkeypatch.setattr(hotpath, "run_batch", counting)

    def work(session):
        return broker.read(session, session.get(Employee, agent_id), customer_id=cust, fields=["email"],
                           purpose=f"case:{case_id}").audit_index

    async def together():
        return await asyncio.gather(*(hotpath.run_async(real.sessions, work) for _ in range(10)))

    indexes = asyncio.run(together())
    assert sizes == [10] and len(set(indexes)) == 10
    assert sorted(indexes) == list(range(min(indexes), min(indexes) + 10))


def test_writer_queue_admits_one_writer_at_a_time_across_processes(tmp_path):
    """Two queues on one file behave like two worker processes: the second waits for the first."""
    first, second = hotpath.WriterQueue(tmp_path / "w.lock"), hotpath.WriterQueue(tmp_path / "w.lock")
    order: list[str] = []
    holding = threading.Event()

    def other():
        holding.wait()
        with second.hold():
            order.append("second")

    thread = threading.Thread(target=other)
    thread.start()
    with first.hold():
        holding.set()
        time.sleep(0.2)
        order.append("first")
    thread.join(5)
    assert order == ["first", "second"]


def test_postgres_commits_asynchronously_and_answers_only_once_durable(real, monkeypatch):
    if real.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's commit modes")
    [(agent_id, cust, case_id, _token)] = _setup(real)
    seen: dict[str, object] = {}
    original = hotpath.wait_durable

    def observed(dbapi):
        # At this point the read has committed: another connection sees it...
        with real.engine.connect() as other:
            seen["visible"] = other.execute(text("SELECT count(*) FROM access_read_event WHERE audit_index = :i"),
                                            {"i": seen["index"]}).scalar()
        cursor = dbapi.cursor()
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        written = cursor.fetchone()[0]
        dbapi.rollback()
        original(dbapi)
        # ...and once the wait returns, the WAL is on disk at least up to where it was written then.
        cursor.execute("SELECT pg_current_wal_flush_lsn() >= %s::pg_lsn", (written,))
        seen["durable"] = cursor.fetchone()[0]
        dbapi.rollback()

    monkeypatch.setattr(hotpath, "wait_durable", observed)

    def work(session):
        seen["mode"] = session.execute(text("SHOW synchronous_commit")).scalar()
        seen["index"] = broker.read(session, session.get(Employee, agent_id), customer_id=cust, fields=["email"],
                                    purpose=f"case:{case_id}").audit_index
        return seen["index"]

    hotpath.run(real.sessions, work)
    assert seen["mode"] == "off" and seen["visible"] == 1 and seen["durable"] is True
    # Every other connection keeps the server's default.
    with real.sessions() as session:
        assert session.execute(text("SHOW synchronous_commit")).scalar() == "on"


def test_sqlite_reads_begin_as_writers(real, monkeypatch):
    if real.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's transaction modes")
    [(agent_id, cust, case_id, _token)] = _setup(real)
    seen = {}

    def work(session):
        dbapi = session.connection().connection.dbapi_connection
        seen["in_transaction"] = dbapi.in_transaction
        # A writer already holds the write lock: another connection cannot begin writing meanwhile.
        other = real.engine.raw_connection()
        try:
            other.driver_connection.execute("PRAGMA busy_timeout = 0")
            with pytest.raises(Exception, match="locked"):
                other.driver_connection.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
        return broker.read(session, session.get(Employee, agent_id), customer_id=cust, fields=["email"],
                           purpose=f"case:{case_id}")

    assert hotpath.run(real.sessions, work).decision.value == "allowed"
    assert seen["in_transaction"] is True


def test_expired_token_departed_employee_and_unknown_token_are_refused(real):
    [(agent_id, cust, case_id, token)] = _setup(real)
    with transaction(real.sessions) as session:
        agent = session.get(Employee, agent_id)
        short = staff_service.create_api_token(session, agent, name="short", valid_for=timedelta(seconds=1)).token
    time.sleep(1.1)
    with TestClient(create_app(ctx=real)) as client:
        assert _post(client, short, cust, f"case:{case_id}").status_code == 401
        assert _post(client, "omb_deadbeef_nothing", cust, f"case:{case_id}").status_code == 401
        assert _post(client, token, cust, f"case:{case_id}").status_code == 200
        with transaction(real.sessions) as session:
            staff_service.deactivate_employee(session, session.get(Employee, agent_id), actor=None)
        assert _post(client, token, cust, f"case:{case_id}").status_code == 401
