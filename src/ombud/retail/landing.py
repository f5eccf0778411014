"""A thread that lands import batches while the next chunk is read and checked.

The store's work (SQLite's B-trees, PostgreSQL's COPY) runs without Python's interpreter lock, and so do
Arrow's parser and Polars' checks: with the writes on a thread of their own, both cores of a small machine
work at once. Jobs run one at a time, in the order given; the first failure stops the rest and is raised
again in the thread that gave them.

Only one session uses the store at a time (`lock`): the importer's lookups take it too, so a caller that
binds every session to one connection (the tests, a caller's own transaction) is never used from two
threads at once.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

#: Chunks waiting to be written: enough to keep the writer busy, few enough to bound memory.
DEPTH = 2


class Lander:
    """Runs jobs in order on one writer thread; `drain` waits for them, `close` stops the thread."""

    def __init__(self, depth: int = DEPTH) -> None:
        self.lock = threading.Lock()
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._loop, name="ombud-import-writer", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if self._error is None and not self._cancelled:
                    job()
            except BaseException as exc:
                self._error = exc
            finally:
                self._jobs.task_done()

    def raise_error(self) -> None:
        """Raise the writer's failure, if it had one, in the calling thread."""
        if self._error is not None:
            raise self._error

    def submit(self, job: Callable[[], None]) -> None:
        """Queue a job (waits while the queue is full); raises an earlier job's failure first."""
        self.raise_error()
        self._jobs.put(job)

    def drain(self) -> None:
        """Wait until every job given so far has run; raise a failure."""
        self._jobs.join()
        self.raise_error()

    def close(self, *, cancel: bool = False) -> None:
        """Stop the thread after the jobs given so far (skipped when cancelling; a running one finishes)."""
        self._cancelled = cancel
        if cancel:  # let a blocked submitter's queue drain quickly
            while True:
                try:
                    self._jobs.get_nowait()
                    self._jobs.task_done()
                except queue.Empty:
                    break
        self._jobs.put(None)
        self._thread.join()
