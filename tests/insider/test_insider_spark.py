"""The scale path: the same detector SQL on a local Spark session finds exactly what DuckDB finds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from insiderworld import DAY, World, at

from ombud.insider import engine

pytestmark = [pytest.mark.slow, pytest.mark.spark]


def _world() -> World:
    w = World(seed=3)
    w.background(teams={"support": 6}, days=14, customers=800, per_day=3)
    for i in range(12):  # a bulk lookup
        w.access("Esupport0", f"C{100 + i}", at(10, 11))
    for i in range(5):  # probing
        w.access("Esupport1", f"C{200 + i}", at(9, 11), "payment", decision="deny", source="broker")
    w.rows["employees"][2]["surname_key"] = "sn-rare"  # a relative
    w.rows["customers"][300]["surname_key"] = "sn-rare"
    w.access("Esupport2", "C300", at(8, 12))
    for i in range(10):  # one seller's negative reviewers
        w.review(f"C{400 + i}", "S77", 1, at(0) - 5 * DAY)
    for i in range(6):
        w.access("Esupport3", f"C{400 + i}", at(2 + i, 15))
    return w


def _rows(table, keys):
    return sorted(tuple(round(r[k], 6) if isinstance(r[k], float) else r[k] for k in keys) for r in table.to_pylist())


@pytest.mark.skipif("postgresql" in os.environ.get("OMBUD_TEST_DATABASE_URL", ""),
                    reason="store-independent; runs once, in the SQLite pass")
def test_spark_finds_what_duckdb_finds(tmp_path: Path) -> None:
    inputs = _world().write(tmp_path / "in")
    duck = engine.run(inputs)
    spark = engine.run(inputs, engine="spark")
    assert _rows(spark.findings, ["detector", "employee_id", "day", "ref", "n", "n_rows", "stat", "strength"]) == \
        _rows(duck.findings, ["detector", "employee_id", "day", "ref", "n", "n_rows", "stat", "strength"])
    assert _rows(spark.evidence, ["detector", "employee_id", "event_id", "data_class"]) == \
        _rows(duck.evidence, ["detector", "employee_id", "event_id", "data_class"])
    assert _rows(spark.day_scores, ["employee_id", "day", "score", "n_findings"]) == \
        _rows(duck.day_scores, ["employee_id", "day", "score", "n_findings"])
    assert spark.explained_share == pytest.approx(duck.explained_share)
    assert {r["detector"] for r in duck.findings.to_pylist()} >= {"volume", "refusals", "relationship",
                                                                  "seller_reviewers"}
