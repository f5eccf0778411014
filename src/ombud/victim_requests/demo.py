"""The demo step of victims' records requests: one injected request from the public portal to verified, with
its fraudulent accounts confirmed, every step on the timeline and the audit log, checked against the truth."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from ombud.context import Context
from ombud.db import transaction
from ombud.staff import service as staff_service
from ombud.staff.models import Employee, Role
from ombud.synth.requests import read_requests
from ombud.victim_requests import service, synthload, views
from ombud.victim_requests.models import VictimRequest

_DEMO_STAFF = (
    ("DEMO-VR-AGENT", "Val Requests-Agent", "val.agent@ombud.example", Role.agent, "victim-requests"),
    ("DEMO-VR-PO1", "Pia Privacy", "pia.privacy@ombud.example", Role.privacy_officer, "privacy"),
    ("DEMO-VR-PO2", "Priya Second-Officer", "priya.officer@ombud.example", Role.privacy_officer, "privacy"),
)


def _staff(session: Any) -> list[Employee]:
    out = []
    for external_id, name, email, role, team in _DEMO_STAFF:
        found = staff_service.get_employee_by_external_id(session, external_id)
        out.append(found or staff_service.create_employee(session, external_id=external_id, name=name, email=email,
                                                          team=team, role=role, region="us"))
    return out


def _form(request: dict[str, Any]) -> dict[str, str]:
    """The portal form a victim fills in for this request (the same fields the page shows)."""
    address = request.get("address") or {}
    previous = (request.get("previous_addresses") or [{}])[0] if request.get("previous_addresses") else {}
    form = {
        "full_name": request["full_name"], "other_names": "\n".join(request.get("other_names") or []),
        "email": request.get("email") or "", "other_emails": "\n".join(request.get("other_emails") or []),
        "phone": request.get("phone") or "", "other_phones": "\n".join(request.get("other_phones") or []),
        "date_of_birth": request.get("date_of_birth") or "", "ssn": request.get("ssn") or "",
        "card_numbers": "\n".join(request.get("card_numbers") or []),
        "contact_preference": request.get("contact_preference") or "email", "statement_true": "yes",
        "report_kind": "ftc",
    }
    form |= {k: address.get(k) or "" for k in ("line1", "line2", "city", "region", "postal_code")}
    form |= {f"prev_{k}": previous.get(k) or "" for k in ("line1", "line2", "city", "region", "postal_code")}
    return form


def run_demo(ctx: Context, console: Console, retailer: Path) -> None:
    """Walk one genuine injected request from the portal to verified, its fraudulent accounts confirmed."""
    from fastapi.testclient import TestClient

    from ombud.app import create_app

    console.rule("[bold]A victim's records request (FCRA 609(e))[/]")
    line = next((x for x in read_requests(retailer) if x["kind"] == "genuine" and x["truth"]["fraudulent_account_ids"]
                 and x["request"].get("email")), None)
    if line is None:
        console.print("[yellow]the synthetic truth holds no injected request to walk through[/]")
        return
    console.print(f"{line['request']['full_name'][:1]}. (synthetic victim {line['victim_id']}) asks through the public "
                  "portal at /request: no account, their own identifiers only, an ID, an FTC report and an affidavit.")
    portal = TestClient(create_app(ctx=ctx), headers={"accept": "text/html"}, follow_redirects=False)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', portal.get("/request").text)
    files = {"government_id": ("id.png", synthload.SYNTHETIC_PNG, "image/png"),
             "report": ("ftc-report.pdf", synthload.SYNTHETIC_PDF, "application/pdf"),
             "affidavit": ("affidavit.pdf", synthload.SYNTHETIC_PDF, "application/pdf")}
    sent = portal.post("/request", data={**_form(line["request"]), "idempotency_key": key.group(1) if key else ""},
                       files=files)
    if sent.status_code != 303:
        console.print(f"[red]the portal refused the request ({sent.status_code})[/]")
        return
    token = sent.headers["location"].rsplit("/", 1)[-1]
    with transaction(ctx.sessions) as session:
        agent, officer, second = _staff(session)
        request = service.by_token(session, token)
        console.print(f"Reference [bold]{request.reference}[/]; received {request.received_at:%Y-%m-%d %H:%M} UTC; "
                      f"due {request.due_at:%Y-%m-%d %H:%M} UTC (30 days, end of the local day); receipt queued.")
        synthload.work(session, ctx.keys, ctx.settings, request, agent=agent, officer=officer, second_officer=second,
                       evidence=["government_id", "ftc_report", "affidavit"], line=line)
        outcome = synthload.outcome(session, line, request)
        page = views.detail(session, ctx.keys, ctx.settings, request, agent)
        reference = request.reference
    table = Table("record", "account", "suggested", "verdict", "in the truth", title="What discovery found")
    for m in page.matches:
        truth = "fraud" if (m.account_ref in outcome.expected_fraud) else ""
        table.add_row(f"{m.subject_kind.value} {m.subject_id}", m.account_ref or "", (m.suggested or "card named")
                      .replace("_", " "), m.verdict.value if m.verdict else "-", truth)
    console.print(table)
    steps = [f"{e.at:%H:%M:%S} {e.kind}" + (f" → {e.to_status}" if e.to_status else "") for e in page.timeline
             if e.kind in ("received", "transition", "verification", "discovery")]
    console.print("Timeline: " + "; ".join(steps))
    days = outcome.days_to_verified
    console.print(f"{reference}: {page.status.value}; verified {days if days is not None else '-'} days after receipt; "
                  f"{len(outcome.expected_fraud & outcome.confirmed_fraud)} of {len(outcome.expected_fraud)} "
                  f"fraudulent accounts confirmed, {len(outcome.false_fraud)} other accounts marked fraud. "
                  f"Status page: {ctx.settings.public_base_url}/request/status/<the victim's secret link>")
    with transaction(ctx.sessions) as session:
        total = len(session.scalars(select(VictimRequest.id)).all())
    console.print(f"[dim]{total} request(s) in the store; see /requests and /requests/sla in the console[/]")
