"""Regulator reports: per jurisdiction over its threshold, the counts, dates, description and a sample notice,
as JSON and PDF; submitting one meets its deadline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.config import Settings
from ombud.errors import Conflict, NotFound
from ombud.incidents import rules as rules_mod
from ombud.incidents import wording
from ombud.incidents.models import DeadlineKind, Incident, IncidentDeadline, IncidentScope, Notice, NoticeChannel
from ombud.incidents.notices import context_for, recipients, render
from ombud.incidents.pdf import Document
from ombud.incidents.service import audit, note_entry
from ombud.staff.models import Employee


def regulator_deadline(session: Session, incident: Incident, jurisdiction: str) -> IncidentDeadline:
    row = session.scalar(select(IncidentDeadline).where(
        IncidentDeadline.incident_id == incident.id, IncidentDeadline.jurisdiction == jurisdiction,
        IncidentDeadline.kind == DeadlineKind.regulator))
    if row is None:
        raise NotFound(f"incident {incident.id} owes no regulator report in {jurisdiction} (under the threshold, "
                       "or not scoped yet)", field="jurisdiction")
    return row


def report(session: Session, incident: Incident, jurisdiction: str, settings: Settings) -> dict[str, Any]:
    """The report's content: who reports to whom, counts by channel, dates, description, a masked sample notice."""
    deadline = regulator_deadline(session, incident, jurisdiction)
    table = rules_mod.load_rules()
    rule = table.get(jurisdiction, table[rules_mod.DEFAULT])
    counts = dict(session.execute(
        select(Notice.channel, func.count()).where(Notice.incident_id == incident.id,
                                                   Notice.jurisdiction == jurisdiction).group_by(Notice.channel)
    ).all())
    scope = session.get(IncidentScope, incident.current_scope_id) if incident.current_scope_id else None
    sample: dict[str, str] | None = None
    if scope is not None:
        ids = scope_customers(session, scope, jurisdiction, 1)
        people = recipients(session, scope, ids)
        if people:
            rendered = render(context_for(incident, people[0], settings, masked=True),
                              wording.for_sending(session, incident, settings))
            sample = {"subject": rendered.subject, "text": rendered.text}
    return {
        "report": "data breach notification",
        "regulator": rule.regulator,
        "jurisdiction": {"code": rule.code, "name": rule.name, "rule_source": rule.source},
        "reporting_entity": getattr(settings, "retailer_name", "Example Retail, Inc."),
        "contact": settings.privacy_contact,
        "incident": {"reference": f"INC-{incident.id}", "title": incident.title, "kind": incident.kind.value,
                     "description": incident.what_happened or incident.description,
                     "measures": incident.what_we_are_doing},
        "dates": {"breach_from": incident.window_start.isoformat(), "breach_to": incident.window_end.isoformat(),
                  "discovered": incident.discovered_at.isoformat(),
                  "notices_sent": incident.notices_sent_at.isoformat() if incident.notices_sent_at else None,
                  "report_due": deadline.due_at.isoformat()},
        "affected_residents": deadline.customers,
        "notified_by_email": counts.get(NoticeChannel.email, 0),
        "notified_by_mail": counts.get(NoticeChannel.letter, 0),
        "law_enforcement_delay": incident.law_enforcement_delay,
        "scope": None if scope is None else {"version": scope.version, "log_tree_size": scope.tree_size,
                                             "log_root_sha256": scope.root_hash},
        "sample_notice": sample,
        "generated_at": clock.now().isoformat(),
    }


def scope_customers(session: Session, scope: IncidentScope, jurisdiction: str, limit: int) -> list[str]:
    from ombud.incidents.models import Exposure

    return list(session.scalars(select(Exposure.customer_id).where(
        Exposure.scope_id == scope.id, Exposure.jurisdiction == jurisdiction).distinct()
        .order_by(Exposure.customer_id).limit(limit)))


def report_pdf(content: dict[str, Any]) -> bytes:
    """The report as a PDF a regulator's form or mailbox takes."""
    doc = Document(title=f"Data breach report {content['incident']['reference']}", font_pt=11)
    doc.page()
    doc.heading(f"Data breach report to the {content['regulator']}", 16)
    doc.lines([f"Reporting entity: {content['reporting_entity']}", f"Contact: {content['contact']}",
               f"Reference: {content['incident']['reference']}", f"Jurisdiction: {content['jurisdiction']['name']}"])
    doc.heading("Counts")
    doc.lines([f"Residents affected: {content['affected_residents']:,}",
               f"Notified by email: {content['notified_by_email']:,}",
               f"Notified by mail: {content['notified_by_mail']:,}"])
    d = content["dates"]
    doc.heading("Dates")
    doc.lines([f"Breach: {d['breach_from']} to {d['breach_to']}", f"Discovered: {d['discovered']}",
               f"Notices sent: {d['notices_sent'] or 'not yet'}", f"Report due: {d['report_due']}"])
    doc.heading("What happened")
    doc.paragraph(content["incident"]["description"] or "")
    doc.heading("What we are doing")
    doc.paragraph(content["incident"]["measures"] or "")
    if content["law_enforcement_delay"]:
        doc.paragraph("Notice to residents was delayed at the request of law enforcement.")
    if content["scope"]:
        s = content["scope"]
        doc.paragraph(f"Exposure computed from the tamper-evident access log (scope v{s['version']}, verified and "
                      f"signed at {s['log_tree_size']:,} events, root {s['log_root_sha256']}).")
    doc.paragraph(f"Rule: {content['jurisdiction']['rule_source']}")
    if content["sample_notice"]:
        doc.page()
        doc.heading("Sample notice (recipient's name masked)", 14)
        doc.paragraph(content["sample_notice"]["text"])
    return doc.output()


def mark_submitted(session: Session, incident: Incident, jurisdiction: str, by: Employee) -> IncidentDeadline:
    """Record that the report went to the regulator: its deadline is met."""
    deadline = regulator_deadline(session, incident, jurisdiction)
    if deadline.met_at is not None:
        raise Conflict(f"the {jurisdiction} report was already submitted", field="jurisdiction")
    deadline.met_at = clock.now()
    index = audit(session, "incident.report.submit", by, incident.id, detail={"jurisdiction": jurisdiction})
    note_entry(session, incident, "report", by, f"Regulator report for {jurisdiction} submitted", index)
    return deadline
