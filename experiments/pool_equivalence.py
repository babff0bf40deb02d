"""Do pooled set-ups (warm starts) give the same outcomes as a fresh set-up per run?

Runs the default scenario over the same seeds with a fresh population per run and with a pool of
``--pool`` warmed populations (``sim.warmstart``; what calibrations and sensitivity analyses use
with ``population_pool``), and compares them with the tests of ``contact_equivalence.py``:
per-city onset days and the national peak and cities reached (two-sample KS, Bonferroni over the
family at α = 0.01), with the power of each onset test against a one-day shift.

Usage::

    python experiments/pool_equivalence.py [--seeds 30] [--pool 16] [--scale 2] [--workers N]
                                           [--write FILE]

The suite runs a reduced version (``tests/test_warmstart.py``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "experiments"))

from contact_equivalence import SCENARIO, compare_ensembles, report  # noqa: E402

from sim import load_scenario  # noqa: E402
from sim.ensemble import run_ensemble  # noqa: E402


def compare(
    seeds: int = 30,
    pool: int = 16,
    scale: float = 2,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> dict:
    """Fresh set-ups against a pool of ``pool`` over ``seeds`` seeds each."""
    sc = load_scenario(SCENARIO, {"scale": scale})
    runs = {}
    for label, size in (("fresh", 0), (f"pool of {pool}", pool)):
        t0 = time.perf_counter()
        ens = run_ensemble(sc, seeds=seeds, workers=workers, scheduler=scheduler, progress=progress, pool=size)
        runs[label] = (ens, time.perf_counter() - t0)
    labels = tuple(runs)
    res = compare_ensembles(runs[labels[0]][0], runs[labels[1]][0], labels)
    res.update(scale=scale, pool=pool, wall_s={k: v[1] for k, v in runs.items()})
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--pool", type=int, default=16)
    ap.add_argument("--scale", type=float, default=2)
    ap.add_argument("--workers", type=int)
    ap.add_argument("--write", help="write the Markdown report to this file")
    args = ap.parse_args()
    res = compare(args.seeds, args.pool, args.scale, args.workers)
    command = f"python experiments/pool_equivalence.py --seeds {args.seeds} --pool {args.pool} --scale {args.scale:g}"
    text = report(res, command)
    print(text)
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
