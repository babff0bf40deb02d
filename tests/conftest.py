from __future__ import annotations

import copy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"

TWO_TOWNS = {
    "name": "two-towns",
    "start": "2019-09-01",
    "days": 10,
    "geography": {
        "cities": [
            {"name": "A", "population": 20000, "lat": 43.3, "lon": 52.9},
            {"name": "B", "population": 50000, "lat": 51.1, "lon": 71.4},
        ]
    },
    "events": [{"kind": "information_trigger", "date": "2019-09-02", "cities": ["A"], "salience": 0.8}],
}


@pytest.fixture
def two_towns() -> dict:
    """A fresh copy of the five-line scenario of the README (as a dict)."""
    return copy.deepcopy(TWO_TOWNS)


def small(n_cities: int = 3, people: int = 300, days: int = 8, **extra) -> dict:
    """A small scenario with ``n_cities`` cities of ``people`` each."""
    cities = [{"name": f"C{i}", "population": people, "lat": 43.0 + i, "lon": 60.0 + 2 * i} for i in range(n_cities)]
    raw = {"name": "small", "start": "2019-09-01", "days": days, "geography": {"cities": cities}}
    raw.update(extra)
    return raw


@pytest.fixture(scope="session")
def dask_scheduler():
    """Address of one two-worker Dask cluster (set up as ``sim`` sets up its own), shared by
    every test that needs worker processes: starting a cluster costs seconds."""
    from sim.executor import local_cluster

    cluster = local_cluster(2)
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


def interruptible(cmd: list[str]) -> list[str]:
    """``cmd`` (a Python command line) started so that it sees Ctrl-C as a user's terminal delivers it.

    A shell that started the test run in the background leaves SIGINT ignored, and an ignored
    signal stays ignored through exec (Python then installs no KeyboardInterrupt handler); the
    returned command restores the default disposition and execs ``cmd`` in the same process.
    """
    code = "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])"
    return [cmd[0], "-c", code, *cmd]
