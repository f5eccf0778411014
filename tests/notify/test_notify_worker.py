"""The worker against a real SMTP server on 127.0.0.1: sends, retries with backoff, dead letters, STARTTLS + AUTH,
the file mailer, and exactly-once delivery (by Message-ID) under two workers at once and a kill -9."""

from __future__ import annotations

import datetime as dt
import email
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr
from sqlalchemy import func, select

from ombud import clock
from ombud.notify import templates
from ombud.notify.mailer import FileMailer
from ombud.notify.models import MailStatus, OutboxMessage
from ombud.notify.outbox import MailItem, enqueue_mail, enqueue_mail_many, retry_message
from ombud.notify.sink import DedupingHandler, running_sink
from ombud.notify.worker import SEND_CHUNK, OutboxWorker

SAMPLE = templates.sample_context("records_package_ready")


def _queue(session, n: int, prefix: str = "m", settings=None) -> None:
    items = [MailItem(f"person{i}@example.com", "records_package_ready", SAMPLE, f"{prefix}:{i}", "test:1")
             for i in range(n)]
    enqueue_mail_many(session, items, settings=settings)


def test_worker_sends_each_message_with_its_stable_message_id(session, sessions, smtp_settings, sink):
    message = enqueue_mail(session, to="Jordan Example <victim@example.com>", template="records_package_ready",
                           context=SAMPLE, dedupe_key="one", purpose="victim_request:VR-1")
    session.commit()
    stats = OutboxWorker(smtp_settings, sessions).drain()
    assert stats.sent == 1
    session.refresh(message)
    assert message.status is MailStatus.sent and message.sent_at is not None and message.attempts == 1
    [received] = sink.handler.parsed()
    assert received["Message-ID"] == message.message_id
    assert received["To"] == "Jordan Example <victim@example.com>"
    assert received.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in received.get_payload()] == ["text/plain", "text/html"]


def test_temporary_refusals_are_retried_with_backoff(session, sessions, smtp_settings, sink):
    sink.handler.failures_left = 2
    message = enqueue_mail(session, to="v@example.com", template="records_package_ready", context=SAMPLE,
                           dedupe_key="retry", purpose="p")
    session.commit()
    frozen = clock.FrozenClock(clock.now())
    with clock.use_clock(frozen):
        worker = OutboxWorker(smtp_settings, sessions)
        assert worker.run_once().retried == 1
        session.refresh(message)
        assert message.status is MailStatus.pending and "451" in message.last_error
        first_wait = message.next_attempt_at - frozen.current
        assert timedelta(seconds=0.5) <= first_wait <= timedelta(seconds=1)
        assert worker.run_once().claimed == 0  # not due yet
        frozen.advance(timedelta(seconds=1))
        assert worker.run_once().retried == 1
        session.refresh(message)
        assert message.next_attempt_at - frozen.current >= timedelta(seconds=1)  # doubled
        frozen.advance(timedelta(seconds=2))
        assert worker.run_once().sent == 1
    session.refresh(message)
    assert message.status is MailStatus.sent and message.attempts == 3
    assert sink.handler.accepted == 1


def test_permanent_refusal_goes_to_dead_letters_and_retry_sends_it(session, sessions, smtp_settings, sink):
    sink.handler.refuse = frozenset({"gone@example.com"})
    message = enqueue_mail(session, to="gone@example.com", template="records_package_ready", context=SAMPLE,
                           dedupe_key="dead", purpose="p")
    session.commit()
    worker = OutboxWorker(smtp_settings, sessions)
    assert worker.drain().dead == 1
    session.refresh(message)
    assert message.status is MailStatus.dead and "550" in message.last_error
    sink.handler.refuse = frozenset()
    retry_message(session, message.id, actor="tester")
    session.commit()
    assert worker.drain().sent == 1
    session.refresh(message)
    assert message.status is MailStatus.sent


def test_attempts_run_out_into_dead_letters(session, sessions, smtp_settings):
    unreachable = smtp_settings.model_copy(update={"smtp_port": 9, "smtp_timeout_seconds": 0.5})  # discard port
    message = enqueue_mail(session, to="v@example.com", template="records_package_ready", context=SAMPLE,
                           dedupe_key="unreach", purpose="p")
    session.commit()
    frozen = clock.FrozenClock(clock.now())
    with clock.use_clock(frozen):
        worker = OutboxWorker(unreachable, sessions)
        for _ in range(3):
            worker.run_once()
            frozen.advance(timedelta(hours=1))
    session.refresh(message)
    assert message.status is MailStatus.dead and message.attempts == 3
    assert message.last_error.startswith("connection failed")


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_starttls_and_login(session, sessions, settings, tmp_path):
    import ssl

    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    with running_sink(DedupingHandler(), tls_context=server_tls, credentials=("ombud", "s3cret-pass")) as server:
        tls = settings.model_copy(update={
            "mailer": "smtp", "smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_starttls": True,
            "smtp_ca_file": cert, "smtp_username": "ombud", "smtp_password": SecretStr("s3cret-pass"),
        })
        enqueue_mail(session, to="v@example.com", template="records_package_ready", context=SAMPLE,
                     dedupe_key="tls", purpose="p", settings=tls)
        session.commit()
        assert OutboxWorker(tls, sessions).drain().sent == 1
        assert len(server.handler.messages) == 1
        # A wrong password is not a delivery: the message waits for a later attempt.
        wrong = tls.model_copy(update={"smtp_password": SecretStr("wrong-password")})
        enqueue_mail(session, to="v@example.com", template="records_package_ready", context=SAMPLE,
                     dedupe_key="tls2", purpose="p", settings=tls)
        session.commit()
        stats = OutboxWorker(wrong, sessions).run_once()
        assert stats.sent == 0 and stats.claimed == 1
        assert len(server.handler.messages) == 1


def test_file_mailer_writes_one_eml_per_message(session, sessions, settings):
    enqueue_mail(session, to="v@example.com", template="records_package_ready", context=SAMPLE,
                 dedupe_key="file", purpose="p", settings=settings)
    session.commit()
    worker = OutboxWorker(settings, sessions)
    assert isinstance(worker.mailer, FileMailer)
    assert worker.drain().sent == 1
    files = list((settings.data_dir / "mail").glob("*.eml"))
    assert len(files) == 1
    parsed = email.message_from_bytes(files[0].read_bytes())
    assert "VR-2026-000123" in parsed["Subject"]


def _statuses(factory) -> dict[str, int]:
    with factory() as s:
        return {str(k): v for k, v in s.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))}


def test_two_workers_at_once_send_each_message_once(committed, smtp_settings, sink):
    with committed() as session, session.begin():
        _queue(session, 300, "two", smtp_settings)
    import threading

    small = smtp_settings.model_copy(update={"outbox_batch_size": 25})
    workers = [OutboxWorker(small, committed, worker_id=f"w{i}") for i in range(2)]
    threads = [threading.Thread(target=w.drain) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert _statuses(committed) == {"sent": 300}
    assert len(sink.handler.messages) == 300
    assert sink.handler.duplicates == 0  # no crash: no message was even sent twice


def _spawn_worker(database_url: str, port: int, data_dir: Path, name: str) -> subprocess.Popen:
    env = {**os.environ, "OMBUD_DATABASE_URL": database_url, "OMBUD_MAILER": "smtp", "OMBUD_SMTP_HOST": "127.0.0.1",
           "OMBUD_SMTP_PORT": str(port), "OMBUD_SMTP_STARTTLS": "false", "OMBUD_OUTBOX_LEASE_SECONDS": "5",
           "OMBUD_OUTBOX_BATCH_SIZE": "100", "OMBUD_DATA_DIR": str(data_dir), "OMBUD_ENV": "test",
           "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    log = (data_dir / f"{name}.log").open("wb")  # a file, not a pipe: a full pipe would block the worker
    return subprocess.Popen([sys.executable, "-c", "from ombud.cli.main import main; main()", "worker", "--id", name,
                             "--idle", "0.1"], env=env, stdout=log, stderr=subprocess.STDOUT)


def _logs(data_dir: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in sorted(data_dir.glob("*.log")))


def _wait(predicate, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_kill_9_mid_batch_loses_nothing_and_the_server_keeps_each_once(committed, database_url, sink, settings):
    total = 1000
    with committed() as session, session.begin():
        _queue(session, total, "kill", settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    first = _spawn_worker(database_url, sink.port, settings.data_dir, "victim-of-kill")
    try:
        assert _wait(lambda: sink.handler.accepted >= 250, 120), "the worker never got going\n" + _logs(
            settings.data_dir)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        at_kill = dict(_statuses(committed))
        assert at_kill.get("sent", 0) < total  # killed mid-run
        survivors = [_spawn_worker(database_url, sink.port, settings.data_dir, f"after-{i}") for i in range(2)]
        try:
            assert _wait(lambda: _statuses(committed) == {"sent": total}, 180), (
                f"{_statuses(committed)}\n{_logs(settings.data_dir)}")
        finally:
            for proc in survivors:
                proc.send_signal(signal.SIGTERM)
            for proc in survivors:
                proc.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert len(sink.handler.messages) == total  # every message delivered, kept once by Message-ID
    # Only the chunk in flight at the kill can have gone twice (sent, then killed before it was recorded).
    assert sink.handler.duplicates <= SEND_CHUNK
