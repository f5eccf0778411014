"""Builds a scratch audit-log store of N events for the audit benchmarks (not a benchmark itself).

    .venv/bin/python benchmarks/audit_store.py --events 1000000 --out /tmp/ombud-bench/audit-1m.db
    .venv/bin/python benchmarks/audit_store.py --events 200000 --url postgresql+psycopg://.../ombud_bench
    .venv/bin/python benchmarks/audit_store.py --events 10000000 --bulk --out /tmp/ombud-bench/audit-10m.db

By default events go in through the ordinary batched append path (append_events, 5,000 per transaction) and
the tree through the ordinary integration; a checkpoint is signed every --checkpoint-every events.
--bulk (SQLite only) writes the same rows, leaf hashes and tree nodes directly with executemany and the
secondary indexes built afterwards: the store it makes is identical in form (and passes `ombud audit
verify`), only built faster. Idempotent: an existing store of at least N events is left as it is.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

from rich.progress import Progress
from sqlalchemy import text

from ombud import migrate
from ombud.audit import checkpoint as checkpoints
from ombud.audit import service, tree
from ombud.audit.events import AuditEvent
from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.db import transaction

BATCH = 5_000


def event(i: int) -> AuditEvent:
    """A realistic brokered read (references only), varied by i."""
    return AuditEvent(
        "access.read", "employee", f"E-{i % 997:05d}", customer_id=f"C-{(i * 7919) % 1_000_003:08d}",
        subject_type="case", subject_id=str(i % 50_021), fields=("email", "phone", "shipping_address")[: 1 + i % 3],
        purpose=f"case:{i % 50_021}", decision=("allow", "partial", "deny")[i % 3],
        detail={"grant": i % 301, "masked": ["card_fingerprint"]} if i % 4 == 0 else {},
    )


def _open(url: str, data_dir: Path) -> tuple[Context, int]:
    """A context on the migrated store, and how many events it already holds."""
    migrate.upgrade(url)
    ctx = Context(Settings(env=Environment.test, data_dir=data_dir, database_url=url))
    with transaction(ctx.sessions) as session:
        return ctx, service.log_size(session)


def build(url: str, events: int, checkpoint_every: int, data_dir: Path) -> Context:
    """Migrate the store and fill it to `events` events, checkpointed; returns a context on it."""
    ctx, have = _open(url, data_dir)
    if have >= events:
        return ctx
    started = time.perf_counter()
    with Progress() as progress:
        task = progress.add_task("appending", total=events, completed=have)
        done = have
        while done < events:
            n = min(BATCH, events - done)
            with transaction(ctx.sessions) as session:
                service.append_events(session, [event(i) for i in range(done, done + n)])
            done += n
            if done % checkpoint_every < BATCH or done == events:
                with transaction(ctx.sessions) as session:
                    tree.integrate(session)
                    checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
            progress.update(task, completed=done)
    print(f"built {events - have:,} events in {time.perf_counter() - started:.0f}s")
    if url.startswith("sqlite"):
        with ctx.engine.connect() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    return ctx


def bulk(url: str, events: int, checkpoint_every: int, data_dir: Path) -> Context:
    """The same store as `build`, written directly (SQLite): events, leaf hashes, nodes, heads, checkpoints."""
    import sqlite3

    from ombud.audit import merkle
    from ombud.audit.events import prepare
    from ombud.audit.service import sqlite_time
    from ombud.clock import now

    ctx, have = _open(url, data_dir)
    if have >= events:
        return ctx
    if have:
        raise SystemExit("--bulk builds a store from empty; this one already has events")
    templates = [prepare(event(i), now()) for i in range(4096)]
    db = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    indexes = db.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_event'"
                         " AND sql IS NOT NULL").fetchall()
    for (sql,) in indexes:
        db.execute("DROP INDEX " + sql.split()[2])
    frontier = merkle.Frontier()
    sha = hashlib.sha256
    started = time.perf_counter()
    with Progress() as progress:
        task = progress.add_task("bulk loading", total=events)
        done = 0
        while done < events:
            n = min(100_000, events - done)
            rows, nodes = [], []
            for i in range(done, done + n):
                p = templates[i % len(templates)]
                leaf = sha(b"\x00\x01" + i.to_bytes(8, "big") + p.tail).digest()
                rows.append((i, sqlite_time(p.at), p.action, p.actor_type, p.actor_id, p.customer_id,
                             p.subject_type, p.subject_id, p.fields_json, p.purpose, p.decision, p.detail_json, leaf))
                frontier.append(leaf, nodes)
            db.execute("BEGIN")
            db.executemany("INSERT INTO audit_event VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            db.executemany("INSERT INTO audit_node (level, idx, hash) VALUES (?, ?, ?)", nodes)
            db.execute("UPDATE audit_sequence SET next_index = ?", (done + n,))
            db.execute("UPDATE audit_tree SET size = ?, frontier = ?", (frontier.size, frontier.to_bytes()))
            db.execute("COMMIT")
            done += n
            progress.update(task, completed=done)
            if done % checkpoint_every == 0 or done == events:
                with transaction(ctx.sessions) as session:
                    checkpoints.create_checkpoint(session, ctx.keys, ctx.settings)
    for (sql,) in indexes:
        db.execute(sql)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    print(f"bulk-loaded {events:,} events in {time.perf_counter() - started:.0f}s")
    return ctx


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, help="SQLite file to build (outside the repository)")
    parser.add_argument("--url", help="or a database URL")
    parser.add_argument("--checkpoint-every", type=int, default=250_000)
    parser.add_argument("--bulk", action="store_true", help="write rows directly (SQLite only; much faster)")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{args.out.resolve()}"
    data_dir = (args.out.parent if args.out else Path("/tmp/ombud-bench")) / "keys-data"
    maker = bulk if args.bulk else build
    maker(url, args.events, args.checkpoint_every, data_dir).close()


if __name__ == "__main__":
    main()
