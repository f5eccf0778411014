"""A local SMTP server that keeps each message once by Message-ID: for tests, benchmarks and trying Ombud out.

Built on aiosmtpd (a real SMTP implementation: EHLO, optional STARTTLS and AUTH), bound to 127.0.0.1 on an
ephemeral port. It counts every DATA it accepts (`accepted`) and keeps one copy per Message-ID (`messages`), so
`duplicates` is how many deliveries a receiver that dedupes by Message-ID dropped. `fail_first` refuses that
many DATA commands with 451 (try later), to exercise retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class DedupingHandler:
    """aiosmtpd handler: one stored message per Message-ID, counts of everything accepted."""

    def __init__(self, fail_first: int = 0, refuse: frozenset[str] = frozenset()) -> None:
        self.messages: dict[str, bytes] = {}
        self.accepted = 0
        self.failures_left = fail_first
        self.refuse = refuse  # recipients refused permanently (550)
        self.lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            if self.failures_left > 0:
                self.failures_left -= 1
                return "451 4.3.0 try again later"
            content: bytes = envelope.original_content or envelope.content
            message_id = _message_id(content)
            self.accepted += 1
            self.messages.setdefault(message_id, content)
        return "250 OK queued"

    @property
    def duplicates(self) -> int:
        return self.accepted - len(self.messages)

    def parsed(self) -> list[Message]:
        with self.lock:
            return [message_from_bytes(raw) for raw in self.messages.values()]


def _message_id(content: bytes) -> str:
    head = content.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    for line in head.splitlines():
        if line[:11].lower() == b"message-id:":
            return line[11:].strip().decode("ascii", "replace")
    return f"(none {len(content)})"


class SmtpSink:
    """The server running on its own event loop thread; `port` is where it listens."""

    def __init__(self, handler: DedupingHandler, *, tls_context: ssl.SSLContext | None = None,
                 credentials: tuple[str, str] | None = None) -> None:
        self.handler = handler
        self.tls_context = tls_context
        self.credentials = credentials
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, name="smtp-sink", daemon=True)

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.credentials is not None and (
            data.login.decode(), data.password.decode()) == self.credentials
        return AuthResult(success=ok, handled=False)

    def _factory(self) -> SMTP:
        return SMTP(
            self.handler, hostname="sink.test", tls_context=self.tls_context,
            require_starttls=self.tls_context is not None, auth_required=self.credentials is not None,
            authenticator=self._authenticate if self.credentials else None,
            auth_require_tls=self.tls_context is not None, loop=self.loop,
        )

    def start(self) -> SmtpSink:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(
            self.loop.create_server(self._factory, host="127.0.0.1", port=0), self.loop
        )
        self._server = future.result(timeout=10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        server = self._server
        if server is not None:

            async def _close() -> None:
                server.close()
                await server.wait_closed()

            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(_close(), self.loop).result(timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


@contextlib.contextmanager
def running_sink(handler: DedupingHandler | None = None, **kwargs: Any) -> Iterator[SmtpSink]:
    """A started sink, stopped on exit."""
    sink = SmtpSink(handler or DedupingHandler(), **kwargs).start()
    try:
        yield sink
    finally:
        sink.stop()
