"""`ombud requests ...` against the test's store: a letter in, verification, a decline proposed and confirmed."""

from __future__ import annotations

import json

import pytest
from requestutil import JANE, PDF
from sqlalchemy import select

from ombud.errors import InvalidInput, PolicyDenied
from ombud.victim_requests.models import RequestDecline, VictimRequest
from ombud.victim_requests.states import Channel, Status


def test_a_letter_through_the_command_line(cli, session, staff, frozen, tmp_path):
    letter = tmp_path / "letter.json"
    letter.write_text(json.dumps({k: v for k, v in JANE.items() if k != "statement_true"}))
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(PDF)
    agent, officer, officer2 = staff["agent"], staff["officer"], staff["officer2"]
    entered = cli("requests", "receive-letter", letter, "--received-at", "2026-10-30T09:15", "--scan", scan,
                  "--as", agent.external_id)
    assert entered.exit_code == 0, entered.output
    request = session.scalars(select(VictimRequest)).one()
    assert request.channel is Channel.mail and request.reference in entered.output
    assert request.received_at.isoformat().startswith("2026-10-30T13:15")  # 09:15 in New York
    listed = cli("requests", "list", "--json")
    assert json.loads(listed.output)["items"][0]["reference"] == request.reference
    shown = cli("requests", "show", request.reference, "--as", agent.external_id)
    assert shown.exit_code == 0 and "letter" in shown.output
    with pytest.raises(InvalidInput, match="basis"):
        cli("requests", "verify", request.reference, "--confident", "--as", agent.external_id)
    cli("requests", "verify", request.reference, "--not-confident", "--basis", "identifiers_match_records",
        "--as", agent.external_id)
    with pytest.raises(InvalidInput, match="statutory"):
        cli("requests", "decline", request.reference, "--ground", "privacy", "--explanation",
            "We do not hand out records for privacy reasons.", "--as", officer.external_id)
    cli("requests", "decline", request.reference, "--ground", "identity_not_confirmed", "--explanation",
        "The ID in the letter belongs to someone else.", "--as", officer.external_id)
    decline = session.scalars(select(RequestDecline)).one()
    with pytest.raises(PolicyDenied, match="other than"):
        cli("requests", "decline", request.reference, "--confirm", decline.id, "--as", officer.external_id)
    done = cli("requests", "decline", request.reference, "--confirm", decline.id, "--as", officer2.external_id)
    assert done.exit_code == 0, done.output
    session.refresh(request)
    assert request.status is Status.declined
    swept = cli("requests", "sweep", "--json")
    assert json.loads(swept.output)["checked"] == 0
    assert cli("requests", "sla").exit_code == 0
