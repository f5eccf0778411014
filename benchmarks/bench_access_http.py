"""`POST /api/access/read` throughput and latency with concurrent clients, server and load generator in
separate processes on this machine.

    .venv/bin/python benchmarks/bench_access_http.py [--runs 3] [--seconds 10] [--connections 32] [--workers 2]
                                                     [--agents 64] [--database-url postgresql+psycopg://...]

Server: `uvicorn ombud.app:create_app --factory --workers N` (httptools and uvloop when installed) over a scratch
store (SQLite file by default, or the given PostgreSQL database, which is rebuilt). Load: `wrk` (Debian package)
with a Lua script posting reads on keep-alive connections; each request is one of `--agents` support agents
reading the email and phone of the customer of their own open ticket, in turn (real traffic comes from many
employees about many customers; `--agents 1` makes every request the same employee's). Besides wrk's figures,
the script reports the CPU the server processes (and, on PostgreSQL, the database's backends) spent per
request, which stays meaningful when other work shares the machine. After the runs the store is checked: one
`access.read` audit leaf (one broker decision, as the decisions view shows) per request that reached the server,
and a gapless audit log.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
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
from sqlalchemy import func, select, text

from access_seed import scratch_context, seed
from ombud.access.events import VIEW as ACCESS_READ_EVENTS
from ombud.audit.models import AuditEntry

LUA = """
local reads = {{
{reads}
}}
local n = 0
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("offset", counter * 7919)
end
init = function(args)
  n = offset or 0
end
request = function()
  n = n % #reads + 1
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. reads[n][1]
  return wrk.format("POST", nil, nil, reads[n][2])
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def to_ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


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


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (from /proc)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def server_pids(server: subprocess.Popen) -> list[int]:
    out = subprocess.run(["pgrep", "-g", str(server.pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def backend_pids(ctx) -> list[int]:
    """The PostgreSQL backends serving this database, other than this script's own connection."""
    if ctx.engine.dialect.name != "postgresql":
        return []
    with ctx.engine.connect() as conn:
        rows = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                 "AND pid <> pg_backend_pid()")).all()
    return [r[0] for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--agents", type=int, default=64, help="distinct employees (each with a case and a token)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (rebuilt!); default: scratch SQLite")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")

    ctx = scratch_context(args.database_url)
    seeded = seed(ctx, agents=args.agents)
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
    bodies = [(r.token, json.dumps({"customer_id": r.customer_id, "fields": ["email", "phone"],
                                    "purpose": f"case:{r.case_id}"})) for r in seeded.readers]
    console = Console(width=150)
    results: list[dict[str, float]] = []
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        for token, body in bodies[:3]:
            check = httpx.post(f"{base}/api/access/read", content=body,
                               headers={"authorization": f"Bearer {token}", "content-type": "application/json"})
            assert check.status_code == 200, check.text
        script = Path(tempfile.mkdtemp()) / "read.lua"
        script.write_text(LUA.format(reads=",\n".join(f"  {{{json.dumps(t)}, {json.dumps(b)}}}" for t, b in bodies)))
        # Warm every worker's caches (policy set, entities, prepared statements) before measuring.
        subprocess.run(["wrk", "-t1", "-c8", "-d3s", "-s", str(script), f"{base}/api/access/read"],
                       capture_output=True, check=True)
        pids = server_pids(server)
        table = Table("run", "requests/s", "p50 ms", "p99 ms", "requests", "non-2xx", "socket errors",
                      "server CPU µs/req", "db CPU µs/req", "wrk CPU µs/req", "load avg",
                      title=f"POST /api/access/read, {args.connections} connections, {args.workers} workers, "
                            f"{args.agents} agents, {ctx.engine.dialect.name}")
        for run in range(1, args.runs + 1):
            backends = backend_pids(ctx)
            server_before, db_before = cpu_seconds(pids), cpu_seconds(backends)
            wrk_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            out = subprocess.run(
                ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", "--latency",
                 "-s", str(script), f"{base}/api/access/read"],
                capture_output=True, text=True, check=True,
            ).stdout
            wrk_after = resource.getrusage(resource.RUSAGE_CHILDREN)
            r = parse_wrk(out)
            n = max(r["requests"], 1)
            r["server_cpu"] = (cpu_seconds(pids) - server_before) / n * 1e6
            r["db_cpu"] = (cpu_seconds(backends) - db_before) / n * 1e6
            wrk_cpu = (wrk_after.ru_utime + wrk_after.ru_stime) - (wrk_before.ru_utime + wrk_before.ru_stime)
            r["wrk_cpu"] = wrk_cpu / n * 1e6
            r["load"] = os.getloadavg()[0]
            results.append(r)
            table.add_row(str(run), f"{r['rps']:.0f}", f"{r['p50']:.2f}", f"{r['p99']:.2f}", str(r["requests"]),
                          str(r["non2xx"]), str(r["socket_errors"]), f"{r['server_cpu']:.0f}",
                          f"{r['db_cpu']:.0f}" if backends else "-", f"{r['wrk_cpu']:.0f}", f"{r['load']:.1f}")

        def med(key: str, fmt: str = "{:.0f}") -> str:
            return fmt.format(statistics.median(r[key] for r in results))

        table.add_row("median", med("rps"), med("p50", "{:.2f}"), med("p99", "{:.2f}"), "", "", "",
                      med("server_cpu"), med("db_cpu") if args.database_url else "-", med("wrk_cpu"),
                      med("load", "{:.1f}"), style="bold")
        console.print(table)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    with ctx.sessions() as session:
        decisions = session.scalar(select(func.count()).select_from(ACCESS_READ_EVENTS))
        leaves = session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "access.read"))
        events = session.scalar(select(func.count()).select_from(AuditEntry))
        top = session.scalar(select(func.max(AuditEntry.idx)))
    ok = sum(r["requests"] - r["non2xx"] for r in results)
    gapless = top is not None and top + 1 == events
    print(f"store: {decisions} decisions in the view, {leaves} access.read audit leaves, audit log gapless: {gapless} "
          f"(measured runs completed {ok} requests; the checks and the warm-up made the rest)")
    ctx.close()


if __name__ == "__main__":
    main()
