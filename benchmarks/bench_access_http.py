"""`POST /api/access/read` throughput and latency with concurrent clients, server and load generator in
separate processes on this machine.

    .venv/bin/python benchmarks/bench_access_http.py [--runs 3] [--seconds 10] [--connections 32] [--workers 2]
                                                     [--database-url postgresql+psycopg://...]

Server: `uvicorn ombud.app:create_app --factory --workers N` over a scratch store (SQLite file by default, or the
given PostgreSQL database, which is rebuilt). Load: `wrk` (Debian package) with a Lua script posting the same
read (an agent's read of a customer's email and phone for their case) on keep-alive connections. After the runs
the store is checked: one decision row and one audit leaf per successful request. Prints per-run figures and
the median.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from access_seed import scratch_context, seed
from ombud.access.models import BrokerDecision
from ombud.audit.models import AuditEntry

LUA = """
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def to_ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(out: str) -> dict[str, float]:
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
              "requests": int(re.search(r"(\d+) requests in", out).group(1)),
              "non2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0,
              "socket_errors": 0}
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        result["socket_errors"] = sum(int(x) for x in m.groups())
    for q in ("50", "99"):
        result[f"p{q}"] = to_ms(re.search(rf"\s{q}(?:\.000)?%\s+([\d.]+(?:us|ms|s))", out).group(1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (rebuilt!); default: scratch SQLite")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    ctx = scratch_context(args.database_url)
    seeded = seed(ctx)
    ctx.keys  # noqa: B018 (generate the keys once, before the workers start)
    port = free_port()
    env = {**os.environ, "OMBUD_DATA_DIR": str(ctx.settings.data_dir), "OMBUD_ENV": "test"}
    if args.database_url:
        env["OMBUD_DATABASE_URL"] = args.database_url
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "ombud.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(args.workers), "--log-level", "warning", "--no-access-log"],
        env=env, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    body = json.dumps({"customer_id": seeded.customer_id, "fields": ["email", "phone"],
                       "purpose": f"case:{seeded.case_id}"})
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        check = httpx.post(f"{base}/api/access/read", content=body,
                           headers={"authorization": f"Bearer {seeded.token}", "content-type": "application/json"})
        assert check.status_code == 200, check.text
        script = Path(tempfile.mkdtemp()) / "read.lua"
        script.write_text(LUA.format(body=body, token=seeded.token))
        # Warm every worker's caches (policy set, entities, prepared statements) before measuring.
        subprocess.run(["wrk", "-t1", "-c4", "-d2s", "-s", str(script), f"{base}/api/access/read"],
                       capture_output=True, check=True)
        results = []
        table = Table("run", "requests/s", "p50 ms", "p99 ms", "requests", "non-2xx", "socket errors",
                      title=f"POST /api/access/read, {args.connections} connections, {args.workers} workers, "
                            f"{ctx.engine.dialect.name}")
        for run in range(1, args.runs + 1):
            out = subprocess.run(
                ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
                 "-s", str(script), f"{base}/api/access/read"],
                capture_output=True, text=True, check=True,
            ).stdout
            r = parse_wrk(out)
            results.append(r)
            table.add_row(str(run), f"{r['rps']:.0f}", f"{r['p50']:.2f}", f"{r['p99']:.2f}", str(r["requests"]),
                          str(r["non2xx"]), str(r["socket_errors"]))
        table.add_row("median", f"{statistics.median(r['rps'] for r in results):.0f}",
                      f"{statistics.median(r['p50'] for r in results):.2f}",
                      f"{statistics.median(r['p99'] for r in results):.2f}", "", "", "", style="bold")
        Console().print(table)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    with ctx.sessions() as session:
        decisions = session.scalar(select(func.count()).select_from(BrokerDecision))
        leaves = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "access.read"))
    ok = sum(r["requests"] - r["non2xx"] for r in results)
    print(f"store: {decisions} decision rows, {leaves} access.read audit leaves "
          f"(measured runs completed {ok} requests; the check and the warm-up made the rest)")
    ctx.close()


if __name__ == "__main__":
    main()
