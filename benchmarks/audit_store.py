"""Builds a scratch audit-log store of N events for the audit benchmarks (not a benchmark itself).

    .venv/bin/python benchmarks/audit_store.py --events 1000000 --out /tmp/ombud-bench/audit-1m.db
    .venv/bin/python benchmarks/audit_store.py --events 200000 --url postgresql+psycopg://.../ombud_bench

Events go in through the ordinary batched append path (append_events, 5,000 per transaction) and the tree
through the ordinary integration; a checkpoint is signed every --checkpoint-every events. Idempotent: an
existing store of at least N events is left as it is.
"""

from __future__ import annotations

import argparse
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


def build(url: str, events: int, checkpoint_every: int, data_dir: Path) -> Context:
    """Migrate the store and fill it to `events` events, checkpointed; returns a context on it."""
    migrate.upgrade(url)
    ctx = Context(Settings(env=Environment.test, data_dir=data_dir, database_url=url))
    with transaction(ctx.sessions) as session:
        have = service.log_size(session)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, help="SQLite file to build (outside the repository)")
    parser.add_argument("--url", help="or a database URL")
    parser.add_argument("--checkpoint-every", type=int, default=250_000)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{args.out.resolve()}"
    data_dir = (args.out.parent if args.out else Path("/tmp/ombud-bench")) / "keys-data"
    build(url, args.events, args.checkpoint_every, data_dir).close()


if __name__ == "__main__":
    main()
