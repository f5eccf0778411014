"""Portal submission with a 5 MB upload, in-process: POST /request (multipart form, the file checked by content,
encrypted, the request, its evidence, two audit leaves, the receipt in the outbox, one commit) through the
FastAPI test client on a scratch store. Prints p50 and p95 per run and the medians over runs.

    .venv/bin/python benchmarks/bench_requests_portal.py --runs 3 --submissions 40
    .venv/bin/python benchmarks/bench_requests_portal.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench_a
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from benchutil import load_average, load_line, print_markdown, reset_postgres
from ombud import migrate
from ombud.app import create_app
from ombud.config import Environment, Settings
from ombud.context import Context

FORM = {"full_name": "Jane Quinn Doe", "email": "jane.doe@example.com", "phone": "217-555-0143",
        "line1": "12 Oak Street", "line2": "Apt 4B", "city": "Springfield", "region": "IL", "postal_code": "62704",
        "date_of_birth": "1984-07-19", "ssn": "123-45-6789", "card_numbers": "4111 1111 1111 1111",
        "contact_preference": "email", "statement_true": "yes", "report_kind": "ftc"}


def five_mb_pdf() -> bytes:
    body = os.urandom(5 * 1024 * 1024 - 64)  # incompressible, like a scan
    return b"%PDF-1.7\n%" + body + b"\n%%EOF\n"


def one_run(client: TestClient, count: int, upload: bytes) -> list[float]:
    times = []
    for _ in range(count):
        form = {**FORM, "idempotency_key": secrets.token_urlsafe(24)}
        started = time.perf_counter()
        response = client.post("/request", data=form, files={"report": ("ftc-report.pdf", upload, "application/pdf")})
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 303, response.text[:500]
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        if url.startswith("postgresql"):
            reset_postgres(url)
        migrate.upgrade(url)
        ctx = Context(Settings(env=Environment.test, data_dir=Path(tmp) / "data", database_url=url,
                               audit_checkpoint_schedule=False))
        client = TestClient(create_app(ctx=ctx), headers={"accept": "text/html"}, follow_redirects=False)
        upload = five_mb_pdf()
        one_run(client, 3, upload)  # warm-up: imports, templates, the policy set, connections
        rows, p50s, p95s = [], [], []
        for run in range(1, args.runs + 1):
            times = one_run(client, args.submissions, upload)
            p50s.append(statistics.median(times))
            p95s.append(p95(times))
            rows.append((str(run), str(len(times)), f"{p50s[-1]:.1f}", f"{p95s[-1]:.1f}", f"{max(times):.1f}"))
        ctx.close()
    store = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print(f"portal submission with a 5 MB upload, in-process, {store}")
    print_markdown(("run", "submissions", "p50 ms", "p95 ms", "max ms"), rows)
    print(f"median over runs: p50 {statistics.median(p50s):.1f} ms, p95 {statistics.median(p95s):.1f} ms")
    print(load_line(before))


if __name__ == "__main__":
    main()
