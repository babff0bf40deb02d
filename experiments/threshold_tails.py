"""Share of people who would be active under the static activation rule, in the population the
2019 trigger meets (after the scenario's warm-up).

Builds the Kazakhstan 2019 scenario (its distributions, its ``warmup_days`` of influence), takes
one city's people and evaluates the protest rule of docs/model.md section 4 with the scenario's
parameters, a small crowd (arrest probability 1 − e^(−k m)) and no social proof, in a few
situations. This is the logic behind the high, narrow threshold: protest must be a tail event.

Usage: python experiments/threshold_tails.py [--scale 1] [--city Almaty] [--seed 1]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np

from sim import OpinionModel, load_scenario

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "kazakhstan_2019.yaml"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--city", default="Almaty")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    scenario = load_scenario(SCENARIO, {"scale": args.scale})
    model = OpinionModel(scenario, seed=args.seed)  # includes the warm-up
    pop = model.population
    c = model.geography.names.index(args.city)
    sl = pop.city(c)
    p, r = scenario.dynamics.protest, scenario.dynamics.repression
    call = next(ev for ev in scenario.events if ev.kind == "call")
    m = r.officers_per_protester if r.officers_per_protester is not None else math.inf
    arrest = 1 - math.exp(-p.arrest_constant * min(m, r.deployed_share * 1e9))
    h, t, s0 = (pop.array(a)[sl].astype(np.float64) for a in ("hardship", "trust", "sinophobia"))
    theta, risk = pop.threshold[sl].astype(np.float64), pop.risk_aversion[sl].astype(np.float64)
    online = pop.online[sl]
    grievance = p.grievance_weight * h * (1 - t)
    print(
        f"{args.city}: {sl.stop - sl.start:,} agents at scale {args.scale:g}, after {scenario.warmup_days} days of "
        f"warm-up; trust sd {t.std():.3f}, sinophobia sd {s0.std():.3f}; arrest probability {arrest:.2f}"
    )
    rows = [
        ("quiet, salience 0", 0.0, 0.0, 0.0),
        ("national news, salience 0.3", 0.3, 0.0, 0.0),
        ("salience 0.3, a call (its reach of online people)", 0.3, 0.0, call.strength),
        ("salience 0.8, rumour (+0.1 of the gap x 4 days)", 0.8, 1 - 0.9**4, 0.0),
    ]
    people = scenario.cities[c].population
    print(f"{'situation':50s} {'active share':>12s} {'people in ' + args.city:>20s}")
    for label, sal, shift, lift in rows:
        s = s0 + shift * online * (1 - s0)
        motive = grievance + p.sinophobia_weight * s * sal
        share = float(((motive - risk * arrest) >= theta).mean())
        if lift:  # those who heard the call (online, with probability reach) add its strength
            heard = call.reach * float(online.mean())
            share = heard * float(((motive + lift - risk * arrest) >= theta).mean()) + (1 - heard) * share
        print(f"{label:50s} {share:12.2e} {share * people:20,.0f}")


if __name__ == "__main__":
    main()
