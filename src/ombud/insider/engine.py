"""Running the detectors on DuckDB (embedded, default) or Apache Spark (the scale path), from one definition.

The SQL is written once in DuckDB's dialect and transpiled with SQLGlot for Spark. Each stage is materialised as
a table the next ones read; the outputs are plain Arrow tables, sorted, so both engines give identical results.
No SQLAlchemy, no web framework: the input is a folder of Parquet files (see ombud.insider.frame).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from ombud.insider import detectors as registry
from ombud.insider import ranking
from ombud.insider.explain import STAGES, SUMMARY_SQL
from ombud.insider.frame import TABLES

ENGINES = ("duckdb", "spark")

Progress = Callable[[str], None]


class Runner(Protocol):
    def load(self, name: str, path: Path) -> None: ...
    def materialise(self, name: str, sql: str) -> None: ...
    def fetch(self, sql: str) -> pa.Table: ...
    def close(self) -> None: ...


class DuckRunner:
    """DuckDB in process: each Parquet file read once into a table, stages as temporary tables.

    Insertion order is not kept (every output is sorted before it leaves), which lets DuckDB build and scan
    tables in parallel without reordering."""

    def __init__(self, threads: int | None = None, memory_limit: str | None = None) -> None:
        import duckdb

        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET enable_progress_bar = false")  # the scan reports its own progress, per stage
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{int(memory_limit.rstrip('GB'))}GB'")

    def load(self, name: str, path: Path) -> None:
        quoted = str(path).replace("'", "''")
        # The events are read whole once (access_base) and then only by row id (evidence): a view, decoded
        # straight into the first stage. The other inputs are read by several stages: tables, decoded once.
        kind = "VIEW" if name == "events" else "TABLE"
        self.con.execute(f"CREATE OR REPLACE {kind} {name} AS SELECT * FROM read_parquet('{quoted}')")

    def materialise(self, name: str, sql: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def fetch(self, sql: str) -> pa.Table:
        return self.con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self.con.close()


def spark_session(master: str | None = None) -> Any:
    """A Spark session: the configured master (OMBUD_SPARK_MASTER), else local with the machine's cores."""
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.appName("ombud-insider")
        .master(master or os.environ.get("OMBUD_SPARK_MASTER", "local[*]"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", os.environ.get("OMBUD_SPARK_PARTITIONS", "4"))
        .config("spark.default.parallelism", os.environ.get("OMBUD_SPARK_PARTITIONS", "4"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.ansi.enabled", "false")
    )
    return builder.getOrCreate()


class SparkRunner:
    """Spark SQL: Parquet files as temporary views; SQL transpiled from DuckDB's dialect. Each stage is written
    to Parquet and read back, so every later plan starts from files (short lineage, each stage computed once)."""

    def __init__(self, session: Any | None = None, workdir: Path | None = None) -> None:
        import tempfile

        self.spark = session or spark_session()
        self._tmp = tempfile.TemporaryDirectory(prefix="ombud-spark-", dir=workdir)

    @staticmethod
    def transpile(sql: str) -> str:
        import sqlglot

        return sqlglot.transpile(sql, read="duckdb", write="spark")[0]

    def load(self, name: str, path: Path) -> None:
        self.spark.read.parquet(str(path)).createOrReplaceTempView(name)

    def materialise(self, name: str, sql: str) -> None:
        path = str(Path(self._tmp.name) / name)
        self.spark.sql(self.transpile(sql)).write.mode("overwrite").parquet(path)
        self.spark.read.parquet(path).createOrReplaceTempView(name)

    def fetch(self, sql: str) -> pa.Table:
        # Results are small (findings, evidence, scores); collect() avoids toArrow's per-batch JVM buffers.
        frame = self.spark.sql(self.transpile(sql))
        names = frame.columns
        rows = frame.collect()
        if not rows:
            return pa.Table.from_pylist([], schema=pa.schema([(n, pa.null()) for n in names]))
        return pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in rows])

    def close(self) -> None:
        self._tmp.cleanup()


@dataclass
class ScanOutput:
    """What a scan found: findings, their evidence rows, employee-day scores, the explanation summary."""

    findings: pa.Table
    evidence: pa.Table
    day_scores: pa.Table
    summary: pa.Table
    employee_days: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def explained_share(self) -> float:
        """Share of the non-refused access events that a reason on record explains."""
        rows = self.summary.to_pylist()
        total = sum(r["n_events"] for r in rows if r["reason"] != "refused")
        unexplained = sum(r["n_events"] for r in rows if r["reason"] == "unexplained")
        return 1.0 if total == 0 else 1.0 - unexplained / total


def write_inputs(directory: Path, tables: Mapping[str, pa.Table]) -> None:
    """Write input tables as <name>.parquet; a table not given is written empty."""
    from ombud.insider.frame import conform, empty

    directory.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        table = conform(name, tables[name]) if name in tables else empty(name)
        pq.write_table(table, directory / f"{name}.parquet")


_ROW_COLUMNS = "detector, employee_id, day, ref, stat, n, strength, row_id"


def _sorted(table: pa.Table, keys: list[str]) -> pa.Table:
    return table.sort_by([(k, "ascending") for k in keys]) if table.num_rows else table


def make_runner(engine: str, spark: Any | None = None) -> Runner:
    """The runner of an engine by name."""
    if engine == "duckdb":
        return DuckRunner()
    if engine == "spark":
        return SparkRunner(spark)
    raise ValueError(f"unknown engine {engine!r}; use one of {', '.join(ENGINES)}")


def run(
    inputs: Path,
    *,
    engine: str = "duckdb",
    overrides: Mapping[str, float] | None = None,
    from_day: int = 0,
    progress: Progress | None = None,
    runner: Runner | None = None,
) -> ScanOutput:
    """Run every stage and detector over the Parquet inputs in `inputs`; findings from `from_day` on."""
    values = registry.params(overrides)
    own = runner is None
    runner = runner or make_runner(engine)
    timings: dict[str, float] = {}
    say = progress or (lambda _step: None)
    try:
        started = time.perf_counter()
        for name in TABLES:
            runner.load(name, inputs / f"{name}.parquet")
        for name, sql in STAGES:
            say(f"stage {name}")
            runner.materialise(name, registry.render(sql, values))
        timings["explain"] = time.perf_counter() - started
        say("detectors")
        # One table per detector, then their union: a single plan of every detector is too deep for Spark's analyser.
        for detector in registry.DETECTORS.values():
            say(f"detector {detector.name}")
            runner.materialise(f"rows_{detector.name}", registry.render(detector.sql, values))
        runner.materialise("finding_rows", "\nUNION ALL\n".join(
            f"SELECT {_ROW_COLUMNS} FROM rows_{name}" for name in registry.DETECTORS
        ))
        # A finding is *fresh* unless the same detector fired on the same thing for the employee within
        # episode_days before: a continuation extends the open alert instead of raising a new one.
        runner.materialise("findings_all", f"""
SELECT g.*, CASE WHEN LAG(day) OVER (PARTITION BY employee_id, detector, ref ORDER BY day)
                      >= day - {values['episode_days']} THEN 0 ELSE 1 END AS fresh
FROM (SELECT detector, employee_id, day, ref, MAX(stat) AS stat, CAST(MAX(n) AS BIGINT) AS n,
             MAX(strength) AS strength, COUNT(DISTINCT row_id) AS n_rows
      FROM finding_rows GROUP BY detector, employee_id, day, ref) g
""")
        runner.materialise("findings", f"SELECT * FROM findings_all WHERE day >= {int(from_day)}")
        timings["detect"] = time.perf_counter() - started - timings["explain"]
        say("scores")
        findings = _sorted(runner.fetch("SELECT * FROM findings"), ["employee_id", "day", "detector", "ref"])
        evidence = _sorted(runner.fetch(f"""
SELECT DISTINCT f.detector, f.employee_id, f.day, f.ref, a.event_id, a.source, a.audit_idx, a.customer_id,
       a.data_class, a.at_s, a.decision
FROM finding_rows f JOIN events a ON a.row_id = f.row_id WHERE f.day >= {int(from_day)}
"""), ["employee_id", "day", "detector", "ref", "event_id", "data_class"])
        day_scores = _sorted(runner.fetch(ranking.day_scores_sql(values, from_day)), ["employee_id", "day"])
        summary = _sorted(runner.fetch(f"SELECT * FROM ({SUMMARY_SQL}) AS s WHERE reason IS NOT NULL"), ["reason"])
        employee_days = day_scores.num_rows
        timings["total"] = time.perf_counter() - started
        return ScanOutput(findings, evidence, day_scores, summary, employee_days, timings)
    finally:
        if own:
            runner.close()
