"""How mail leaves: a small Mailer protocol, an SMTP adapter (STARTTLS, auth) and a file adapter (.eml files).

A mailer sends a batch and says, per message, whether it went, failed for now (try again later) or was refused
for good. Every attempt of a message carries the same Message-ID, so a receiver can drop a repeat.
"""

from __future__ import annotations

import binascii
import contextlib
import hashlib
import logging
import os
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr, parseaddr
from pathlib import Path
from typing import Protocol

from ombud.config import Settings
from ombud.errors import ConfigurationError

log = logging.getLogger("ombud.notify.mailer")


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """A claimed outbox message, as the mailer needs it."""

    id: int
    to: str
    message_id: str
    subject: str
    text: str
    html: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SendResult:
    """What became of one message: sent, or an error that is `permanent` (give up) or not (try again)."""

    id: int
    sent: bool
    error: str | None = None
    permanent: bool = False


class Mailer(Protocol):
    """Sends mail; one instance per worker, reused across batches."""

    def send(self, messages: list[OutgoingMail]) -> list[SendResult]:
        """Send each message; one result per message, in order."""
        ...

    def close(self) -> None:
        """Release any connection."""
        ...


def _header(value: str) -> str:
    """A header value: as is when ASCII, else RFC 2047 encoded words (UTF-8)."""
    if value.isascii():
        return value
    return Header(value, "utf-8", maxlinelen=998).encode()


def _mailbox(value: str) -> str:
    name, address = parseaddr(value)
    return formataddr((name, address), charset="utf-8") if name else address


def _part(content_type: str, text: str) -> bytes:
    body = binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)
    return (f"Content-Type: {content_type}; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
            .encode() + body.replace(b"\n", b"\r\n"))


def build_mime(mail: OutgoingMail, mail_from: str) -> bytes:
    """The message as RFC 5322 bytes: a quoted-printable UTF-8 text part, the HTML alternative if any, and the
    stable Message-ID.

    Written out directly rather than through email.message.EmailMessage: that builder costs milliseconds per
    message, which alone would cap a worker far below the outbox's 500 messages a second; the parts are the
    standard library's encoders (binascii quoted-printable, email.header, email.utils) and a test parses the
    result back with the email package to check every header and body.
    """
    headers = (
        f"From: {_mailbox(mail_from)}\r\nTo: {_mailbox(mail.to)}\r\nSubject: {_header(mail.subject)}\r\n"
        f"Date: {format_datetime(mail.created_at)}\r\nMessage-ID: {mail.message_id}\r\n"
        "Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n"
    ).encode()
    text = _part("text/plain", mail.text)
    if not mail.html:
        return headers + text
    boundary = "=_ombud_" + hashlib.sha256(mail.message_id.encode()).hexdigest()[:32]
    return (headers + f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n--{boundary}\r\n'.encode()
            + text + f"\r\n--{boundary}\r\n".encode() + _part("text/html", mail.html)
            + f"\r\n--{boundary}--\r\n".encode())


def envelope_address(mailbox: str) -> str:
    """The bare address of a mailbox (`Name <a@b>` -> `a@b`), for the SMTP envelope."""
    return parseaddr(mailbox)[1]


class FileMailer:
    """Writes each message as `<data_dir>/mail/<Message-ID digest>.eml` (the embedded default; the demo reads them).

    The file name comes from the Message-ID, and each file is written to a temporary name and renamed, so a
    repeated attempt replaces the same file: one file per message, never a half-written one.
    """

    def __init__(self, folder: Path, mail_from: str) -> None:
        self.folder = folder
        self.mail_from = mail_from

    def path_for(self, message_id: str) -> Path:
        stem = message_id.strip("<>").split("@", 1)[0]
        return self.folder / f"{stem}.eml"

    def send(self, messages: list[OutgoingMail]) -> list[SendResult]:
        self.folder.mkdir(parents=True, exist_ok=True)
        results = []
        for mail in messages:
            target = self.path_for(mail.message_id)
            temporary = target.with_suffix(f".{os.getpid()}.tmp")
            try:
                temporary.write_bytes(build_mime(mail, self.mail_from))
                temporary.replace(target)
            except OSError as exc:
                results.append(SendResult(mail.id, False, f"writing the .eml file failed: {exc.strerror}"))
                continue
            results.append(SendResult(mail.id, True))
        return results

    def close(self) -> None:
        return None


class SmtpMailer:
    """Sends through an SMTP server: one connection reused across batches, STARTTLS (required when configured)
    or implicit TLS, and login when a username is set. A 5xx answer is permanent; anything else is retried."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.mail_from = settings.mail_from
        self.envelope_from = envelope_address(settings.mail_from)
        self._connection: smtplib.SMTP | None = None

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.settings.smtp_ca_file) if self.settings.smtp_ca_file
                                          else None)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.smtp_ssl:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds, context=self._tls_context()
            )
        else:
            connection = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_seconds)
        try:
            connection.ehlo()
            if s.smtp_starttls and not s.smtp_ssl:
                if not connection.has_extn("starttls"):  # never fall back to sending in the clear
                    raise smtplib.SMTPNotSupportedError("the server does not offer STARTTLS (OMBUD_SMTP_STARTTLS)")
                connection.starttls(context=self._tls_context())
                connection.ehlo()
            if s.smtp_username:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                connection.login(s.smtp_username, password)
        except Exception:
            with contextlib.suppress(Exception):
                connection.close()
            raise
        return connection

    def _drop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.quit()
            self._connection = None

    def send(self, messages: list[OutgoingMail]) -> list[SendResult]:
        results: list[SendResult] = []
        for position, mail in enumerate(messages):
            try:
                if self._connection is None:
                    self._connection = self._connect()
                refused = self._connection.sendmail(
                    self.envelope_from, [envelope_address(mail.to)], build_mime(mail, self.mail_from)
                )
            except smtplib.SMTPRecipientsRefused as exc:
                code, _ = next(iter(exc.recipients.values()))
                results.append(SendResult(mail.id, False, f"recipient refused ({code})", permanent=code >= 500))
                self._reset()
            except smtplib.SMTPResponseException as exc:  # sender refused, data refused, auth failed, ...
                results.append(SendResult(mail.id, False, f"server answered {exc.smtp_code}",
                                          permanent=500 <= exc.smtp_code < 600 and exc.smtp_code != 530))
                self._reset()
            except (smtplib.SMTPException, OSError) as exc:
                # Connection lost or refused: this and the rest of the batch wait for the next attempt.
                log.warning("SMTP connection failed: %s", type(exc).__name__)
                self._drop()
                error = f"connection failed: {type(exc).__name__}"
                results.extend(SendResult(m.id, False, error) for m in messages[position:])
                return results
            else:
                if refused:  # only possible with several recipients; each message has one
                    results.append(SendResult(mail.id, False, "recipient refused", permanent=True))
                else:
                    results.append(SendResult(mail.id, True))
        return results

    def _reset(self) -> None:
        if self._connection is not None:
            try:
                self._connection.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()

    def close(self) -> None:
        self._drop()


def make_mailer(settings: Settings) -> Mailer:
    """The mailer the settings choose; production refuses the file mailer."""
    if settings.mailer == "smtp":
        return SmtpMailer(settings)
    if settings.is_production:
        raise ConfigurationError("production sends real mail: set OMBUD_MAILER=smtp and OMBUD_SMTP_*", field="mailer")
    return FileMailer(settings.data_dir / "mail", settings.mail_from)
