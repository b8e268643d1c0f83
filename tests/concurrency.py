"""Running jobs at the same moment on real threads, each with its own connection."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections


def run_concurrently(jobs: list[Callable[[], object]], *, timeout: float = 120) -> list[object]:
    """Start every job at once; return each job's result, or the exception it raised."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def worker(index: int, job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = job()
        except Exception as error:  # collected for the assertion
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    # A job still running would leave None in its slot, which could pass for a result.
    assert not any(thread.is_alive() for thread in threads), f"a job outlived the {timeout}s timeout"
    return results
