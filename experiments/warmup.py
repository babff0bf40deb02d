"""How long opinions take to reach their resting state under influence alone (docs/model.md, "Warm-up").

    python experiments/warmup.py [--scale 20] [--days 60] [--city Almaty]

Builds the 2019 scenario without warm-up and runs the influence phase only, printing the spread
and the 99.9th percentile of each opinion on selected days.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from sim import OpinionModel, load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "kazakhstan_2019.yaml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=20.0)
    ap.add_argument("--days", type=int, default=60)
    ap.add_argument("--city", default="Almaty")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    scenario = load_scenario(SCENARIO, {"scale": args.scale, "warmup_days": 0})
    model = OpinionModel(scenario, seed=args.seed)
    pop = model.population
    people = pop.city(model.geography.names.index(args.city))
    show = {0, 1, 2, 3, 5, 7, 10, 14, 20, 30, 45, 60, args.days}
    print(f"{args.city}, scale {args.scale:g}, influence only")
    print(f"{'day':>4} {'trust sd':>9} {'sino sd':>8} {'sino q99.9':>10}")
    for day in range(args.days + 1):
        if day in show:
            t, s = pop.trust[people], pop.sinophobia[people]
            print(f"{day:>4} {t.std():9.4f} {s.std():8.4f} {np.quantile(s, 0.999):10.3f}")
        model.warm_up(1)


if __name__ == "__main__":
    main()
