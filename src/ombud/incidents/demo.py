"""The incidents part of ``ombud demo``: an insider's reads become an incident, scoped exactly from the verified
log; notices are previewed, approved and sent to the file mailer; a customer opens their transparency link.

``run_demo(ctx, console)`` follows the access demo (whose agent read customers through the broker); with no
reads on the record it makes a few itself. When the insider step has escalated an alert (``ombud.insider.demo``),
the incident is opened from it (its employee, its window, its evidence); else by hand over the access demo's
reads.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.access.demo import run_demo as access_demo
from ombud.context import Context
from ombud.db import transaction
from ombud.incidents import links, notices, service, workflow
from ombud.incidents import scope as scoping
from ombud.staff import service as staff_service
from ombud.staff.models import Employee, Role

SECURITY = "security@ombud.example.com"
PRIVACY = "privacy@ombud.example.com"


def _staff(session: Session, email: str, role: Role, external_id: str) -> Employee:
    found = staff_service.get_employee_by_email(session, email)
    if found is not None:
        return found
    return staff_service.create_employee(session, external_id=external_id, name=f"Demo {role.value}",
                                         email=email, team="privacy", role=role, region="us-east")


def run_demo(ctx: Context, console: Console) -> None:
    """Walk an incident from the access log to the customer's page."""
    console.rule("[bold]Incidents: exact exposure, notices, the customer's page")
    if not _reads_exist(ctx):
        access_demo(ctx, Console(quiet=True))
    now = clock.now()
    with transaction(ctx.sessions) as session:
        analyst = _staff(session, SECURITY, Role.security_analyst, "DEMO-SEC")
        officer = _staff(session, PRIVACY, Role.privacy_officer, "DEMO-PRIV")
        pending = workflow.escalated_without_incident(session, limit=1)
        if pending:  # the insider step escalated an alert: the incident comes from it
            incident = workflow.open_from_alert(session, pending[0][0], analyst)
            opened = f"from escalated insider alert {pending[0][0]} (actor: {pending[0][1]})"
        else:
            agent = _insider(session)
            incident = service.open_incident(
                session, title="Demo: an agent looked up customers without a reason",
                description="An insider-risk review found reads with no business reason.",
                actors=[agent.external_id], window_start=now - timedelta(days=1),
                window_end=now + timedelta(minutes=1), discovered_at=now, by=analyst)
            opened = f"by hand (actors: {agent.external_id})"
        incident.what_happened = ("One of our customer-service employees looked at customer records without a "
                                  "business reason.")
        incident.what_we_are_doing = ("We ended the employee's access the same day, and we review every look at "
                                      "customer data.")
        incident_id, analyst_id, officer_id = incident.id, analyst.id, officer.id
    console.print(f"incident {incident_id} opened {opened}; scoping verifies the log first…")
    scope = scoping.scope_incident(ctx, incident_id, analyst_id)
    console.print(f"[green]scope v{scope.version}[/]: {scope.customers} customer(s), {scope.rows} exposed item(s); "
                  f"{scope.verification}")
    with transaction(ctx.sessions) as session:
        frame = scoping.exposure_frame(session, scope)
        table = Table("customer", "item", "class", "jurisdiction", "first", "leaves")
        for row in frame.head(12).to_dicts():
            table.add_row(row["customer_id"], row["item"], row["data_class"], row["jurisdiction"],
                          f"{row['first_at']:%H:%M:%S}", " ".join(map(str, row["leaves"][:4])))
        console.print(table)
        incident = service.get_incident(session, incident_id)
        run = notices.dry_run(session, incident, scoping.current_scope(session, incident), ctx.settings)
        console.print(f"dry run: {run.customers} customer(s) by jurisdiction: {run.by_jurisdiction}")
        for code, sample in list(run.samples.items())[:1]:
            console.print(f"sample for {code} (name masked):", style="bold")
            console.print("\n".join(sample.text.splitlines()[:18]) + "\n…", markup=False)
        officer = session.get(Employee, officer_id)
        notices.approve(session, incident, officer, ctx.settings)
        sent = notices.send(session, incident, officer, ctx.settings)
        customer_id = frame.get_column("customer_id")[0] if frame.height else None
    console.print(f"approved by a privacy officer; queued {sent.emails} email(s), {sent.letters} letter(s)")
    delivered = _deliver(ctx)
    console.print(f"the outbox worker sent {delivered} email(s) to the file mailer in {ctx.settings.data_dir}/mail")
    if customer_id is not None:
        from ombud.app import create_app

        token = links.sign(links.link_key(ctx.settings), customer_id, minutes=15)
        page = TestClient(create_app(ctx=ctx)).get("/my-data", params={"token": token})
        console.print(f"customer {customer_id} opens their link: HTTP {page.status_code}, "
                      f"{page.text.count('<tr>') - 1} look(s) listed, incident shown: {'INC-' in page.text}")
        console.print(f"  {ctx.settings.public_base_url.rstrip('/')}/my-data?token={token}  (valid 15 minutes)")


def _reads_exist(ctx: Context) -> bool:
    from ombud.audit.models import AuditEntry

    with ctx.sessions() as session:
        return session.scalar(
            select(AuditEntry.idx).join(Employee, Employee.external_id == AuditEntry.actor_id)
            .where(AuditEntry.action == "access.read", AuditEntry.decision != "deny").limit(1)) is not None


def _insider(session: Session) -> Employee:
    """Whoever made the most recent brokered read (the access demo's agent)."""
    from ombud.audit.models import AuditEntry

    employee = session.scalar(
        select(Employee).join(AuditEntry, AuditEntry.actor_id == Employee.external_id)
        .where(AuditEntry.action == "access.read", AuditEntry.decision != "deny")
        .order_by(AuditEntry.idx.desc()).limit(1))
    assert employee is not None, "the access demo made no read"
    return employee


def _deliver(ctx: Context) -> int:
    from ombud.notify.mailer import FileMailer
    from ombud.notify.worker import OutboxWorker

    worker = OutboxWorker(ctx.settings, ctx.sessions, mailer=FileMailer(ctx.settings.data_dir / "mail",
                                                                        ctx.settings.mail_from))
    return worker.drain().sent
