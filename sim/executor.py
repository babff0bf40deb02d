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
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .errors import SimError

__all__ = ["dask_client", "execute", "run_seed"]

Task = dict[str, Any]

#: How many times a task whose worker died is tried again before it is recorded as failed
#: (``KilledWorker``); such a run is then tried once more alone, in a process of its own (an innocent
#: run can share workers with one that kills them), so a run that kills its worker every time is tried 5 times.
ALLOWED_FAILURES = 3

#: Seconds to wait for a Dask scheduler to answer before giving up.
SCHEDULER_TIMEOUT_S = 10


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
    with contextlib.ExitStack() as stack:
        client = None
        if workers != 0 or scheduler is not None:  # connect first: a bad address fails before any output
            client = stack.enter_context(dask_client(workers, scheduler))
        bar = stack.enter_context(_progress_bar(len(tasks), progress, desc))
        failed = 0

        def tick(res: Task) -> Task:
            nonlocal failed
            failed += res.get("status") != "ok"
            bar.set_postfix(failed=failed, refresh=False)
            bar.update(1)
            return res

        if client is None:
            for task in tasks:
                yield tick(fn(task))
            return
        yield from (tick(res) for res in _on_cluster(client, fn, tasks))


class _LineProgress:
    """Progress for a log file: a plain line at most every 30 s and at the end (no ``\\r`` frames)."""

    def __init__(self, total: int, desc: str):
        self.total, self.desc, self.n, self.postfix = total, desc, 0, ""
        self.start = self.last = time.monotonic()

    def __enter__(self) -> _LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.n and self.n != self.total:
            self._print()

    def set_postfix(self, refresh: bool = False, **values: Any) -> None:
        self.postfix = ", ".join(f"{k} {v}" for k, v in values.items())

    def update(self, k: int) -> None:
        self.n += k
        now = time.monotonic()
        if now - self.last >= 30 or self.n == self.total:
            self.last = now
            self._print()

    def _print(self) -> None:
        elapsed = time.monotonic() - self.start
        left = elapsed / self.n * (self.total - self.n) if self.n else float("nan")
        print(
            f"{self.desc}: {self.n}/{self.total} runs ({self.postfix}), {elapsed:.0f} s, about {left:.0f} s left",
            file=sys.stderr,
            flush=True,
        )


def _progress_bar(total: int, progress: bool, desc: str) -> Any:
    """A tqdm bar on a terminal, plain lines in a log, nothing without ``progress``."""
    if progress and not sys.stderr.isatty():
        return _LineProgress(total, desc)
    return tqdm(total=total, disable=not progress, unit="run", desc=desc, file=sys.stderr, dynamic_ncols=True)


def _on_cluster(client: Any, fn: Callable[[Task], Task], tasks: list[Task]) -> Iterator[Task]:
    """Results of ``fn`` over ``tasks`` on a Dask client, at most two tasks per worker in flight.

    A worker's death puts every task it held under suspicion, not only the one that killed it,
    so an innocent run that shared workers with a killer can reach the retry limit too
    (``KilledWorker``). Such runs are not recorded at once: after the others each is run once
    more alone, in a fresh process of its own outside the cluster (:func:`_run_alone`), and only
    a run that kills that process too is recorded as failed.
    """
    from distributed import KilledWorker

    lost: list[tuple[Task, Task]] = []
    for task, res, exc in _submit_window(client, fn, tasks, 2 * max(1, len(client.scheduler_info()["workers"]))):
        if isinstance(exc, KilledWorker):
            lost.append((task, res))
        else:
            yield res
    for task, res in lost:
        yield _run_alone(fn, task, res)


def _run_alone(fn: Callable[[Task], Task], task: Task, failed: Task) -> Task:
    """Run ``task`` in a fresh process of its own; ``failed`` (its cluster failure, with a note) if
    that process dies too or the task raises there. Ctrl-C stops the process."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    with _workers_ignore_interrupts():
        proc = ctx.Process(target=_alone_child, args=(fn, task, send), daemon=True)
        proc.start()
    send.close()  # the child holds the only writing end: its death ends the pipe
    try:
        kind, value = receive.recv()
    except EOFError:
        return {**failed, "error": f"{failed['error']}; it killed its process again when run alone"}
    finally:
        receive.close()
        proc.join(10)
        if proc.is_alive():
            proc.terminate()
            proc.join()
    if kind == "ok":
        return dict(value)
    return {**failed, "error": f"{failed['error']}; run alone it raised {value}"}


def _alone_child(fn: Callable[[Task], Task], task: Task, send: Any) -> None:
    try:
        result: tuple[str, Any] = ("ok", fn(task))
    except Exception as exc:
        result = ("error", f"{type(exc).__name__}: {exc}")
    send.send(result)
    send.close()


def _submit_window(
    client: Any, fn: Callable[[Task], Task], tasks: list[Task], window: int
) -> Iterator[tuple[Task, Task, BaseException | None]]:
    """(task, result, exception) for each task as it finishes, ``window`` tasks in flight; a task
    that raised gets a ``failed`` result naming the exception."""
    from distributed import as_completed

    pending = iter(tasks)
    running = as_completed()
    submitted: dict[str, Task] = {}

    def submit(task: Task) -> None:
        fut = client.submit(fn, task, pure=False)
        submitted[fut.key] = task
        running.add(fut)

    for task in itertools.islice(pending, window):
        submit(task)
    for fut in running:
        task = submitted.pop(fut.key)
        exc: BaseException | None = None
        try:
            res = fut.result()
        except Exception as e:  # e.g. KilledWorker: the worker died on every try (killed, out of memory)
            exc = e
            res = {
                "run_id": task.get("run_id"),
                "index": task.get("index"),
                "seed": task.get("seed"),
                "status": "failed",
                "error": f"{type(e).__name__}: {e}",
                "task": task,
            }
        fut.release()
        yield task, res, exc
        nxt = next(pending, None)
        if nxt is not None:
            submit(nxt)


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
        {"distributed.scheduler.allowed-failures": ALLOWED_FAILURES, "distributed.nanny.pre-spawn-environ": environ}
    ):
        yield


def local_cluster(workers: int | None = None) -> Any:
    """A ``distributed.LocalCluster`` of ``workers`` single-threaded worker processes (default: one
    per core), set up for simulations.

    Dask retries a task whose worker died up to ``distributed.scheduler.allowed-failures`` times
    (set here to :data:`ALLOWED_FAILURES`). Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` in its workers, which
    switches off glibc's dynamic mmap threshold: every large array is then mmap'ed and page-faulted
    afresh and a run takes about 35% longer (measured, docs/sweeps.md), so the cluster keeps the
    nanny's thread limits and drops the trim. Tasks run in a worker thread, which glibc serves from
    a secondary malloc arena that trims and page-faults more than the main one: 4–11% slower runs,
    measured; ``MALLOC_ARENA_MAX=1`` (safe with one task thread per worker) removes that.
    Close it when done (it is a context manager).
    """
    from distributed import LocalCluster

    with _cluster_config(), _workers_ignore_interrupts():
        return LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.CRITICAL,
        )


@contextlib.contextmanager
def _workers_ignore_interrupts() -> Iterator[None]:
    """Start worker processes with SIGINT ignored (an ignored signal stays ignored through exec, and
    Python then installs no KeyboardInterrupt handler), so that Ctrl-C, which a terminal sends to
    the whole process group, reaches only this process: it stops cleanly and closes the cluster,
    instead of every worker printing a traceback."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: on ``scheduler`` if given (its workers keep the environment they
    were started with), else on an embedded :func:`local_cluster` of ``workers`` processes;
    closed on exit."""
    from distributed import Client

    with _cluster_config():
        cluster = None if scheduler else local_cluster(workers)
        try:
            client = Client(scheduler or cluster, timeout=SCHEDULER_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            if cluster is not None:
                cluster.close()
            raise SimError(
                f"cannot reach the Dask scheduler at {scheduler} within {SCHEDULER_TIMEOUT_S} s ({exc}); "
                f"check the address and that the scheduler is running, or leave out --scheduler"
            ) from None
        try:
            yield client
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
