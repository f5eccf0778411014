"""The incident workflow as analysts and privacy officers meet it in the console: an incident opened from the alert
page, notice wording edited and previewed on real affected customers, a declared list uploaded, delivery and
resends, letters and regulator reports."""

from __future__ import annotations

import re

from accessutil import employee
from fastapi.testclient import TestClient
from incidentutil import alert_of, build, signed_in
from sqlalchemy import select, update

from ombud.audit.models import AuditEntry
from ombud.incidents import service
from ombud.incidents.models import IncidentStatus, Notice, NoticeTemplate
from ombud.notify.models import MailStatus, OutboxMessage
from ombud.staff import service as staff_service
from ombud.staff.models import Role

_browser = signed_in


def _form_values(html: str) -> dict[str, str]:
    """The named inputs and textareas of the "Open incident" form on the alert page, as the browser would post."""
    form = html[html.index('action="/insider/alerts/'):]
    form = form[:form.index("</form>")]
    values = {m[0]: m[1] for m in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form)}
    values |= {m[0]: m[1] for m in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', form)}
    return values


def test_an_analyst_opens_the_incident_from_the_alert_page_prefilled_and_linked(app, session, settings, frozen):
    s = build(session, frozen)
    alert = alert_of(session, s, "escalated")
    analyst = employee(session, Role.security_analyst)
    browser, csrf = _browser(app, session, settings, analyst)
    page = browser.get(f"/insider/alerts/{alert.id}")
    assert page.status_code == 200 and "Open incident" in page.text
    values = _form_values(page.text)
    assert values["actors"] == s.insider.external_id and values["start"] == s.window[0].strftime("%Y-%m-%dT%H:%M:%S")
    assert "no reason on record" in values["description"]
    values["title"] = "Contact details sold by an agent"
    opened = browser.post(f"/insider/alerts/{alert.id}/incident", data={**values, "csrf_token": csrf})
    assert opened.status_code == 303 and opened.headers["location"].startswith("/incidents/"), opened.text
    incident_id = int(opened.headers["location"].rsplit("/", 1)[1])
    incident = service.get_incident(session, incident_id)
    assert incident.title == "Contact details sold by an agent" and incident.source_alert_id == alert.id
    assert incident.actors == [s.insider.external_id] and incident.window_start == s.window[0]
    # The alert's side of the link: its page names the incident, and its history (the log) records it.
    again = browser.get(f"/insider/alerts/{alert.id}")
    assert f'data-incident="{incident_id}"' in again.text and 'action="/insider/alerts/' + str(alert.id) + \
        '/incident"' not in again.text
    leaf = session.scalar(select(AuditEntry).where(AuditEntry.action == "insider.alert.incident",
                                                   AuditEntry.subject_id == str(alert.id)))
    assert leaf is not None and leaf.actor_id == analyst.external_id
    # A second post (a double click) opens nothing new.
    browser.post(f"/insider/alerts/{alert.id}/incident", data={**values, "csrf_token": csrf})
    assert len(service.list_incidents(session)) == 1


def test_an_alert_not_escalated_offers_no_incident(app, session, settings, frozen):
    s = build(session, frozen)
    alert = alert_of(session, s, "new")
    browser, csrf = _browser(app, session, settings, employee(session, Role.security_analyst))
    assert "Open incident" not in browser.get(f"/insider/alerts/{alert.id}").text
    refused = browser.post(f"/insider/alerts/{alert.id}/incident", data={"csrf_token": csrf})
    assert refused.status_code == 303 and refused.headers["location"] == f"/insider/alerts/{alert.id}"
    assert service.list_incidents(session) == []


def _scoped_incident(app, session, settings, s):
    analyst = employee(session, Role.security_analyst)
    browser, csrf = _browser(app, session, settings, analyst)
    opened = browser.post("/incidents", data={
        "csrf_token": csrf, "title": "Emails sold", "kind": "insider", "actors": s.insider.external_id,
        "start": s.window[0].strftime("%Y-%m-%dT%H:%M"), "end": s.window[1].strftime("%Y-%m-%dT%H:%M"),
        "discovered": s.window[1].strftime("%Y-%m-%dT%H:%M"), "description": "An employee sold emails."})
    where = opened.headers["location"]
    assert browser.post(f"{where}/scope", data={"csrf_token": csrf}).status_code == 303
    browser.post(f"{where}/wording", data={"csrf_token": csrf, "what_happened": "An employee sold emails.",
                                           "what_we_are_doing": "We ended the employee's access."})
    return browser, csrf, where, int(where.rsplit("/", 1)[1])


def _wording(browser, where):
    page = browser.get(f"{where}/notice-wording").text
    subject = re.search(r'name="subject" value="([^"]*)"', page)[1]
    text = re.search(r'name="text" rows="24" required>([^<]*)</textarea>', page)[1]
    import html

    return html.unescape(subject), html.unescape(text)


def test_wording_is_previewed_on_real_customers_refused_with_the_field_named_and_versioned(
        app, session, settings, frozen):
    s = build(session, frozen)
    browser, csrf, where, incident_id = _scoped_incident(app, session, settings, s)
    subject, text = _wording(browser, where)
    assert "What Information Was Involved" in text  # the editor starts from the wording in use
    ca = s.customers["ca"].external_id
    broken = text.replace("{{ contact }}", "{{ hotline_number }}")
    preview = browser.post(f"{where}/notice-wording/preview", data={
        "csrf_token": csrf, "subject": subject, "text": broken, "customer": ca})
    assert preview.status_code == 422 and "hotline_number" in preview.text and "data-preview-error" in preview.text
    saved = browser.post(f"{where}/notice-wording", data={"csrf_token": csrf, "subject": subject, "text": broken})
    assert saved.status_code == 422 and "Not saved" in saved.text and "hotline_number" in saved.text
    assert broken.count("hotline_number") and "hotline_number" in saved.text  # the draft is kept on the page
    assert session.scalars(select(NoticeTemplate)).all() == []
    no_heading = text.replace("What You Can Do", "Next steps")
    refused = browser.post(f"{where}/notice-wording", data={"csrf_token": csrf, "subject": subject,
                                                           "text": no_heading})
    assert refused.status_code == 422 and "What You Can Do" in refused.text
    mine = text.replace("We are writing to tell you", "We at the store are writing to tell you")
    good = browser.post(f"{where}/notice-wording/preview", data={
        "csrf_token": csrf, "subject": subject, "text": mine, "customer": ca})
    assert good.status_code == 200 and "We at the store are writing" in good.text
    # One real affected customer per jurisdiction, the chosen one first; names masked; their own items.
    shown = re.findall(r'data-preview="([^"]+)"', good.text)
    assert shown[0] == "CA" and sorted(shown[1:]) == ["NY", "TX", "default"]
    assert s.customers["ca"].name not in good.text and "your phone number" in good.text
    assert browser.post(f"{where}/notice-wording", data={"csrf_token": csrf, "subject": subject, "text": mine,
                                                         "note": "friendlier opening"}).status_code == 303
    version = session.scalar(select(NoticeTemplate))
    assert (version.version, version.owner, version.note) == (1, f"incident:{incident_id}", "friendlier opening")
    leaf = session.scalar(select(AuditEntry).where(AuditEntry.action == "incident.wording.version"))
    assert leaf.subject_id == str(incident_id) and "store are writing" not in str(leaf.detail)
    page = browser.get(f"{where}/notice-wording").text
    assert 'data-version="1"' in page and "friendlier opening" in page


def test_the_approval_pins_the_wording_and_sending_uses_exactly_that_version(app, session, settings, frozen):
    s = build(session, frozen)
    browser, csrf, where, incident_id = _scoped_incident(app, session, settings, s)
    officer = employee(session, Role.privacy_officer)
    o_browser, o_csrf = _browser(app, session, settings, officer)
    subject, text = _wording(browser, where)
    first = text.replace("We are writing to tell you", "VERSION-ONE: we are writing to tell you")
    assert browser.post(f"{where}/notice-wording", data={"csrf_token": csrf, "subject": subject,
                                                         "text": first}).status_code == 303
    dry = o_browser.get(f"{where}/preview")
    assert "VERSION-ONE" in dry.text and "this incident&#39;s wording, version 1" in dry.text
    assert o_browser.post(f"{where}/approve", data={"csrf_token": o_csrf}).status_code == 303
    incident = service.get_incident(session, incident_id)
    session.refresh(incident)
    assert incident.status is IncidentStatus.approved
    approved_id = incident.approved_template_id
    # The retailer's default changes after the approval: the approved notices do not move.
    default = browser.get("/incidents/notice-wording")
    assert "Only a privacy officer" in default.text
    default_text = text.replace("We are writing", "DEFAULT-TWO: we are writing")
    changed = o_browser.post("/incidents/notice-wording", data={"csrf_token": o_csrf, "subject": subject,
                                                                "text": default_text})
    assert changed.status_code == 303
    sent = browser.post(f"{where}/send", data={"csrf_token": csrf})
    assert sent.status_code == 303
    bodies = session.scalars(select(OutboxMessage.body_text).where(OutboxMessage.purpose == f"incident:{incident_id}"))
    bodies = list(bodies)
    assert len(bodies) == 4 and all("VERSION-ONE" in b and "DEFAULT-TWO" not in b for b in bodies)
    assert set(session.scalars(select(Notice.template_id).where(Notice.incident_id == incident_id))) == {approved_id}
    # A new version after sending is refused: the notices went out with the approved words.
    late = browser.post(f"{where}/notice-wording", data={"csrf_token": csrf, "subject": subject, "text": first})
    assert late.status_code == 422 and "fixed" in late.text


def test_a_wording_change_after_approval_lets_the_approval_lapse(app, session, settings, frozen):
    s = build(session, frozen)
    browser, csrf, where, incident_id = _scoped_incident(app, session, settings, s)
    o_browser, o_csrf = _browser(app, session, settings, employee(session, Role.privacy_officer))
    o_browser.post(f"{where}/approve", data={"csrf_token": o_csrf})
    incident = service.get_incident(session, incident_id)
    session.refresh(incident)
    assert incident.status is IncidentStatus.approved and incident.approved_template_id is not None
    pinned = session.get(NoticeTemplate, incident.approved_template_id)
    assert pinned.note == "the mail template files as approved"  # the files, stored so they cannot move
    subject, text = _wording(browser, where)
    browser.post(f"{where}/notice-wording", data={"csrf_token": csrf, "subject": subject, "text": text + "\nP.S.\n"})
    session.refresh(incident)
    assert incident.status is IncidentStatus.scoped and incident.approved_template_id is None
    assert browser.post(f"{where}/send", data={"csrf_token": csrf}).status_code == 303
    assert session.scalars(select(Notice)).all() == []


def test_a_declared_list_is_uploaded_checked_whole_and_shown_with_its_source(app, session, settings, frozen):
    s = build(session, frozen)
    analyst = employee(session, Role.security_analyst)
    browser, csrf = _browser(app, session, settings, analyst)
    opened = browser.post("/incidents", data={
        "csrf_token": csrf, "title": "Vendor breach", "kind": "vendor", "actors": "",
        "start": s.window[0].strftime("%Y-%m-%dT%H:%M"), "end": s.window[1].strftime("%Y-%m-%dT%H:%M"),
        "discovered": s.window[1].strftime("%Y-%m-%dT%H:%M")})
    where = opened.headers["location"]
    incident_id = int(where.rsplit("/", 1)[1])
    ca, tx = s.customers["ca"].external_id, s.customers["tx"].external_id
    bad = f"customer_id,data_class,first_at\n{ca},contact,\n{tx},contact,yesterday\n"
    refused = browser.post(f"/incidents/declared/{incident_id}", data={"csrf_token": csrf},
                           files={"file": ("vendor-list.csv", bad.encode(), "text/csv")})
    assert refused.status_code == 303
    page = browser.get(where).text
    assert "vendor-list.csv, line 3, first_at" in page and "Nothing stored" in page
    assert service.get_incident(session, incident_id).current_scope_id is None
    good = f"customer_id,data_class\n{ca},contact\n{tx},address\n{ca},contact\n"
    browser.post(f"/incidents/declared/{incident_id}", data={"csrf_token": csrf},
                 files={"file": ("vendor-list.csv", good.encode(), "text/csv")})
    page = browser.get(where).text
    assert 'data-customers="2"' in page and "declared:vendor-list.csv" in page
    # A new scope without a file keeps the list.
    assert browser.post(f"{where}/scope", data={"csrf_token": csrf}).status_code == 303
    assert 'data-customers="2"' in browser.get(where).text and "v2" in browser.get(where).text


def test_delivery_is_tracked_per_customer_and_a_bounce_is_resent_from_the_console(app, session, settings, frozen,
                                                                                    tmp_path):
    s = build(session, frozen)
    browser, csrf, where, incident_id = _scoped_incident(app, session, settings, s)
    o_browser, o_csrf = _browser(app, session, settings, employee(session, Role.privacy_officer))
    o_browser.post(f"{where}/approve", data={"csrf_token": o_csrf})
    browser.post(f"{where}/send", data={"csrf_token": csrf})
    ca = s.customers["ca"].external_id
    session.execute(update(OutboxMessage).where(OutboxMessage.dedupe_key == f"incident:{incident_id}:{ca}:email:1")
                    .values(status=MailStatus.dead))
    session.commit()
    bounced = browser.get(where, params={"delivery": "bounced"}).text
    assert f'data-notice="{ca}-email"' in bounced and bounced.count("data-notice=") == 1
    resent = browser.post(f"{where}/resend", data={"csrf_token": csrf, "customer": ca, "channel": "letter"})
    assert resent.status_code == 303
    page = browser.get(where).text
    assert f'data-notice="{ca}-letter"' in page and "letter queued" in page
    printed = browser.post(f"{where}/letters", data={"csrf_token": csrf})
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF")
    assert "letter printed" in browser.get(where).text


def test_regulator_report_pdf_and_submission_from_the_console(app, session, settings, frozen):
    from ombud.incidents.models import DeadlineKind, IncidentDeadline

    s = build(session, frozen)
    browser, csrf, where, incident_id = _scoped_incident(app, session, settings, s)
    deadline = IncidentDeadline(incident_id=incident_id, jurisdiction="TX", kind=DeadlineKind.regulator,
                                due_at=s.window[1], customers=1, basis="test: a regulator deadline")
    session.add(deadline)
    session.commit()
    pdf = browser.get(f"/api/incidents/{incident_id}/reports/TX.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert browser.post(f"{where}/reports/TX/submitted", data={"csrf_token": csrf}).status_code == 303
    session.refresh(deadline)
    assert deadline.met_at is not None


def test_the_api_previews_and_versions_wording_naming_the_missing_field(app, session, settings, frozen):
    s = build(session, frozen)
    _browser_client, _csrf, _where, incident_id = _scoped_incident(app, session, settings, s)
    token = staff_service.create_api_token(session, employee(session, Role.security_analyst), name="tool").token
    session.commit()
    api = TestClient(app, headers={"authorization": f"Bearer {token}"})
    current = api.get(f"/api/incidents/{incident_id}/notice-wording").json()
    assert current["current"]["template_id"] is None and current["versions"] == []
    draft = {"subject": current["current"]["subject"], "text": current["current"]["text"] + "\n{{ coupon_code }}\n"}
    previews = api.post(f"/api/incidents/{incident_id}/notice-wording/preview", json=draft).json()
    assert {p["jurisdiction"] for p in previews} == {"CA", "TX", "NY", "default"}
    assert all("coupon_code" in p["error"] for p in previews)
    refused = api.post(f"/api/incidents/{incident_id}/notice-wording", json=draft)
    assert refused.status_code == 422 and "coupon_code" in refused.json()["detail"]
    draft["text"] = current["current"]["text"] + "\nThank you.\n"
    saved = api.post(f"/api/incidents/{incident_id}/notice-wording", json={**draft, "note": "thanks"})
    assert saved.status_code == 201 and saved.json()["version"] == 1
    assert api.get(f"/api/incidents/{incident_id}/notice-wording").json()["versions"][0]["note"] == "thanks"
    assert api.post("/api/incidents/notice-wording", json=draft).status_code == 403  # the default: officers only
