"""Where runs execute: serially, on an embedded Dask cluster, or on an existing one; and the
seed of every run.

Ensembles, sweeps and (later) calibration all hand their tasks to :func:`execute`.
Seeds derive from (base seed, point, replicate) through ``numpy.random.SeedSequence``
(:func:`run_seed`), so results do not depend on worker count, order or cluster.

``distributed`` is imported only when a cluster is used (it takes about a second).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from tqdm.auto import tqdm

__all__ = ["dask_client", "execute", "run_seed"]

Task = dict[str, Any]


def run_seed(sweep_seed: int, point: int, replicate: int) -> int:
    """Seed of one run, from (sweep seed, point, replicate), in [0, 2^63)."""
    state = np.random.SeedSequence([sweep_seed, point, replicate]).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


def execute(
    fn: Callable[[Task], Task],
    tasks: list[Task],
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    desc: str = "runs",
) -> Iterator[Task]:
    """Run ``fn`` on every task and yield each return value as it finishes.

    Parameters
    ----------
    fn
        A picklable function of one task (a mapping) returning a small mapping
        with a ``status`` key.
    workers
        0: serially in this process. None (default) or N ≥ 1: an embedded Dask
        ``LocalCluster`` with N single-threaded worker processes (default: one
        per core).
    scheduler
        Address of an existing Dask scheduler (``tcp://host:8786``); overrides ``workers``.
    progress
        A progress bar on stderr (done, failed, total, time left).

    Notes
    -----
    At most two tasks per worker are in flight, so memory in this process
    stays flat and a worker's death only puts its own few tasks under
    suspicion (see :func:`dask_client` for retries).
    """
    bar = tqdm(total=len(tasks), disable=not progress, unit="run", desc=desc, file=sys.stderr, dynamic_ncols=True)
    failed = 0

    def tick(res: Task) -> Task:
        nonlocal failed
        failed += res.get("status") != "ok"
        bar.set_postfix(failed=failed, refresh=False)
        bar.update(1)
        return res

    try:
        if workers == 0 and scheduler is None:
            for task in tasks:
                yield tick(fn(task))
            return
        from distributed import as_completed

        with dask_client(workers, scheduler) as client:
            window = 2 * max(1, len(client.scheduler_info()["workers"]))
            pending = iter(tasks)
            running = as_completed()
            for task in itertools.islice(pending, window):
                running.add(client.submit(fn, task, pure=False))
            for fut in running:
                try:
                    res = fut.result()
                except Exception as exc:  # e.g. KilledWorker: the task could not be run
                    res = {"run_id": None, "status": "failed", "error": f"{type(exc).__name__}: {exc}"}
                fut.release()
                yield tick(res)
                nxt = next(pending, None)
                if nxt is not None:
                    running.add(client.submit(fn, nxt, pure=False))
    finally:
        bar.close()


@contextlib.contextmanager
def _cluster_config() -> Iterator[None]:
    """Dask settings for clusters that run simulations (see :func:`local_cluster`)."""
    import dask

    environ = {
        k: v
        for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
        if k != "MALLOC_TRIM_THRESHOLD_"
    }
    environ["MALLOC_ARENA_MAX"] = 1  # one worker thread runs tasks: keep it on glibc's main arena
    with dask.config.set(
        {"distributed.scheduler.allowed-failures": 10, "distributed.nanny.pre-spawn-environ": environ}
    ):
        yield


def local_cluster(workers: int | None = None) -> Any:
    """A ``distributed.LocalCluster`` of ``workers`` single-threaded worker processes (default: one
    per core), set up for simulations.

    Dask retries a task whose worker died up to ``distributed.scheduler.allowed-failures`` times
    (raised here to 10). Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers, which
    switches off glibc's dynamic mmap threshold: every large array is then mmap'ed and page-faulted
    afresh and a run takes about 35% longer (measured, docs/sweeps.md), so the cluster keeps the
    nanny's thread limits and drops the trim. Tasks run in a worker thread, which glibc serves from
    a secondary malloc arena that trims and page-faults more than the main one: 4–11% slower runs,
    measured; ``MALLOC_ARENA_MAX=1`` (safe with one task thread per worker) removes that.
    Close it when done (it is a context manager).
    """
    from distributed import LocalCluster

    with _cluster_config():
        return LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=40,
        )


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: on ``scheduler`` if given (its workers keep the environment they
    were started with), else on an embedded :func:`local_cluster` of ``workers`` processes;
    closed on exit."""
    from distributed import Client

    with _cluster_config():
        cluster = None if scheduler else local_cluster(workers)
        client = Client(scheduler or cluster)
        try:
            yield client
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
