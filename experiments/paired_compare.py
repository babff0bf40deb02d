"""Paired differences between the scenarios of a ``sim compare`` folder.

``sim compare`` runs every scenario with the same seeds (and, with ``--posterior``, the same
parameter draws), so run i of one scenario and run i of another differ only by what the
scenarios change. This prints, for each scenario against the first (the baseline), the paired
difference in cities reached, the ratio of national peaks and the difference in people detained:
median and 5-95% over the pairs, and the share of pairs in which the scenario is lower or higher.
Intervals of the compare table mix the spread of the baseline with the effect; these do not.

Usage: python experiments/paired_compare.py runs/compare-2019-posterior [--baseline kazakhstan-2019]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def _runs(folder: Path) -> pd.DataFrame:
    path = folder / "national_by_seed.csv"
    if not path.is_file():
        sys.exit(f"{path}: not found; pass a folder written by `sim compare`")
    return pd.read_csv(path)


def _band(x: np.ndarray, fmt: str) -> str:
    q05, q50, q95 = np.quantile(x, [0.05, 0.5, 0.95])
    return f"{fmt.format(q50)} [{fmt.format(q05)}, {fmt.format(q95)}]"


def paired(out: Path, baseline: str) -> pd.DataFrame:
    """One row per scenario: paired differences from ``baseline`` over the runs both share."""
    base = _runs(out / baseline)
    rows = []
    for folder in sorted(p for p in out.iterdir() if p.is_dir() and p.name != baseline):
        runs = _runs(folder)
        if len(runs) != len(base) or not (runs["seed"].to_numpy() == base["seed"].to_numpy()).all():
            sys.exit(f"{folder}: its runs are not paired with {baseline}'s (different seeds); rerun `sim compare`")
        dc = runs["cities_reached"].to_numpy() - base["cities_reached"].to_numpy()
        ratio = np.log10((runs["national_peak"].to_numpy() + 1) / (base["national_peak"].to_numpy() + 1))
        dd = runs["total_detained"].to_numpy() - base["total_detained"].to_numpy()
        rows.append(
            {
                "scenario": folder.name,
                "pairs": len(runs),
                "cities reached, difference": _band(dc, "{:+.1f}"),
                "fewer / more cities": f"{np.mean(dc < 0):.0%} / {np.mean(dc > 0):.0%}",
                "national peak, ratio": _band(10**ratio, "{:.3g}"),
                "detained, difference": _band(dd, "{:+,.0f}"),
                "fewer / more detained": f"{np.mean(dd < 0):.0%} / {np.mean(dd > 0):.0%}",
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", type=Path, help="a folder written by sim compare")
    ap.add_argument(
        "--baseline", help="the scenario the others are compared with (default: the first row of compare.csv)"
    )
    args = ap.parse_args()
    if not args.folder.is_dir():
        sys.exit(f"{args.folder}: not a folder")
    baseline = args.baseline
    if baseline is None:
        manifest = args.folder / "compare.csv"
        if not manifest.is_file():
            sys.exit(f"{manifest}: not found; pass a folder written by `sim compare`")
        baseline = str(pd.read_csv(manifest)["scenario"].iloc[0])
    if not (args.folder / baseline).is_dir():
        sys.exit(f"{args.folder / baseline}: no such scenario in the comparison (--baseline)")
    table = paired(args.folder, baseline)
    print(f"paired with {baseline} (median [5%, 95%] over the pairs)")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
