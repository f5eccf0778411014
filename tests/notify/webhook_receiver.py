"""A real HTTP receiver on 127.0.0.1 playing the retailer's command endpoint (imported by name by the tests)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ombud.notify import signing


class Receiver:
    """Checks each POST's signature, answers 503 to the first `fail_first`, applies each idempotency key once."""

    def __init__(self, secret: bytes, fail_first: int = 0, answer: int = 202) -> None:
        self.secret = secret
        self.fail_first = fail_first
        self.answer = answer
        self.attempts: list[str] = []  # idempotency keys, one per POST
        self.applied: dict[str, dict] = {}  # key -> command, each once
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                key = self.headers.get(signing.IDEMPOTENCY_HEADER, "")
                receiver.attempts.append(key)
                try:
                    import time

                    signing.verify(receiver.secret, self.headers.get(signing.SIGNATURE_HEADER), body,
                                   int(time.time()))
                except signing.SignatureError:
                    receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                if receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.applied.setdefault(key, json.loads(body))
                self.send_response(receiver.answer)
                self.end_headers()

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ombud/commands"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
