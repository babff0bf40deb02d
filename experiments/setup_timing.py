"""Where a 2019 run's time goes before and after day 0, with fresh and with pooled set-ups.

Times, in one process and one core, the set-up (attributes and warm-up) and the days of the 2019
calibration's runs (scale 2, 28 days): a fresh set-up, a pooled one being built, a pooled one
reused, and a pooled one reused with a changed threshold distribution (redrawn).

Usage::

    python experiments/setup_timing.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import OpinionModel, load_scenario  # noqa: E402
from sim.warmstart import PopulationPool  # noqa: E402


def timed(scenario, seed: int, pool: PopulationPool | None) -> tuple[float, float, float]:
    """(set-up s, of which warm-up s, days s) of one run."""
    warm = {"s": 0.0}
    original = OpinionModel.warm_up

    def warm_up(self, days):
        t = time.perf_counter()
        original(self, days)
        warm["s"] = time.perf_counter() - t

    OpinionModel.warm_up = warm_up  # type: ignore[method-assign]
    try:
        t0 = time.perf_counter()
        model = OpinionModel(scenario, seed=seed, pool=pool)
        t1 = time.perf_counter()
        model.run(progress=False)
        return t1 - t0, warm["s"], time.perf_counter() - t1
    finally:
        OpinionModel.warm_up = original  # type: ignore[method-assign]


def main() -> None:
    sc = load_scenario(ROOT / "scenarios" / "kazakhstan_2019.yaml", {"scale": 2, "days": 28})
    other = load_scenario(
        ROOT / "scenarios" / "kazakhstan_2019.yaml", {"scale": 2, "days": 28, "population.threshold.mean": 0.8}
    )
    pool = PopulationPool(1, 7)
    cases = [
        ("fresh set-up", sc, None),
        ("pooled, first run (builds the replicate)", sc, pool),
        ("pooled, reused", sc, pool),
        ("pooled, reused, threshold redrawn", other, pool),
    ]
    print(f"{'case':<42} {'set-up s':>9} {'warm-up s':>10} {'days s':>8}")
    for i, (label, scenario, p) in enumerate(cases):
        setup, warm, days = timed(scenario, 100 + i, p)
        print(f"{label:<42} {setup:>9.2f} {warm:>10.2f} {days:>8.2f}")


if __name__ == "__main__":
    main()
