"""The hand-written MIME is what the email package reads back: every header and both bodies, whatever the text."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy

from hypothesis import given
from hypothesis import strategies as st

from ombud.notify.mailer import OutgoingMail, build_mime

_text = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r") | st.just("\n"),
                max_size=400)
_subject = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=120).map(
    lambda s: " ".join(s.split()) or "x")


@given(subject=_subject, text=_text, html=st.none() | _text, name=st.sampled_from(["", "Jördan Ëxample", "A, B"]))
def test_parsed_back_equal(subject, text, html, name):
    to = f'"{name}" <victim@example.com>' if name else "victim@example.com"
    mail = OutgoingMail(7, to, "<abc123@ombud.example>", subject, text, html,
                        datetime(2026, 12, 4, 12, 0, tzinfo=UTC))
    raw = build_mime(mail, "Ombud records <records@ombud.example>")
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Subject"] == subject
    assert parsed["Message-ID"] == "<abc123@ombud.example>"
    assert parsed["To"].addresses[0].addr_spec == "victim@example.com"
    assert parsed["To"].addresses[0].display_name == name
    assert parsed["From"].addresses[0].addr_spec == "records@ombud.example"
    parts = list(parsed.iter_parts()) if html else [parsed]
    assert parts[0].get_content_type() == "text/plain"
    assert parts[0].get_content().replace("\r\n", "\n") == text
    if html:
        assert parts[1].get_content_type() == "text/html"
        assert parts[1].get_content().replace("\r\n", "\n") == html
