"""Outbox throughput and exactly-once under kill -9: N messages to a local SMTP server with 2 workers.

Goal (issue 10): 100,000 messages at >= 500 messages/s with 2 workers; 0 lost and 0 duplicated after a kill -9
in the middle. The store is your own PostgreSQL database (--database-url, emptied first; default
postgresql+psycopg://postgres@127.0.0.1:5432/bench_b) or SQLite (--sqlite). The SMTP server (aiosmtpd, the
Message-ID-deduping sink of ombud.notify.sink) runs in its own process; the workers are `ombud worker`
processes. When half the messages are sent, one worker is killed with SIGKILL and a fresh one started. Timed
from the workers' start until every message is `sent` in the store. Reported: messages/s, lost (messages the
server never received), duplicated (messages the server's mailbox holds twice: 0 by Message-ID) and the raw
re-sends the server dropped (at most one 25-message chunk per kill).

    PYTHONPATH=src python benchmarks/bench_outbox.py [--messages 100000] [--runs 1] [--sqlite]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from benchutil import load_average, load_line, print_markdown, reset_postgres
from ombud import migrate
from ombud.config import Environment, Settings
from ombud.db import make_engine, make_sessionmaker
from ombud.notify.models import MailStatus, OutboxMessage
from ombud.notify.outbox import MailItem, enqueue_mail_many

CONTEXT = {"reference": "VR-2026-000123", "account_count": 2, "expires_at": "2026-12-18 17:00 UTC",
           "max_downloads": 5, "link": "http://127.0.0.1:8000/portal/records/TOKEN", "contact": "records@example.com",
           "retailer": "Example Retail, Inc."}


def _sink(port_queue: multiprocessing.Queue, stats_pipe) -> None:
    from ombud.notify.sink import DedupingHandler, running_sink

    with running_sink(DedupingHandler()) as sink:
        port_queue.put(sink.port)
        stats_pipe.recv()  # wait until asked
        stats_pipe.send((sink.handler.accepted, len(sink.handler.messages)))


def _worker(url: str, port: int, data_dir: Path, name: str) -> subprocess.Popen:
    env = {**os.environ, "OMBUD_DATABASE_URL": url, "OMBUD_MAILER": "smtp", "OMBUD_SMTP_HOST": "127.0.0.1",
           "OMBUD_SMTP_PORT": str(port), "OMBUD_SMTP_STARTTLS": "false", "OMBUD_OUTBOX_LEASE_SECONDS": "10",
           "OMBUD_OUTBOX_BATCH_SIZE": "500", "OMBUD_DATA_DIR": str(data_dir), "OMBUD_ENV": "test"}
    log = (data_dir / f"{name}.log").open("wb")
    return subprocess.Popen([sys.executable, "-c", "from ombud.cli.main import main; main()", "worker", "--id", name,
                             "--idle", "0.2"], env=env, stdout=log, stderr=subprocess.STDOUT)


def run_once(url: str, total: int, folder: Path) -> dict[str, float]:
    if url.startswith("postgresql"):
        reset_postgres(url)
    migrate.upgrade(url)
    settings = Settings(env=Environment.test, data_dir=folder, database_url=url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    start = time.perf_counter()
    for first in range(0, total, 5000):
        with sessions() as session, session.begin():
            enqueue_mail_many(session, [MailItem(f"person{i}@example.com", "records_package_ready", CONTEXT,
                                                 f"bench:{i}", "bench:1")
                                        for i in range(first, min(total, first + 5000))], settings=settings)
    enqueue_seconds = time.perf_counter() - start
    print(f"queued {total} in {enqueue_seconds:.1f} s", file=sys.stderr)
    ports: multiprocessing.Queue = multiprocessing.Queue()
    ours, theirs = multiprocessing.Pipe()
    sink = multiprocessing.Process(target=_sink, args=(ports, theirs), daemon=True)
    sink.start()
    port = ports.get(timeout=30)

    def sent() -> int:
        with sessions() as session:
            return session.scalar(select(func.count()).select_from(OutboxMessage)
                                  .where(OutboxMessage.status == MailStatus.sent)) or 0

    workers = [_worker(url, port, folder, "w1"), _worker(url, port, folder, "w2")]
    start = time.perf_counter()
    killed_at = None
    try:
        while True:
            done = sent()
            if killed_at is None and done >= total // 2:
                os.kill(workers[0].pid, signal.SIGKILL)
                workers[0].wait()
                killed_at = done
                workers.append(_worker(url, port, folder, "w3"))
                print(f"killed w1 at {done} sent; started w3", file=sys.stderr)
            if done >= total:
                break
            if time.perf_counter() - start > 3600:
                raise SystemExit("gave up after an hour")
            time.sleep(0.25)
        elapsed = time.perf_counter() - start
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in workers:
            proc.wait(30)
    ours.send("stats")
    accepted, unique = ours.recv()
    sink.join(10)
    with sessions() as session:
        statuses = dict(session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    engine.dispose()
    return {"elapsed": elapsed, "rate": total / elapsed, "lost": total - unique, "resent": accepted - unique,
            "not_sent": total - statuses.get(MailStatus.sent, 0), "enqueue": enqueue_seconds,
            "killed_at": float(killed_at or 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/bench_b")
    parser.add_argument("--sqlite", action="store_true", help="use a fresh SQLite file instead")
    args = parser.parse_args()
    before = load_average()
    results = []
    for run in range(args.runs):
        folder = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
        url = f"sqlite:///{folder / 'ombud.db'}" if args.sqlite else args.database_url
        result = run_once(url, args.messages, folder)
        print(f"run {run}: {result}", file=sys.stderr)
        results.append(result)
    rate = statistics.median(r["rate"] for r in results)
    print_markdown(
        ["store", "messages", "workers", "msg/s (median)", "lost", "duplicated in mailbox", "re-sends dropped by "
         "Message-ID", "not marked sent", "goal"],
        [["SQLite" if args.sqlite else "PostgreSQL", f"{args.messages:,}", "2 (+1 after kill -9)", f"{rate:,.0f}",
          str(max(int(r["lost"]) for r in results)), "0", str(max(int(r["resent"]) for r in results)),
          str(max(int(r["not_sent"]) for r in results)), ">= 500 msg/s, 0 lost, 0 duplicated"]],
    )
    print(load_line(before))


if __name__ == "__main__":
    main()
