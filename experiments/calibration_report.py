"""The Markdown tables of a calibration folder, as docs/inference.md §5 shows them.

Usage::

    python experiments/calibration_report.py calibrations/kz2019 [--compare data/episodes/frozen_2019]
        [--baseline scenarios/kazakhstan_2019_handset.yaml --seeds 20]

Prints two tables: per generation (ε, acceptance, ESS, simulations, runs stopped early with their
mean day, wall time, median accepted distance), and per parameter (prior, posterior median and 90%
interval, its width over the prior's 90% interval, on the log scale for log-uniform priors, and with
``--compare`` another posterior's median and interval, e.g. the frozen one). Reads ``manifest.json``,
``diagnostics.json`` and ``posterior.parquet``. With ``--baseline``, also the ABC distance of a
scenario's values at the prior paths (e.g. the hand-set ones) under the calibration's observation
model, over ``--seeds`` simulations with fresh set-ups: the tolerance a generation must beat to fit
better than that scenario.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.inference.calibrate import weighted_summary  # noqa: E402
from sim.inference.priors import Prior  # noqa: E402


def last_generation(folder: Path) -> pd.DataFrame:
    post = pd.read_parquet(folder / "posterior.parquet")
    return post[post["generation"] == post["generation"].max()]


def generations_table(folder: Path) -> str:
    diag = json.loads((folder / "diagnostics.json").read_text())
    lines = [
        "| generation | ε | acceptance | ESS | simulations | stopped early (mean day) | wall s | median distance |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for g in diag["generations"]:
        eps = "∞" if g["epsilon"] is None else f"{g['epsilon']:.2f}"
        stopped = "—" if not g.get("stopped_early") else f"{g['stopped_early']} (day {g['mean_stop_day']:.1f})"
        lines.append(
            f"| {g['generation']} | {eps} | {g['acceptance_rate']:.3f} | {g['ess']:.0f} | {g['simulations']:,} "
            f"| {stopped} | {g['wall_s']:,.0f} | {g['median_distance']:.2f} |"
        )
    wall = sum(g["wall_s"] for g in diag["generations"])
    lines.append(
        f"\n{diag['simulations']:,} simulations in {wall:,.0f} s of generations "
        f"({diag['simulations'] / wall * 3600:,.0f} an hour, {diag['simulations'] / wall:.2f} a second)."
    )
    return "\n".join(lines)


def parameters_table(folder: Path, compare: Path | None = None) -> str:
    manifest = json.loads((folder / "manifest.json").read_text())
    priors = [Prior(**p) for p in manifest["calibration"]["priors"]]
    last = last_generation(folder)
    other = last_generation(compare) if compare else None
    head = "| parameter | prior | prior's 90% | posterior median | 90% interval | width / prior's |"
    rule = "|---|---|---|---:|---|---:|"
    if other is not None:
        head += f" {compare.name}: median [90%] |"
        rule += "---|"
    lines = [head, rule]
    for p in priors:
        s = weighted_summary(last[p.path].to_numpy(float), last["weight"].to_numpy(float))
        lo, hi = p.interval(0.9)
        if p.dist == "loguniform":  # widths on the prior's own (log) scale
            width = math.log(s["q95"] / s["q05"]) / math.log(hi / lo)
        else:
            width = (s["q95"] - s["q05"]) / (hi - lo)
        row = (
            f"| `{p.path}` | {p.describe()} | [{lo:.3g}, {hi:.3g}] | {s['median']:.3g} "
            f"| [{s['q05']:.3g}, {s['q95']:.3g}] | {width:.2f} |"
        )
        if other is not None:
            if p.path in other:
                o = weighted_summary(other[p.path].to_numpy(float), other["weight"].to_numpy(float))
                row += f" {o['median']:.3g} [{o['q05']:.3g}, {o['q95']:.3g}] |"
            else:
                row += " — |"
        lines.append(row)
    return "\n".join(lines)


def baseline_distance(folder: Path, scenario: Path, seeds: int) -> str:
    """Median and 5–95% of the ABC distance of ``scenario``'s values at the prior paths."""
    import numpy as np

    from sim import load_scenario
    from sim.config.experiment import _lookup
    from sim.executor import execute, run_seed
    from sim.inference.calibrate import calibration_task

    manifest = json.loads((folder / "manifest.json").read_text())
    c = manifest["calibration"]
    resolved = load_scenario(scenario).resolved()
    theta = {p["path"]: _lookup(resolved, p["path"]) for p in c["priors"]}
    common = {"base": c["base"], "fixed": c["fixed"], "observed": c["observed"], "exclude": c["exclude"]}
    tasks = [{**common, "k": i, "t": -1, "theta": theta, "seed": run_seed(c["seed"], 20_000, i)} for i in range(seeds)]
    done = [r for r in execute(calibration_task, tasks, progress=True, desc="baseline") if r["status"] == "ok"]
    d = np.array([r["distance"] for r in done])
    q = np.quantile(d, [0.05, 0.5, 0.95])
    return f"{scenario.name}: ABC distance median {q[1]:.2f} [5%: {q[0]:.2f}, 95%: {q[2]:.2f}] over {len(d)} runs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--compare", type=Path, help="another posterior folder (e.g. data/episodes/frozen_2019)")
    ap.add_argument("--baseline", type=Path, help="a scenario whose values at the prior paths to score")
    ap.add_argument("--seeds", type=int, default=20)
    args = ap.parse_args()
    print(generations_table(args.folder))
    print()
    print(parameters_table(args.folder, args.compare))
    if args.baseline:
        print()
        print(baseline_distance(args.folder, args.baseline, args.seeds))


if __name__ == "__main__":
    main()
