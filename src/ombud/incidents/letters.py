"""Letters for post: the queued letter notices of an incident rendered into one PDF for the print run.

Each letter starts on a new page with the customer's postal address; a manifest (CSV) beside the PDF names the
customer and first page of each, for the print shop's reconciliation. The notices are marked printed in the same
transaction, so a second run prints only what the first did not.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.config import Settings
from ombud.incidents import wording
from ombud.incidents.models import Incident, IncidentScope, Notice, NoticeChannel, NoticeStatus
from ombud.incidents.notices import context_for, recipients, render
from ombud.incidents.pdf import Document
from ombud.incidents.service import audit, note_entry
from ombud.staff.models import Employee


@dataclass(frozen=True)
class PrintRun:
    pdf: Path | None
    manifest: Path | None
    letters: int


def print_letters(session: Session, incident: Incident, by: Employee | None, settings: Settings, folder: Path
                  ) -> PrintRun:
    """Render every queued letter of the incident into one PDF and a manifest; mark them printed."""
    pending = list(session.scalars(select(Notice).where(
        Notice.incident_id == incident.id, Notice.channel == NoticeChannel.letter,
        Notice.status == NoticeStatus.queued).order_by(Notice.customer_id)))
    if not pending:
        return PrintRun(None, None, 0)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    pdf_path = folder / f"incident-{incident.id}-letters-{stamp}.pdf"
    manifest_path = folder / f"incident-{incident.id}-letters-{stamp}.csv"
    doc = Document(title=f"Incident {incident.id} letters", font_pt=11)
    by_scope: dict[int, list[Notice]] = {}
    for notice in pending:
        by_scope.setdefault(notice.scope_id, []).append(notice)
    manifest: list[tuple[str, int]] = []
    now = clock.now()
    for scope_id, notices in by_scope.items():
        scope = session.get(IncidentScope, scope_id)
        assert scope is not None
        people = {r.customer_id: r for r in recipients(session, scope, [n.customer_id for n in notices])}
        for notice in notices:
            person = people[notice.customer_id]
            context = context_for(incident, person, settings)
            rendered = render(context, wording.of_notice(session, notice.template_id, incident, settings))
            doc.font_pt = max(11, int(context["min_font_pt"]))
            doc.page()
            manifest.append((notice.customer_id, doc.pdf.page_no()))
            doc.lines(person.postal or [person.name])
            doc.notice(rendered.text, context["headings"], context["title"])
            notice.status, notice.updated_at = NoticeStatus.printed, now
    doc.save(pdf_path)
    with manifest_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "first_page"])
        writer.writerows(manifest)
    session.flush()
    index = audit(session, "incident.letters.print", by, incident.id, detail={"letters": len(manifest)})
    note_entry(session, incident, "letters", by, f"{len(manifest):,} letter(s) printed to {pdf_path.name}", index)
    return PrintRun(pdf_path, manifest_path, len(manifest))
