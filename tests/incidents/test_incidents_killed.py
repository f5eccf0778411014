"""Exactly once under kill -9: a send killed mid-transaction queues nothing; the rerun queues each notice once;
a worker killed mid-delivery and a second one after it deliver each customer one message (one Message-ID)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from accessutil import T0, employee
from incidentutil import build, open_for
from sqlalchemy import func, select

from ombud import migrate
from ombud.clock import FrozenClock, use_clock
from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.db import transaction
from ombud.errors import PolicyDenied
from ombud.incidents import notices, service
from ombud.incidents import scope as scoping
from ombud.incidents.models import Notice
from ombud.notify.models import OutboxMessage
from ombud.notify.sink import DedupingHandler, running_sink
from ombud.notify.worker import OutboxWorker
from ombud.staff.models import Employee, Role

pytestmark = pytest.mark.slow


def _env(data: Path, url: str, port: int) -> dict[str, str]:
    return {**os.environ, "OMBUD_ENV": "test", "OMBUD_DATA_DIR": str(data), "OMBUD_DATABASE_URL": url,
            "OMBUD_MAILER": "smtp", "OMBUD_SMTP_HOST": "127.0.0.1", "OMBUD_SMTP_PORT": str(port),
            "OMBUD_SMTP_STARTTLS": "false", "OMBUD_OUTBOX_LEASE_SECONDS": "1", "OMBUD_OUTBOX_BATCH_SIZE": "1",
            "OMBUD_AUDIT_CHECKPOINT_SCHEDULE": "false", "PYTHONPATH": os.pathsep.join(sys.path)}


def _counts(ctx: Context, incident_id: int) -> tuple[int, int]:
    with ctx.sessions() as session:
        return (session.scalar(select(func.count()).select_from(OutboxMessage)
                               .where(OutboxMessage.purpose == f"incident:{incident_id}")),
                session.scalar(select(func.count()).select_from(Notice).where(Notice.incident_id == incident_id)))


def test_notices_go_out_exactly_once_under_kill_9(tmp_path):
    url = f"sqlite:///{tmp_path / 'ombud.db'}"
    data = tmp_path / "data"
    migrate.upgrade(url)
    ctx = Context(Settings(env=Environment.test, data_dir=data, database_url=url, audit_checkpoint_schedule=False))
    with use_clock(FrozenClock(T0)) as clock:
        with transaction(ctx.sessions) as session:
            s = build(session, clock)
            incident = open_for(session, s, clock)
            incident.what_happened, incident.what_we_are_doing = "An employee sold details.", "We cut access."
            officer = employee(session, Role.privacy_officer)
            incident_id, officer_id, officer_ref = incident.id, officer.id, officer.external_id
        scoping.scope_incident(ctx, incident_id, None)
        with transaction(ctx.sessions) as session:
            notices.approve(session, service.get_incident(session, incident_id), session.get(Employee, officer_id),
                            ctx.settings)
    handler = DedupingHandler()
    with running_sink(handler) as sink:
        env = _env(data, url, sink.port)
        # 1. Killed inside the sending transaction, after every notice and email was written: nothing stays.
        script = textwrap.dedent(f"""
            import os, signal
            from ombud.context import Context
            from ombud.db import transaction
            from ombud.incidents import notices, service
            from ombud.access.service import find_employee
            ctx = Context()
            with transaction(ctx.sessions) as session:
                notices.send(session, service.get_incident(session, {incident_id}),
                             find_employee(session, {officer_ref!r}), ctx.settings)
                session.flush()
                os.kill(os.getpid(), signal.SIGKILL)
        """)
        killed = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=120)
        assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
        assert _counts(ctx, incident_id) == (0, 0)
        # 2. The rerun queues each notice once; a repeat queues nothing more.
        for attempt in range(2):
            try:
                with transaction(ctx.sessions) as session:
                    notices.send(session, service.get_incident(session, incident_id),
                                 session.get(Employee, officer_id), ctx.settings)
            except PolicyDenied:
                assert attempt == 1  # sent already: the incident is no longer approved
            assert _counts(ctx, incident_id) == (4, 4)
        # 3. A worker killed after its first delivery, then another: each customer gets one distinct message.
        ombud = [sys.executable, "-c", "from ombud.cli.main import main; main()"]
        worker = subprocess.Popen([*ombud, "worker", "--idle", "0.05"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while handler.accepted < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        assert handler.accepted >= 1
        time.sleep(1.2)  # the killed worker's lease lapses
        settings = ctx.settings.model_copy(update={"mailer": "smtp", "smtp_port": sink.port, "smtp_starttls": False,
                                                   "outbox_lease_seconds": 1.0})
        OutboxWorker(settings, ctx.sessions).drain()
    recipients = sorted(m["To"] for m in handler.parsed())
    assert len(recipients) == len(set(recipients)) == 4
    with ctx.sessions() as session:
        states = session.scalars(select(OutboxMessage.status).where(OutboxMessage.purpose == f"incident:{incident_id}"))
        assert {s.value for s in states} == {"sent"}
    ctx.close()
