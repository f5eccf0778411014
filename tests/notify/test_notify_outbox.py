"""Enqueueing mail: rendered at once, idempotent on the dedupe key, bad input named, nothing half-written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ombud.errors import Conflict, InvalidInput, NotFound
from ombud.notify import outbox, templates
from ombud.notify.models import MailStatus, OutboxMessage
from ombud.notify.outbox import MailItem, enqueue_mail, enqueue_mail_many

SAMPLE = templates.sample_context("records_package_ready")


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(OutboxMessage))


def test_enqueue_renders_and_is_idempotent(session, settings):
    first = enqueue_mail(session, to="victim@example.com", template="records_package_ready", context=SAMPLE,
                         dedupe_key="vr:1:package", purpose="victim_request:VR-1", settings=settings)
    again = enqueue_mail(session, to="victim@example.com", template="records_package_ready", context=SAMPLE,
                         dedupe_key="vr:1:package", purpose="victim_request:VR-1", settings=settings)
    assert again.id == first.id
    assert _count(session) == 1
    assert first.status is MailStatus.pending
    assert "VR-2026-000123" in first.subject
    assert SAMPLE["link"] in first.body_text and SAMPLE["link"] in first.body_html
    assert first.message_id.startswith("<") and first.message_id.endswith("@ombud.example>")
    with pytest.raises(Conflict):
        enqueue_mail(session, to="other@example.com", template="records_package_ready", context=SAMPLE,
                     dedupe_key="vr:1:package", purpose="victim_request:VR-1", settings=settings)


def test_missing_template_field_fails_at_enqueue_naming_it(session, settings):
    context = {k: v for k, v in SAMPLE.items() if k != "link"}
    with pytest.raises(InvalidInput) as caught:
        enqueue_mail(session, to="victim@example.com", template="records_package_ready", context=context,
                     dedupe_key="k", purpose="p", settings=settings)
    assert "'link' is undefined" in caught.value.message
    assert "records_package_ready" in caught.value.message
    assert caught.value.field == "context"
    assert _count(session) == 0


@pytest.mark.parametrize("to", ["", "not an address", "a@b.example, c@d.example", "x@y.example\r\nBcc: z@z.example",
                                "@example.com"])
def test_bad_recipient_is_refused(session, settings, to):
    with pytest.raises(InvalidInput) as caught:
        enqueue_mail(session, to=to, template="records_package_ready", context=SAMPLE, dedupe_key="k",
                     purpose="p", settings=settings)
    assert caught.value.field == "to"


def test_unknown_template(session, settings):
    with pytest.raises(NotFound):
        enqueue_mail(session, to="a@example.com", template="no_such_template", context={}, dedupe_key="k",
                     purpose="p", settings=settings)
    with pytest.raises(InvalidInput):
        enqueue_mail(session, to="a@example.com", template="../etc/passwd", context={}, dedupe_key="k",
                     purpose="p", settings=settings)


def test_bulk_enqueue_skips_repeats_and_names_a_bad_item(session, settings):
    items = [MailItem(f"p{i}@example.com", "records_package_ready", SAMPLE, f"bulk:{i}", "incident:1")
             for i in range(50)]
    assert enqueue_mail_many(session, items + items[:5], settings=settings) == 50
    assert enqueue_mail_many(session, items, settings=settings) == 0
    bad = [*items[:3], MailItem("nope", "records_package_ready", SAMPLE, "bulk:x", "incident:1"),
           MailItem("ok@example.com", "records_package_ready", SAMPLE, "bulk:y", "incident:1")]
    with pytest.raises(InvalidInput) as caught:
        enqueue_mail_many(session, bad, settings=settings)
    assert caught.value.field == "items[3].to"
    assert _count(session) == 50


def test_retailer_folder_overrides_a_shipped_template(session, settings, tmp_path):
    folder = tmp_path / "mail-templates"
    folder.mkdir()
    (folder / "records_package_ready.txt.j2").write_text("Our own words for {{ reference }}: {{ link }}\n")
    custom = settings.model_copy(update={"mail_templates_dir": folder})
    message = enqueue_mail(session, to="v@example.com", template="records_package_ready", context=SAMPLE,
                           dedupe_key="own", purpose="p", settings=custom)
    assert message.body_text == f"Our own words for VR-2026-000123: {SAMPLE['link']}\n"
    assert templates.origin("records_package_ready", folder) == "retailer"
    assert "records_package_ready" in templates.available(folder)


def test_html_part_is_escaped(settings):
    rendered = templates.render("records_package_ready", {**SAMPLE, "reference": "<script>x</script>"})
    assert "<script>" not in rendered.html
    assert "<script>x</script>" in rendered.text  # plain text is not HTML


def test_sandbox_refuses_python_internals(tmp_path):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "evil.subject.j2").write_text("x")
    (folder / "evil.txt.j2").write_text("{{ ''.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(InvalidInput):
        templates.render("evil", {}, folder)


def test_every_shipped_template_renders_its_sample():
    for name in templates.available():
        rendered = templates.render(name, templates.sample_context(name))
        assert rendered.subject and rendered.text


def test_retry_only_dead_or_waiting(session, settings):
    message = enqueue_mail(session, to="v@example.com", template="records_package_ready", context=SAMPLE,
                           dedupe_key="r", purpose="p", settings=settings)
    message.status = MailStatus.sent
    session.flush()
    with pytest.raises(Conflict):
        outbox.retry_message(session, message.id, actor="tester")
    message.status = MailStatus.dead
    message.attempts = 3
    session.flush()
    assert outbox.retry_message(session, message.id, actor="tester").status is MailStatus.pending
    assert message.attempts == 0
