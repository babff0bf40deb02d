"""Runners for sweep tests. They live in an importable module so Dask workers can unpickle them."""

import os
import signal
from pathlib import Path

from sim.sweep import run_task


def killing_runner(task: dict) -> dict:
    """Kills its own worker process the first time it sees run r0003, then behaves normally."""
    marker = Path(task["out"]) / "killed-once"
    if task["run_id"] == "r0003" and not marker.exists():
        marker.write_text("x")
        os.kill(os.getpid(), signal.SIGKILL)
    return run_task(task)


def failing_runner(task: dict) -> dict:
    """Run r0002 gets a parameter value the scenario rejects, so that run fails inside the worker."""
    if task["run_id"] == "r0002":
        task = {**task, "params": {**task["params"], "dynamics.influence.rate": 5.0}}
    return run_task(task)


def always_killing_runner(task: dict) -> dict:
    """Run r0002 kills its worker every time it is tried (as an out-of-memory kill would)."""
    if task["run_id"] == "r0002":
        os.kill(os.getpid(), signal.SIGKILL)
    return run_task(task)


def collateral_runner(task: dict) -> dict:
    """Run r0001 kills its worker on each of its first ``ALLOWED_FAILURES + 1`` tries, so Dask gives
    up on it (``KilledWorker``) as it gives up on an innocent run that kept sharing workers with a
    killer; after that it behaves normally."""
    from sim.executor import ALLOWED_FAILURES

    tries = Path(task["out"]) / "r0001-tries"
    if task["run_id"] == "r0001":
        n = len(tries.read_text()) if tries.exists() else 0
        if n <= ALLOWED_FAILURES:
            tries.write_text("x" * (n + 1))
            os.kill(os.getpid(), signal.SIGKILL)
    return run_task(task)
