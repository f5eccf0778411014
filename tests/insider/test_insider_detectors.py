"""Each detector on a hand-built tiny world: it fires on its scenario, and its innocent twin raises nothing."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from insiderworld import DAY, World, at

from ombud.insider import detectors, engine

S = "Esupport"


def _world() -> World:
    w = World()
    w.background(teams={"support": 12, "orders": 6}, days=42)
    rows = w.rows["employees"]
    by_id = {r["employee_id"]: r for r in rows}
    # volume: a bulk lookup of 30 customers in one day
    for i in range(30):
        w.access(f"{S}0", f"C{100 + i}", at(20, 11))
    # class_volume + rare_class: home-camera video of five customers, no reason; the twin had tickets
    for i in range(5):
        w.access(f"{S}1", f"C{200 + i}", at(15, 11), "video")
        ticket = w.contact(f"C{210 + i}", f"{S}9", at(15, 10))
        w.access(f"{S}9", f"C{210 + i}", at(15, 11), "video", ticket_ref=ticket)
    # spread: two unexplained customers every working day for four weeks
    for day in range(10, 38):
        if day % 7 not in (5, 6):
            for j in range(2):
                w.access(f"{S}2", f"C{300 + day * 2 + j}", at(day, 14))
    # break_glass: five emergencies in two weeks; the twin one
    for i in range(5):
        w.access(f"{S}3", f"C{450 + i}", at(10 + 2 * i, 12), "address", purpose_kind="break_glass", source="broker")
    w.access(f"{S}10", "C460", at(12, 12), "address", purpose_kind="break_glass", source="broker")
    # self_ticket: the employee opens tickets on eight customers who never called; the twin one outbound call
    for i in range(8):
        ticket = w.contact(f"C{500 + i}", f"{S}4", at(5 + 2 * i, 9), initiated_by="staff")
        w.access(f"{S}4", f"C{500 + i}", at(5 + 2 * i, 10), ticket_ref=ticket)
    ticket = w.contact("C520", f"{S}11", at(9, 9), initiated_by="staff")
    w.access(f"{S}11", "C520", at(9, 10), ticket_ref=ticket)
    # refusals: six customers refused in one day; the twin one
    for i in range(6):
        w.access(f"{S}5", f"C{600 + i}", at(12, 11), "payment", decision="deny", source="broker")
    w.access(f"{S}6", "C610", at(12, 11), "payment", decision="deny", source="broker")
    # off_shift: three customers at 3 a.m. with no reason; the twin at 3 a.m. on tickets
    for i in range(3):
        w.access(f"{S}6", f"C{700 + i}", at(18, 3))
        ticket = w.contact(f"C{710 + i}", f"{S}7", at(18, 2.9))
        w.access(f"{S}7", f"C{710 + i}", at(18, 3), ticket_ref=ticket)
    # relationship: a rare surname shared with one customer; the twin's surname is everyone's
    by_id[f"{S}7"]["surname_key"] = "sn-rare"
    w.rows["customers"][800]["surname_key"] = "sn-rare"
    w.access(f"{S}7", "C800", at(25, 11))
    by_id[f"{S}8"]["surname_key"] = "sn-common"
    for row in w.rows["customers"][1000:1400]:
        row["surname_key"] = "sn-common"
    w.access(f"{S}8", "C1000", at(25, 11))
    # seller_reviewers: eight of one seller's negative reviewers looked up; the twin had tickets for them
    for i in range(20):
        w.review(f"C{2000 + i}", "S99", 1, at(0) - 10 * DAY)
        w.review(f"C{2020 + i}", "S98", 1, at(0) - 10 * DAY)
    for i in range(8):
        w.access(f"{S}8", f"C{2000 + 2 * i}", at(3 + 3 * i, 15))
        ticket = w.contact(f"C{2020 + 2 * i}", f"{S}9", at(3 + 3 * i, 14))
        w.access(f"{S}9", f"C{2020 + 2 * i}", at(3 + 3 * i, 15), ticket_ref=ticket)
    # departing: ten customers in the last weeks before leaving; the twin leaves quietly
    by_id["Eorders0"]["left_day"] = by_id["Eorders1"]["left_day"] = 20400 + 41
    for i in range(10):
        w.access("Eorders0", f"C{2100 + i}", at(30 + i, 11))
    # popular_customer: five employees look at one customer in a week; the twin customer called five times
    for name in ("Eorders2", "Eorders3", "Eorders4", "Eorders5", f"{S}11"):
        w.access(name, "C2999", at(22, 11))
        ticket = w.contact("C2998", name, at(22, 10), team="orders")
        w.access(name, "C2998", at(22, 11), ticket_ref=ticket)
    # repeat_views: one customer's home-camera video six times over three days; the twin's views follow a ticket
    w.employee("Erepeat", "support")
    w.employee("Erepeat2", "support")
    for i in range(6):
        w.access("Erepeat", "C2200", at(20 + i // 2, 11 + i % 2), "video")
    ticket = w.contact("C2201", "Erepeat2", at(20, 10))
    for i in range(6):
        w.access("Erepeat2", "C2201", at(20, 11 + i / 4), "video", ticket_ref=ticket)
    return w


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> engine.ScanOutput:
    return engine.run(_world().write(tmp_path_factory.mktemp("world")))


def _fired(scan: engine.ScanOutput) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for row in scan.findings.to_pylist():
        out[row["employee_id"]].add(row["detector"])
    return out


@pytest.mark.parametrize(("employee", "detector"), [
    (f"{S}0", "volume"),
    (f"{S}1", "class_volume"),
    (f"{S}1", "rare_class"),
    (f"{S}2", "spread"),
    (f"{S}3", "break_glass"),
    (f"{S}4", "self_ticket"),
    (f"{S}5", "refusals"),
    (f"{S}6", "off_shift"),
    (f"{S}7", "relationship"),
    (f"{S}8", "seller_reviewers"),
    ("Eorders0", "departing"),
    ("Erepeat", "repeat_views"),
    ("Eorders2", "popular_customer"),
    (f"{S}11", "popular_customer"),
])
def test_detector_fires_on_its_scenario(scan: engine.ScanOutput, employee: str, detector: str) -> None:
    assert detector in _fired(scan)[employee]


@pytest.mark.parametrize("twin", [f"{S}9", f"{S}10", "Eorders1", "Erepeat2"])
def test_innocent_twins_raise_nothing(scan: engine.ScanOutput, twin: str) -> None:
    assert _fired(scan)[twin] == set()


def test_every_registered_detector_is_exercised(scan: engine.ScanOutput) -> None:
    fired = {d for ds in _fired(scan).values() for d in ds}
    assert fired == set(detectors.DETECTORS)


def test_quiet_background_raises_nothing(scan: engine.ScanOutput) -> None:
    quiet = {f"{S}{i}" for i in (9, 10)} | {"Eorders1"}
    flagged = {row["employee_id"] for row in scan.findings.to_pylist()}
    assert not flagged & quiet
    # ordinary stray looks (one a fortnight) never fire on their own
    background_only = {"Eorders1"}
    assert not flagged & background_only


def test_common_surname_does_not_fire_but_rare_does(scan: engine.ScanOutput) -> None:
    rel = [r for r in scan.findings.to_pylist() if r["detector"] == "relationship"]
    assert {r["employee_id"] for r in rel} == {f"{S}7"}
    assert rel[0]["ref"] == "same surname"


def test_evidence_is_the_exact_events(scan: engine.ScanOutput) -> None:
    evidence = [r for r in scan.evidence.to_pylist() if r["detector"] == "refusals"]
    assert sorted(r["customer_id"] for r in evidence) == [f"C{600 + i}" for i in range(6)]
    assert all(r["decision"] == "deny" and r["audit_idx"] is not None for r in evidence)


def test_explained_share_counts_events(scan: engine.ScanOutput) -> None:
    assert 0.9 < scan.explained_share < 1.0


def test_outage_spike_across_the_team_does_not_fire(tmp_path: Path) -> None:
    w = World()
    w.background(teams={"support": 8}, days=28)
    for i in range(8):
        for j in range(25):  # the whole team looks up 25 customers the day after an outage
            w.access(f"{S}{i}", f"C{1000 + 25 * i + j}", at(15, 11))
    out = engine.run(w.write(tmp_path))
    assert "volume" not in {r["detector"] for r in out.findings.to_pylist()}


def test_new_hire_ramp_up_does_not_fire(tmp_path: Path) -> None:
    w = World()
    w.background(teams={"support": 8}, days=28)
    w.employee("Enew", "support")
    for day in range(14, 28):  # from two to twelve explained customers a day
        for k in range(2 + (day - 14) * 10 // 14):
            customer = f"C{2500 + day * 12 + k}"
            ticket = w.contact(customer, "Enew", at(day, 10))
            w.access("Enew", customer, at(day, 10.5), ticket_ref=ticket)
    out = engine.run(w.write(tmp_path))
    assert "Enew" not in {r["employee_id"] for r in out.findings.to_pylist()}


def test_parameters_refuse_unknown_names_and_non_numbers() -> None:
    with pytest.raises(ValueError, match="unknown"):
        detectors.params({"nope": 1.0})
    with pytest.raises(ValueError, match="number"):
        detectors.params({"volume_z": "3"})  # type: ignore[dict-item]
