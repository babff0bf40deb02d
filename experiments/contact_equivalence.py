"""Are circulant contacts (the default) statistically equivalent to uniform ones?

Runs the default scenario with ``dynamics.influence.contacts`` = ``circulant`` and
``uniform`` over the same seeds and compares, per city, the onset-day
distributions (two-sample Kolmogorov–Smirnov, never reached = the day after the
run), and nationally the peak crowd (log) and the number of cities reached
(KS). The family of tests is held to α = 0.01 with Bonferroni's correction; the
per-test α = 0.01 is reported beside it. The power of each onset test is
estimated by shifting the uniform scheme's onsets of that city by one day and
testing against the unshifted sample (resampled with replacement 400 times).

Usage::

    python experiments/contact_equivalence.py [--seeds 30] [--scale 1] [--workers N]
                                              [--write docs/contact_equivalence.md]

The suite runs a reduced version (``tests/test_contacts.py``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import load_scenario  # noqa: E402
from sim.ensemble import run_ensemble  # noqa: E402
from sim.metrics import onset_days  # noqa: E402

SCENARIO = ROOT / "scenarios" / "kazakhstan_2019.yaml"
ALPHA = 0.01


def _ks(a: np.ndarray, b: np.ndarray) -> float:
    if np.array_equal(np.unique(a), np.unique(b)) and len(np.unique(a)) == 1:
        return 1.0  # both samples constant and equal
    return float(stats.ks_2samp(a, b, method="asymp").pvalue)  # ties: asymptotic, conservative


def _power(sample: np.ndarray, rng: np.random.Generator, shift: float = 1.0, draws: int = 400) -> float:
    """Share of resampled pairs (sample, sample + shift) the KS test rejects at ALPHA."""
    n = len(sample)
    hits = 0
    for _ in range(draws):
        a = rng.choice(sample, n)
        b = rng.choice(sample, n) + shift
        hits += _ks(a, b) < ALPHA
    return hits / draws


def compare_ensembles(a, b, labels: tuple[str, str]) -> dict:
    """Per-city onset and national comparisons of two ensembles of the same scenario (KS tests,
    and the power of each onset test against a one- and two-day shift of ``b``'s onsets)."""
    days = a.records["participants"].shape[1]
    on_a = onset_days(a.records["participants"], a.onset_min).astype(float)
    on_b = onset_days(b.records["participants"], b.onset_min).astype(float)
    on_a[on_a < 0] = days
    on_b[on_b < 0] = days
    rng = np.random.default_rng(2019)
    cities = []
    for k, name in enumerate(a.city_names):
        x, y = on_a[:, k], on_b[:, k]
        if (x == days).all() and (y == days).all():
            continue  # never reached in either
        cities.append(
            {
                "city": name,
                "a_median": float(np.median(x)),
                "b_median": float(np.median(y)),
                "a_reached": float(np.mean(x < days)),
                "b_reached": float(np.mean(y < days)),
                "p": _ks(x, y),
                "power_1day": _power(y, rng),
                "power_2day": _power(y, rng, shift=2.0),
            }
        )
    national = []
    for outcome, fa, fb in (
        (
            "log10 national peak",
            np.log10(np.maximum(a.national["national_peak"].to_numpy(float), 1)),
            np.log10(np.maximum(b.national["national_peak"].to_numpy(float), 1)),
        ),
        ("cities reached", a.national["cities_reached"].to_numpy(float), b.national["cities_reached"].to_numpy(float)),
    ):
        national.append(
            {"outcome": outcome, "a_median": float(np.median(fa)), "b_median": float(np.median(fb)), "p": _ks(fa, fb)}
        )
    n_tests = len(cities) + len(national)
    return {
        "labels": labels,
        "seeds": len(a.seeds),
        "cities": cities,
        "national": national,
        "tests": n_tests,
        "bonferroni_alpha": ALPHA / n_tests,
    }


def compare(
    seeds: int = 30, scale: float = 1, workers: int | None = None, scheduler: str | None = None, progress: bool = True
) -> dict:
    """Run both schemes over ``seeds`` seeds; return per-city and national comparisons."""
    runs = {}
    for contacts in ("circulant", "uniform"):
        sc = load_scenario(SCENARIO, {"scale": scale, "dynamics.influence.contacts": contacts})
        t0 = time.perf_counter()
        ens = run_ensemble(sc, seeds=seeds, workers=workers, scheduler=scheduler, progress=progress)
        runs[contacts] = (ens, time.perf_counter() - t0)
    res = compare_ensembles(runs["circulant"][0], runs["uniform"][0], ("circulant", "uniform"))
    res.update(scale=scale, wall_s={k: v[1] for k, v in runs.items()})
    return res


def report(res: dict, command: str) -> str:
    """The comparison as Markdown."""
    a, b = res["labels"]
    lines = [
        f"Command: `{command}`",
        "",
        f"{res['seeds']} seeds per variant at scale {res['scale']:g}; {res['tests']} tests, Bonferroni "
        f"α = 0.01/{res['tests']} = {res['bonferroni_alpha']:.5f}. Wall time: {a} "
        f"{res['wall_s'][a]:.0f} s, {b} {res['wall_s'][b]:.0f} s for the whole ensemble.",
        "",
        f"| city | median onset day, {a} | {b} | reached, {a} | {b} | KS p | power vs a 1-day shift |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in res["cities"]:
        lines.append(
            f"| {r['city']} | {r['a_median']:.1f} | {r['b_median']:.1f} | {r['a_reached']:.0%} "
            f"| {r['b_reached']:.0%} | {r['p']:.3f} | {r['power_1day']:.2f} |"
        )
    lines += ["", f"| national outcome | median, {a} | {b} | KS p |", "|---|---:|---:|---:|"]
    for r in res["national"]:
        lines.append(f"| {r['outcome']} | {r['a_median']:.2f} | {r['b_median']:.2f} | {r['p']:.3f} |")
    ps = [r["p"] for r in res["cities"]] + [r["p"] for r in res["national"]]
    below = sum(p < ALPHA for p in ps)
    lines += [
        "",
        f"Smallest p = {min(ps):.4f}; {below} of {len(ps)} tests below 0.01 "
        f"(expected by chance alone: {0.01 * len(ps):.2f}); "
        f"{'none' if min(ps) >= res['bonferroni_alpha'] else 'some'} below the Bonferroni threshold.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=30)
    ap.add_argument("--scale", type=float, default=1)
    ap.add_argument("--workers", type=int)
    ap.add_argument("--write", help="write the Markdown report to this file")
    args = ap.parse_args()
    res = compare(args.seeds, args.scale, args.workers)
    command = f"python experiments/contact_equivalence.py --seeds {args.seeds} --scale {args.scale:g}"
    text = report(res, command)
    print(text)
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
