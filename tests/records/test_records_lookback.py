"""The look-back: import names every bad row, plan finds those since the cut-off who got nothing, the campaign
goes through the outbox and each person is tracked (sent, bounced, responded -> linked to their new request)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import recordsutil

from ombud.lookback import service
from ombud.lookback.models import ContactStatus, LookbackContact
from ombud.notify.models import MailStatus, OutboxMessage
from ombud.notify.sink import DedupingHandler, running_sink
from ombud.notify.worker import OutboxWorker
from ombud.victim_requests.states import Status

GOOD = b"""contact_id,contacted_at,channel,name,email,postal_address,records_provided
T-1,2024-06-11,email,Ann Early,ann@example.com,,no
T-2,2024-02-01,phone,Bob Before,bob@example.com,,no
T-3,2024-09-30T10:00:00,chat,Cy Served,cy@example.com,,yes
T-4,2025-01-15,letter,Dee Post,,"5 Main St, Springfield, IL 62704",no
T-5,2025-03-01,email,Eve Bounce,gone@example.com,,no
T-6,2025-04-02,email,Robin Victim,robin.victim@example.com,,no
"""


def test_bad_rows_are_all_named_and_nothing_is_written(session, ctx):
    bad = (b"contact_id,contacted_at,channel,name,email,postal_address\n"
           b"T-1,2024-13-01,email,Ann,ann@example.com,\n"
           b"T-2,2024-06-01,fax,Bob,,\n"
           b"T-1,2024-06-01,email,,not-an-email,\n"
           b"T-4,2024-06-01,email,Dee,dee@example.com,\n")
    result = service.import_contacts(session, ctx.keys, bad, actor="tester")
    named = {(e.line, e.field) for e in result.errors}
    assert {(2, "contacted_at"), (3, "channel"), (3, "email"), (4, "contact_id"), (4, "name"), (4, "email")} <= named
    assert result.imported == 0 and session.query(LookbackContact).count() == 0
    header = service.import_contacts(session, ctx.keys, b"id,when\n1,2\n", actor="tester")
    assert header.errors[0].line == 1 and "contact_id" in header.errors[0].message
    partial = service.import_contacts(session, ctx.keys, bad, actor="tester", skip_bad=True)
    assert partial.imported == 1


def test_plan_send_and_track_each_person(session, sessions, ctx, settings):
    result = service.import_contacts(session, ctx.keys, GOOD, actor="tester")
    assert (result.imported, result.errors) == (6, [])
    assert service.import_contacts(session, ctx.keys, GOOD, actor="tester").already_held == 6
    planned = service.plan(session, since=date(2024, 4, 1))
    assert planned.candidates == 4 and planned.by_post == 1
    assert planned.excluded["contacted before 2024-04-01"] == 1
    assert planned.excluded["records were provided at the time"] == 1
    sent = service.send(session, settings, ctx.keys, actor="tester")
    assert sent.emails == 3 and sent.letters_file is not None
    assert "Dee Post" in sent.letters_file.read_text() and "5 Main St" in sent.letters_file.read_text()
    letters = session.query(OutboxMessage).filter(OutboxMessage.template == "lookback_letter").all()
    assert {m.to_address for m in letters} == {"ann@example.com", "gone@example.com", "robin.victim@example.com"}
    assert "LB-" in letters[0].body_text
    session.commit()
    handler = DedupingHandler(refuse=frozenset({"gone@example.com"}))
    with running_sink(handler) as sink:
        smtp = settings.model_copy(update={"mailer": "smtp", "smtp_port": sink.port, "smtp_starttls": False})
        OutboxWorker(smtp, sessions).drain()
    session.expire_all()
    by_name = {service.contact_details(ctx.keys, c)["name"]: c for c in session.query(LookbackContact)}
    assert by_name["Ann Early"].status is ContactStatus.sent
    assert by_name["Eve Bounce"].status is ContactStatus.bounced
    assert by_name["Dee Post"].status is ContactStatus.sent
    assert by_name["Bob Before"].status is ContactStatus.excluded
    # Robin answers the letter with a new request: linked, and responded.
    request = recordsutil.request_at_package(session, ctx, {})
    request.received_at = datetime.now(UTC)
    session.flush()
    assert service.link_responses(session) == 1
    assert by_name["Robin Victim"].status is ContactStatus.responded
    assert by_name["Robin Victim"].request_id == request.id
    # Sending again writes to nobody twice.
    assert session.query(OutboxMessage).filter(OutboxMessage.status == MailStatus.sent).count() == 2


def test_someone_whose_request_delivered_is_not_written_to(session, ctx):
    request = recordsutil.request_at_package(session, ctx, {})
    request.status = Status.delivered
    session.flush()
    service.import_contacts(session, ctx.keys, b"contact_id,contacted_at,channel,name,email\n"
                            b"T-9,2024-08-01,email,Robin,Robin.Victim@Example.com\n", actor="tester")
    planned = service.plan(session)
    assert planned.candidates == 0 and planned.excluded["records provided"] == 1
