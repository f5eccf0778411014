"""Browser test: a victim opens their download link, types their reference, downloads the package, and the PDF's
text (read with pypdf) names the fraudulent account; an expired link shows a readable page with a way to ask
again, never the file."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import delete

from ombud.db import transaction
from ombud.notify.models import OutboxMessage
from ombud.records.models import RecordsDelivery, RecordsDownload, RecordsPackage
from ombud.retail.models import Account, CreditApplication
from ombud.victim_requests import delivery
from ombud.victim_requests.models import VictimRequest
from ombud.victim_requests.package import package_request

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "records"))
import recordsutil

pytestmark = pytest.mark.browser


@pytest.fixture
def delivered(server_ctx):
    """A request with one fraudulent account, its package and a link mailed to the victim (committed)."""
    with transaction(server_ctx.sessions) as session:
        thief = recordsutil.account(session, orders=4, marker="BROWSERTHIEF")
        other = recordsutil.account(session, orders=1, marker="BROWSERBYSTANDER")
        request = recordsutil.request_at_package(session, server_ctx, {
            f"account:{thief.account.external_id}": "fraud", f"account:{other.account.external_id}": "unrelated"})
        package_request(session, server_ctx.settings, request, actor=None)
        _, token = delivery.deliver_to_victim(session, server_ctx.settings, server_ctx.keys, request, actor=None,
                                              max_downloads=1)
        ids = (request.id, thief.account.id, other.account.id)
        facts = (request.reference, thief.account.external_id, token)
    yield facts
    with transaction(server_ctx.sessions) as session:
        packages = [p.id for p in session.query(RecordsPackage).filter(RecordsPackage.request_id == ids[0])]
        deliveries = [d.id for d in session.query(RecordsDelivery).filter(RecordsDelivery.package_id.in_(packages))]
        session.execute(delete(RecordsDownload).where(RecordsDownload.delivery_id.in_(deliveries)))
        session.execute(delete(RecordsDelivery).where(RecordsDelivery.id.in_(deliveries)))
        session.execute(delete(RecordsPackage).where(RecordsPackage.id.in_(packages)))
        session.execute(delete(OutboxMessage).where(OutboxMessage.purpose == f"request:{ids[0]}"))
        session.execute(delete(VictimRequest).where(VictimRequest.id == ids[0]))
        # Credit applications outlive their account (SET NULL): delete them first, or other tests count them.
        session.execute(delete(CreditApplication).where(CreditApplication.account_id.in_(ids[1:])))
        session.execute(delete(Account).where(Account.id.in_(ids[1:])))


def test_victim_downloads_the_package_and_the_pdf_names_the_account(page, delivered):
    reference, account_ref, token = delivered
    page.goto(f"/portal/records/{token}")
    assert page.get_by_role("heading", name="Your records are ready").is_visible()
    page.get_by_label("Your request reference").fill("VR-NOT-MINE")
    page.get_by_role("button", name="Download my records").click()
    assert page.get_by_role("alert").inner_text().startswith("that does not match our records")
    page.get_by_label("Your request reference").fill(reference)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download my records").click()
    download = info.value
    assert download.suggested_filename == f"{reference}-v1.zip"
    data = Path(download.path()).read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        pdf = archive.read(f"{reference}-records.pdf")
        everything = b"".join(archive.read(n) for n in archive.namelist())
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert f"Account {account_ref}" in text and reference in text
    assert b"BROWSERBYSTANDER" not in everything
    # The link allowed one download: now it shows why it stopped, and offers a new one; never the file.
    page.goto(f"/portal/records/{token}")
    assert page.get_by_role("heading", name="This link no longer works").is_visible()
    assert page.get_by_role("button", name="Send me a new link").is_visible()
    page.get_by_role("button", name="Send me a new link").click()
    assert "We sent a new link" in page.get_by_role("status").inner_text()
