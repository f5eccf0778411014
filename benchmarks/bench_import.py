"""Import throughput: synthesise a retailer, import it into a fresh store, then import it again (all unchanged).

    .venv/bin/python benchmarks/bench_import.py --accounts 100000 --runs 3
    .venv/bin/python benchmarks/bench_import.py --accounts 1000000 --runs 1 --db sqlite
    .venv/bin/python benchmarks/bench_import.py --accounts 1000000 --runs 1 --db sqlite --identity
    .venv/bin/python benchmarks/bench_import.py --db postgresql --pg-url postgresql+psycopg://postgres@127.0.0.1/ombud_bench

The synthetic files are written once per (accounts, seed) under --work and reused. Each run starts from an empty
store (a new SQLite file; PostgreSQL: the schema dropped and migrated again). Printed per kind: rows, median
seconds and rows/s of the first import, and the CPU time of this process (on a busy shared machine the wall
time mostly measures waiting; on SQLite the CPU time is close to what an idle machine takes, on PostgreSQL
the server's own work is not in it); then the totals of the first import and of the re-import.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchutil import reset_postgres
from ombud import migrate
from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.identity import index as identity_index
from ombud.retail.importer import import_directory

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/ombud_bench_import"


def synthesise(work: Path, accounts: int, seed: int) -> tuple[Path, float | None]:
    """The synthetic retailer's folder, written now (with its time) or reused from an earlier run (None)."""
    from ombud.synth import generate

    out = work / f"synth-{accounts}-seed{seed}"
    if (out / "accounts.csv").exists():
        return out, None
    started = time.perf_counter()
    generate(out, accounts, seed, overwrite=True, workers=min(2, os.cpu_count() or 1))
    return out, time.perf_counter() - started


def fresh_store(db: str, pg_url: str, scratch: Path) -> str:
    """The URL of an empty, migrated store."""
    if db == "sqlite":
        path = scratch / "ombud.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        url = pg_url
        reset_postgres(url)
    migrate.upgrade(url)
    return url


def one_run(db: str, pg_url: str, scratch: Path, data: Path, batch_size: int | None, again: bool,
            identity: bool):
    url = fresh_store(db, pg_url, scratch)
    ctx = Context(Settings(env=Environment.test, data_dir=scratch / "data", database_url=url))
    # With --identity, each batch also updates the identity index in its transaction, as `ombud import` does.
    on_batch = [identity_index.import_callback(ctx.keys)] if identity else []
    try:
        first = import_directory(ctx, data, batch_size=batch_size, on_batch=on_batch)
        second = import_directory(ctx, data, batch_size=batch_size, on_batch=on_batch) if again else None
    finally:
        ctx.close()
    assert first.ok, f"{first.rejected} rows rejected: {first.errors[:3]}"
    if second is not None:
        assert second.read == sum(k.unchanged for k in second.kinds), "the re-import changed rows"
    return first, second


def compare_validation(data: Path, rows: int) -> None:
    """Checking orders: a Pydantic model per row against the vectorised checks the import uses."""
    from datetime import date
    from decimal import Decimal
    from typing import Annotated, Literal

    import polars as pl
    from pydantic import AfterValidator, AwareDatetime, BaseModel, StringConstraints, TypeAdapter

    from ombud.retail.format import ORDERS
    from ombud.retail.validate import LINE, check, normalise

    Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:\-]{1,64}$")]

    def two_places(value: Decimal) -> Decimal:
        if value.as_tuple().exponent < -2 or value < 0:
            raise ValueError("money")
        return value

    class OrderRow(BaseModel):
        order_id: Id
        account_id: Id
        placed_at: AwareDatetime
        status: Literal["pending", "paid", "shipped", "delivered", "cancelled", "returned"]
        currency: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")] = "USD"
        total: Annotated[Decimal, AfterValidator(two_places)]
        payment_method_id: Id | None = None
        ship_to_address_id: Id | None = None
        billing_address_id: Id | None = None
        ip: str | None = None
        device: str | None = None

    frame = pl.read_csv(data / "orders.csv", infer_schema=False, n_rows=rows)
    dicts = [{k: v for k, v in row.items() if v not in (None, "")} for row in frame.iter_rows(named=True)]
    adapter = TypeAdapter(list[OrderRow])
    started = time.perf_counter()
    adapter.validate_python(dicts)
    pydantic_us = (time.perf_counter() - started) / len(dicts) * 1e6
    started = time.perf_counter()
    check(ORDERS, normalise(ORDERS, frame.with_row_index(LINE)), today=date(2026, 1, 1))
    polars_us = (time.perf_counter() - started) / len(dicts) * 1e6
    print(f"checking {len(dicts):,} orders: pydantic per row {pydantic_us:.1f} us/row, "
          f"vectorised (polars) {polars_us:.1f} us/row")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, nargs="+", default=[100_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="A PostgreSQL database of its own (never `test`).")
    parser.add_argument("--batch-size", type=int, default=None, help="Rows per transaction (default: setting).")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "ombud-bench-import")
    parser.add_argument("--identity", action="store_true",
                        help="Keep the identity index up to date batch by batch, as `ombud import` does.")
    parser.add_argument("--no-reimport", action="store_true", help="Skip the second, unchanged import.")
    parser.add_argument("--compare-validation", type=int, default=0, metavar="ROWS",
                        help="Also time checking ROWS orders with a Pydantic model per row, for comparison.")
    args = parser.parse_args()
    dbs = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    args.work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average at start {load:.1f}")
    for accounts in args.accounts:
        data, synth_seconds = synthesise(args.work, accounts, args.seed)
        note = f"written in {synth_seconds:.0f} s" if synth_seconds is not None else "reused"
        print(f"\n== {accounts:,} accounts ({data}, {note})")
        if args.compare_validation:
            compare_validation(data, args.compare_validation)
        for db in dbs:
            scratch = Path(tempfile.mkdtemp(prefix="ombud-bench-", dir=args.work))
            try:
                runs = [one_run(db, args.pg_url, scratch, data, args.batch_size, not args.no_reimport, args.identity)
                        for _ in range(args.runs)]
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            upkeep = ", with the identity index kept up to date" if args.identity else ""
            print(f"\n{db}: median of {len(runs)} run(s){upkeep}")
            print(f"{'kind':<22}{'rows':>12}{'seconds':>10}{'rows/s':>12}{'cpu s':>10}{'rows/cpu s':>12}")
            for i, kind in enumerate(runs[0][0].kinds):
                seconds = statistics.median(r[0].kinds[i].seconds for r in runs)
                cpu = statistics.median(r[0].kinds[i].cpu_seconds for r in runs)
                print(f"{kind.kind:<22}{kind.read:>12,}{seconds:>10.1f}{kind.read / seconds:>12,.0f}"
                      f"{cpu:>10.1f}{kind.read / cpu:>12,.0f}")
            total = runs[0][0].read
            for label, index in (("total, first import", 0), ("total, re-import", 1))[: 1 if args.no_reimport else 2]:
                seconds = statistics.median(r[index].seconds for r in runs)
                cpu = statistics.median(sum(k.cpu_seconds for k in r[index].kinds) for r in runs)
                print(f"{label:<22}{total:>12,}{seconds:>10.1f}{total / seconds:>12,.0f}{cpu:>10.1f}"
                      f"{total / cpu:>12,.0f}")
            print(f"load average now {os.getloadavg()[0]:.1f}")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
