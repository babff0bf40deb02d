"""Do results depend on ``scale``? The 2019 scenario at several scales, many seeds each, compared
with scale 1 (docs/scale.md).

    python experiments/scale_convergence.py [--scales 1 2 5 10 20] [--seeds 20] [--workers 2]
                                            [--cache runs/scale_convergence] [--figure docs/img/scale_convergence.png]

For each reported city: the share of seeds in which it is reached (a crowd of at least
``outputs.onset_min_participants`` people), the onset day (a city never reached counts as the
last day + 1), the log peak crowd ln(1 + peak) and, nationally, the number of cities reached.
Each scale is compared with scale 1. A scale is valid when, for every reported city, the median
onset differs by at most 1 day, the median log peak by at most ln 2, the share reached by at most
0.3 (about two standard errors of a difference of two 20-seed shares near 0.5), and the median
number of cities reached by at most 2. A control column runs scale 1 again with other seeds: the
differences seed noise alone produces. A metric on which the control itself is outside tolerance
(for example the median onset of a city reached in about half of the seeds, which jumps between
its onset day and "never") cannot tell scales apart at this number of seeds; it is marked and not
counted, and that city's share reached carries the comparison. Wasserstein distances are printed
for information. Runs are cached per scale (a second call only redoes the analysis; delete the
cache to rerun).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from scipy import stats

from sim import load_scenario
from sim.ensemble import run_ensemble
from sim.metrics import onset_days

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "kazakhstan_2019.yaml"
REPORTED = ["Zhanaozen", "Astana", "Almaty", "Shymkent", "Karaganda", "Aktobe", "Oral"]
TOLERANCE = {"onset": 1.0, "peak": math.log(2), "reached": 0.3, "cities": 2.0}
CONTROL_SEED = 1001  # base seed of the control runs at scale 1


def runs(scale: float, seeds: int, workers: int, cache: Path, seed: int | None = None) -> dict[str, np.ndarray]:
    """Participants (seeds × days × cities) of the scenario at ``scale``, cached."""
    tag = "" if seed is None else f"_seed_{seed}"
    file = cache / f"scale_{scale:g}_seeds_{seeds}{tag}.npz"
    if file.exists():
        return dict(np.load(file))
    overrides: dict[str, float] = {"scale": scale}
    if seed is not None:
        overrides["seed"] = seed
    scenario = load_scenario(SCENARIO, overrides)
    ens = run_ensemble(scenario, seeds=seeds, workers=workers, progress=True)
    out = {"participants": ens.records["participants"], "new_detained": ens.records["new_detained"]}
    cache.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, **out)
    tmp.replace(file)
    return out


def outcomes(rec: dict[str, np.ndarray], names: list[str], min_people: float) -> dict[str, np.ndarray]:
    part = rec["participants"]
    days = part.shape[1]
    onset = onset_days(part, min_people).astype(float)
    onset[onset < 0] = days  # never reached: censored at the end of the run
    out = {}
    for city in REPORTED:
        c = names.index(city)
        out[f"reached:{city}"] = (onset[:, c] < days).astype(float)
        out[f"onset:{city}"] = onset[:, c]
        out[f"peak:{city}"] = np.log1p(part[:, :, c].max(axis=1))
    out["cities:reached"] = (onset < days).sum(axis=1).astype(float)
    return out


def compare(x: np.ndarray, y: np.ndarray, kind: str) -> tuple[float, float, float, bool]:
    """(value, difference from the reference, Wasserstein distance, within tolerance)."""
    if kind == "reached":
        value, diff = float(x.mean()), float(x.mean() - y.mean())
    else:
        value, diff = float(np.median(x)), float(np.median(x) - np.median(y))
    w = float(stats.wasserstein_distance(x, y))
    return value, diff, w, abs(diff) <= TOLERANCE[kind]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", type=float, nargs="+", default=[1, 2, 5, 10, 20])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "scale_convergence")
    ap.add_argument("--figure", type=Path, default=None)
    args = ap.parse_args()
    base = load_scenario(SCENARIO)
    names = [c.name for c in base.cities]
    scales = sorted(set(args.scales))
    if scales[0] != 1:
        raise SystemExit("--scales must include 1 (the reference)")
    onset_min = base.outputs.onset_min_participants
    res = {f"{s:g}": outcomes(runs(s, args.seeds, args.workers, args.cache), names, onset_min) for s in scales}
    res["1 (other seeds)"] = outcomes(
        runs(1.0, args.seeds, args.workers, args.cache, seed=CONTROL_SEED), names, onset_min
    )
    columns = list(res)
    ref = res["1"]
    print(
        f"{args.seeds} seeds per scale. Share of seeds reached, median onset day (days since "
        f"{base.start}; never = {base.days}), median ln(1 + peak crowd), median cities reached; "
        "in brackets the difference from scale 1 and the Wasserstein distance; ✗ outside tolerance\n"
    )
    print("| metric | " + " | ".join(f"scale {c}" for c in columns) + " |")
    print("|---|" + "---:|" * len(columns))
    valid = dict.fromkeys(columns, True)
    unstable = []
    for key in ref:
        kind, city = key.split(":")
        noisy = not compare(res["1 (other seeds)"][key], ref[key], kind)[3]
        cells = []
        for col in columns:
            value, diff, w, ok = compare(res[col][key], ref[key], kind)
            if not noisy:
                valid[col] &= ok
            mark = "" if ok else (" (✗)" if noisy else " ✗")
            cells.append(f"{value:.2f}" if col == "1" else f"{value:.2f} ({diff:+.2f}; W {w:.2f}){mark}")
        label = {"reached": "share reached", "onset": "onset day", "peak": "ln(1+peak)", "cities": "cities"}[kind]
        if noisy:
            unstable.append(f"{label}, {city}")
        print(f"| {label}, {city} | " + " | ".join(cells) + " |")
    if unstable:
        print(f"\n(✗): not counted, seed noise alone exceeds the tolerance: {'; '.join(unstable)}")
    print()
    for col in columns[:-1]:
        print(f"scale {col}: {'within' if valid[col] else 'outside'} tolerance")
    coarsest = max(s for s in scales if all(valid[f"{t:g}"] for t in scales if t <= s))
    print(f"\ncoarsest valid scale (every finer scale also valid): {coarsest:g}")
    if args.figure:
        figure(res, columns, args.figure)
        print(f"figure: {args.figure}")


def figure(res: dict[str, dict[str, np.ndarray]], columns: list[str], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(16, 4.2), gridspec_kw={"width_ratios": [3, 3, 3, 1.4]})
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(columns)))
    width = 0.8 / len(columns)
    panels = (
        ("reached", "share of seeds reached", "reached (≥ 10 people)"),
        ("onset", "onset day, days since 25 Aug", "onset day among seeds reached (median, 10–90%)"),
        ("peak", "ln(1 + peak crowd)", "peak crowd (median, 10–90%)"),
    )
    for ax, (kind, ylabel, title) in zip(axes, panels):
        for i, col in enumerate(columns):
            xs = np.arange(len(REPORTED)) + (i - (len(columns) - 1) / 2) * width
            style = {"color": colours[i], "label": f"scale {col}", "mfc": "white" if "other" in col else colours[i]}
            if kind == "reached":
                ax.plot(xs, [res[col][f"reached:{c}"].mean() for c in REPORTED], "o", ms=5, **style)
                continue
            med, lo, hi = [], [], []
            for c in REPORTED:
                d = res[col][f"{kind}:{c}"]
                if kind == "onset":
                    d = d[res[col][f"reached:{c}"] > 0]
                if d.size == 0:
                    med.append(np.nan), lo.append(0), hi.append(0)
                    continue
                m = np.median(d)
                med.append(m), lo.append(m - np.quantile(d, 0.1)), hi.append(np.quantile(d, 0.9) - m)
            ax.errorbar(xs, med, yerr=[lo, hi], fmt="o", ms=4, capsize=2, **style)
        ax.set_xticks(range(len(REPORTED)), REPORTED, rotation=30)
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    for i, col in enumerate(columns):
        r = res[col]["cities:reached"]
        axes[3].errorbar(
            [i],
            [np.median(r)],
            yerr=[[np.median(r) - np.quantile(r, 0.1)], [np.quantile(r, 0.9) - np.median(r)]],
            fmt="o",
            color=colours[i],
            capsize=2,
        )
    axes[3].set_xticks(range(len(columns)), [c.replace(" (other seeds)", "*") for c in columns])
    axes[3].set_xlabel("scale (* other seeds)")
    axes[3].set_title("cities reached", fontsize=10)
    axes[3].grid(alpha=0.3)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()
