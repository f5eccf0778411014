"""The demo step of the records: the demo request's package, delivered to the victim (who downloads it through
their link: the PDF lands in the data folder), a police delivery, and remediation confirmed; then the request
closes."""

from __future__ import annotations

import io
import re
import zipfile

from rich.console import Console
from sqlalchemy import select

from ombud.context import Context
from ombud.db import transaction
from ombud.notify.worker import OutboxWorker
from ombud.records import service as records
from ombud.victim_requests import agency, delivery, remediation
from ombud.victim_requests.models import MatchVerdict, RequestMatch, VictimRequest
from ombud.victim_requests.package import package_request
from ombud.victim_requests.states import Status


def run_demo(ctx: Context, console: Console) -> None:
    """Package, deliver (victim and police), remediate and close the demo's request."""
    from fastapi.testclient import TestClient

    from ombud.app import create_app

    console.rule("[bold]The records: package, delivery, police, remediation[/]")
    with transaction(ctx.sessions) as session:
        request = session.scalar(
            select(VictimRequest).where(VictimRequest.status == Status.package,
                                        VictimRequest.id.in_(select(RequestMatch.request_id).where(
                                            RequestMatch.verdict == MatchVerdict.fraud)))
            .order_by(VictimRequest.id.desc()))
        if request is None:
            console.print("[yellow]no request is ready for its package (the request step found no fraud)[/]")
            return
        package = package_request(session, ctx.settings, request, actor=None)
        console.print(f"Package [bold]{package.file_name}[/]: {package.counts['accounts']} fraudulent account(s), "
                      f"{package.counts['orders']} orders; manifest SHA-256 {package.manifest_sha256[:16]}… is audit "
                      f"leaf {package.audit_index}. Sign-in history left out (navigational data), and recorded so.")
        _, token = delivery.deliver_to_victim(session, ctx.settings, ctx.keys, request, actor=None)
        authorisation = agency.record_authorisation(
            session, request, agency="Springfield Police Department", officer="Detective A. Rivera",
            badge_or_case="SPD-2026-4471", email="a.rivera@police.example.org", source="letter", actor=None)
        _, agency_token = delivery.deliver_to_agency(session, ctx.settings, ctx.keys, request, authorisation.id,
                                                     actor=None, address="a.rivera@police.example.org")
        steps = remediation.plan(session, ctx.settings, ctx.keys, request, actor=None)
        reference, request_id = request.reference, request.id
    stats = OutboxWorker(ctx.settings, ctx.sessions).drain()
    mail_dir = ctx.settings.data_dir / "mail"
    console.print(f"The worker sent {stats.sent} emails (file mailer: .eml files in {mail_dir}): the victim's link, "
                  "the police link, and any mail queued before.")
    portal = TestClient(create_app(ctx=ctx), headers={"accept": "text/html"}, follow_redirects=False)
    got = portal.post(f"/portal/records/{token}", data={"answer": reference})
    police = portal.post(f"/portal/records/{agency_token}", data={"answer": "SPD-2026-4471"})
    if got.status_code != 200 or police.status_code != 200:
        console.print(f"[red]a download failed ({got.status_code}, {police.status_code})[/]")
        return
    folder = ctx.settings.data_dir / "demo-records"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
        pdf_name = next(n for n in archive.namelist() if n.endswith(".pdf"))
        (folder / pdf_name).write_bytes(archive.read(pdf_name))
    (folder / f"{reference}.zip").write_bytes(got.content)
    console.print(f"The victim opened their link, typed {reference} and downloaded the package: "
                  f"[bold]{folder / pdf_name}[/] (PDF/A) beside the zip. The detective downloaded the agency's own "
                  "copy with the case number; both downloads are audit leaves.")
    with transaction(ctx.sessions) as session:
        check = records.verify_package(session, got.content)
        request = session.get(VictimRequest, request_id)
        assert request is not None
        done = [s for s in remediation.sync(session, request_id) if s.status.value == "confirmed"]
        remediation.close(session, request, actor=None)
        status = request.status.value
    console.print(f"verify-package: {'✓' if check.ok else '✗'} {check.files_checked} files match the manifest, whose "
                  f"hash is audit leaf {check.audit_index}  (also: ombud requests verify-package "
                  f"{folder / (reference + '.zip')})")
    console.print(f"Remediation: {len(done)} of {len(steps)} steps confirmed on Ombud's own copy (no retailer webhook "
                  f"configured): {', '.join(sorted({re.sub('_', ' ', s.action.value) for s in done}))}. "
                  f"{reference} is now {status}.")
