"""CPU cost of the edge limits (ombud.api.limits.EdgeGuard) per request, in process: the read endpoint's body
through the guard in front of a do-nothing app, against the do-nothing app alone, interleaved so both see the
same machine.

    .venv/bin/python benchmarks/bench_edge.py [--requests 20000] [--runs 5]
"""

from __future__ import annotations

import asyncio
import os
import time

import orjson

from benchutil import interleaved_medians, per_request_args
from ombud.api.limits import EdgeGuard

BODY = orjson.dumps({"customer_id": "A0123456789", "purpose": "case:123456", "fields": ["email", "phone"]})
SCOPE = {"type": "http", "method": "POST", "path": "/api/access/read", "query_string": b"",
         "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode()),
                     (b"authorization", b"Bearer omb_x")]}


async def _inner(scope, receive, send):
    message = await receive()
    assert message["body"] == BODY
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _receive():
    return {"type": "http.request", "body": BODY, "more_body": False}


async def _send(message):
    return None


async def _drive(app, n: int) -> float:
    started = time.process_time()
    for _ in range(n):
        await app(dict(SCOPE), _receive, _send)
    return (time.process_time() - started) / n * 1e6


def main() -> None:
    args = per_request_args()
    guarded = EdgeGuard(_inner)
    b, g = interleaved_medians(lambda: asyncio.run(_drive(_inner, args.requests)),
                               lambda: asyncio.run(_drive(guarded, args.requests)), args.runs)
    print(f"load {os.getloadavg()[0]:.1f}: bare {b:.2f} µs, with EdgeGuard {g:.2f} µs, "
          f"the guard costs {g - b:.2f} µs CPU per request (median of {args.runs} runs of {args.requests})")


if __name__ == "__main__":
    main()
