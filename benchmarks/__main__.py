"""Speed and memory harness: ``python -m benchmarks [--quick] [--out DIR]``.

Every comparison is a ratio of medians measured in this one process run (the
machine is shared and noisy; absolute numbers drift, ratios much less):

- the full daily step, default parameters, on the 24 Kazakh cities rescaled to
  N people, with the time per phase;
- the floor: per contact round one random draw per person, one gather per
  opinion from a uniformly drawn partner in the same city and one
  read-modify-write of each opinion array, over the same cities;
- the compiled kernels (:mod:`sim.rules.kernels`) against the NumPy versions they replaced
  (``benchmarks/numpy_kernels.py``), same population, same bits;
- the per-agent Mesa reference (``sim/reference.py``) on the same scenario;
- bytes of state per person and the peak RSS of a run in a fresh process;
- (full mode) the sweep engine's overhead per run (same runs direct vs through
  ``run_sweep``), and ``sim run scenarios/kazakhstan_2019.yaml`` end to end.

Results are printed as a table and written to ``DIR/<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

import numpy as np

from sim import OpinionModel, load_scenario
from sim.facts import PHASES
from sim.reference import ReferenceModel
from sim.results import package_versions
from sim.rules.influence import draw_partners

from .numpy_kernels import compare as compare_kernels
from .workloads import ROOT, scenario


def time_steps(n: int, days: int, repeats: int) -> dict:
    """Median seconds per day of ``OpinionModel.step`` at ``n`` people with the default (circulant)
    contacts, per phase, against the random-gather floor and the uniform scheme, in one run."""
    r = _time_model(n, days, repeats, "circulant", with_floor=True)
    u = _time_model(n, days, repeats, "uniform", with_floor=False)
    r["contacts"] = "circulant"
    r["uniform_step_s"] = u["step_s"]
    r["uniform_phase_s"] = u["phase_s"]
    r["uniform_over_floor"] = u["step_s"] / r["floor_s"]
    r["circulant_over_uniform"] = r["step_s"] / u["step_s"]
    return r


def _time_model(n: int, days: int, repeats: int, contacts: str, with_floor: bool) -> dict:
    sc = load_scenario(scenario(n, days=2 + days * repeats), {"dynamics.influence.contacts": contacts})
    t0 = time.perf_counter()
    model = OpinionModel(sc)
    setup = time.perf_counter() - t0
    model.step()  # warm-up: day 0
    model.step()  # day 1: the rumour, protest begins
    per_day, phases = [], {p: [] for p in PHASES}
    for _ in range(repeats):
        before = dict(model.phase_seconds)
        t0 = time.perf_counter()
        for _ in range(days):
            model.step()
        per_day.append((time.perf_counter() - t0) / days)
        for p in PHASES:
            phases[p].append((model.phase_seconds[p] - before[p]) / days)
    out = {
        "n": model.population.n,
        "setup_s": setup,
        "step_s": median(per_day),
        "agent_steps_per_s": model.population.n / median(per_day),
        "phase_s": {p: median(v) for p, v in phases.items()},
        "state_bytes_per_person": model.population.nbytes / model.population.n,
    }
    if with_floor:  # measured once per size, beside the default scheme
        floor = median(floor_day(model, sc.dynamics.influence.contacts_per_day) for _ in range(repeats))
        out.update(floor_s=floor, step_over_floor=out["step_s"] / floor)
    return out


def floor_day(model: OpinionModel, contacts: int) -> float:
    """Seconds for the floor of one day: the least any implementation of the contacts must do."""
    pop = model.population
    trust = np.ascontiguousarray(pop.trust)
    sino = np.ascontiguousarray(pop.sinophobia)
    idx = np.empty(pop.n, dtype=np.intp)
    buf = np.empty(pop.n, dtype=np.float32)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for _ in range(contacts):
        draw_partners(rng, pop.starts, pop.stops, out=idx)  # one draw per person, within the city
        for x in (trust, sino):
            np.take(x, idx, out=buf, mode="clip")  # one gather per opinion
            np.maximum(x, buf, out=x)  # one read-modify-write per opinion
    return time.perf_counter() - t0


def time_reference(n: int, days: int) -> dict:
    """Agent-steps/s of the per-agent Mesa reference and of the vectorised model at the same n."""
    sc = load_scenario(scenario(n, days=2 + days))

    def rate(model) -> float:
        model.step()  # days 0 and 1 (the rumour) as warm-up
        model.step()
        t0 = time.perf_counter()
        for _ in range(days):
            model.step()
        return n / ((time.perf_counter() - t0) / days)

    ref_rate, vec_rate = rate(ReferenceModel(sc)), rate(OpinionModel(sc))
    return {
        "n": n,
        "reference_agent_steps_per_s": ref_rate,
        "vectorised_agent_steps_per_s": vec_rate,
        "speedup_same_n": vec_rate / ref_rate,
    }


# Peak RSS from VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the parent
# through fork and exec, so a child of a big benchmark process reported the parent's peak.
_RSS_SCRIPT = """
import sys
sys.path.insert(0, {root!r})
from benchmarks.workloads import scenario
from sim import OpinionModel
m = OpinionModel(scenario({n}, days=3))
for _ in range(3):
    m.step()
with open("/proc/self/status") as fh:
    print(next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmHWM:")))
"""


def peak_rss(n: int) -> int:
    """Peak resident memory (bytes) of a fresh process running 3 days at n people."""
    out = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT.format(root=str(ROOT), n=n)], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip().splitlines()[-1])


def end_to_end() -> float:
    """Wall seconds of ``sim run scenarios/kazakhstan_2019.yaml`` (setup, run, files, plots)."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "sim",
                "run",
                str(ROOT / "scenarios" / "kazakhstan_2019.yaml"),
                "--quiet",
                "--out",
                tmp,
            ],
            check=True,
        )
        return time.perf_counter() - t0


def sweep_overhead(runs: int = 10, n: int = 1_500_000, days: int = 12) -> dict:
    """Engine overhead per run: each run timed directly (``sim.run``), through the engine's task
    function in this process (``--workers 0``) and as a task on a one-worker Dask cluster
    (submit to result), interleaved run by run so that machine noise hits all three alike.
    The cluster's start-up is timed once, separately."""
    import yaml

    from sim import run as sim_run
    from sim.executor import dask_client
    from sim.sweep import design_table, load_experiment, run_task

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "base.yaml").write_text(yaml.safe_dump(scenario(n, days=days)))
        exp_path = tmp / "exp.yaml"
        exp_path.write_text(
            yaml.safe_dump(
                {
                    "name": "overhead",
                    "base": "base.yaml",
                    "design": "grid",
                    "seed": 1,
                    "replicates": runs,
                    "parameters": {"dynamics.influence.rate": [0.3]},
                    "outcomes": ["cities_reached"],
                }
            )
        )
        exp = load_experiment(exp_path)
        (tmp / "runs").mkdir()
        tasks = [
            {
                "run_id": r["run_id"],
                "base": exp.base,
                "fixed": {},
                "params": {"dynamics.influence.rate": 0.3},
                "seed": int(r["seed"]),
                "outcomes": list(exp.outcomes),
                "out": str(tmp),
            }
            for r in design_table(exp).to_dict("records")
        ]
        t0 = time.perf_counter()
        with dask_client(workers=1) as client:
            startup = time.perf_counter() - t0
            client.submit(run_task, tasks[0], pure=False).result()  # warm the worker (imports)
            direct, serial, dask_ = [], [], []
            for task in tasks:
                t0 = time.perf_counter()
                sim_run(exp.base, seed=task["seed"], overrides=task["params"])
                direct.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                run_task(task)
                serial.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                client.submit(run_task, task, pure=False).result()
                dask_.append(time.perf_counter() - t0)
    ratio = lambda xs: median(x / d for x, d in zip(xs, direct))  # noqa: E731
    return {
        "runs": runs,
        "run_s": median(direct),
        "overhead_serial": ratio(serial) - 1,
        "overhead_dask_1_worker": ratio(dask_) - 1,
        "dask_startup_s": startup,
        "direct_s": direct,
        "serial_s": serial,
        "dask_s": dask_,
    }


def throughput(scale: float, runs: int, workers: tuple[int, ...] = (1, 2)) -> dict:
    """Simulations per hour of the default scenario at ``scale`` on the shared engine, as a
    calibration or sweep uses it: a cluster started once (start-up reported apart), ``runs`` seeds
    through :func:`sim.ensemble.run_ensemble`, for each worker count; and one run timed directly
    in this process, for the engine's overhead per run."""
    from sim import run as sim_run
    from sim.ensemble import run_ensemble
    from sim.executor import local_cluster

    sc = load_scenario(ROOT / "scenarios" / "kazakhstan_2019.yaml", {"scale": scale})
    t0 = time.perf_counter()
    sim_run(sc, seed=12345)
    direct = time.perf_counter() - t0
    out: dict = {"scale": scale, "runs": runs, "direct_run_s": direct, "workers": {}}
    for w in workers:
        t0 = time.perf_counter()
        with local_cluster(w) as cluster:
            startup = time.perf_counter() - t0
            run_ensemble(sc, seeds=w, scheduler=cluster.scheduler_address)  # warm the workers
            t0 = time.perf_counter()
            run_ensemble(sc, seeds=runs, scheduler=cluster.scheduler_address)
            wall = time.perf_counter() - t0
        out["workers"][w] = {
            "wall_s": wall,
            "startup_s": startup,
            "runs_per_hour": runs / wall * 3600,
            "overhead_per_run": wall * w / runs / direct - 1,
        }
    return out


def _calibration_proposals(runs: int) -> tuple:
    """The 2019 calibration file and ``runs`` proposals drawn from its priors (seed 2019): the
    workload of :func:`calibration_throughput` and :func:`calibration_breakdown`."""
    from sim.config.calibration import load_calibration

    cal = load_calibration(ROOT / "experiments" / "calibrate_2019.yaml")
    rng = np.random.default_rng(2019)
    return cal, [{p.path: p.value(float(p.from_z(p.sample_z(1, rng))[0])) for p in cal.priors} for _ in range(runs)]


def calibration_throughput(runs: int = 8, workers: tuple[int, ...] = (1, 2)) -> dict:
    """Simulations per hour of the 2019 calibration's own workload (``experiments/calibrate_2019.yaml``:
    scale 2, 28 days, proposals drawn from its priors, each compared with the observations), with a
    fresh set-up per simulation and with pooled set-ups (``population_pool``, :mod:`sim.warmstart`).

    Pooled runs are timed in the steady state of a long calibration, in which every worker holds its
    replicates: a pool of one, built by one untimed task per worker first (the cost per run does not
    depend on the pool's size while it fits in the cache). For each worker count the same ``runs``
    proposals run both ways on one cluster."""
    from sim.executor import execute, local_cluster, run_seed
    from sim.inference.calibrate import calibration_task

    cal, thetas = _calibration_proposals(runs)
    common = {"base": cal.base, "fixed": cal.fixed, "observed": list(cal.observed), "exclude": list(cal.exclude)}

    def tasks(pool: list[int] | None, offset: int) -> list[dict]:
        return [
            {**common, "k": k, "t": 0, "theta": th, "seed": run_seed(cal.seed, offset, k), "pool": pool}
            for k, th in enumerate(thetas)
        ]

    out: dict = {"runs": runs, "scale": cal.scenario().scale, "days": cal.scenario().days, "workers": {}}
    for w in workers:
        with local_cluster(w) as cluster:
            addr = cluster.scheduler_address
            row = {}
            list(execute(calibration_task, tasks([1, 7], 99)[:w], scheduler=addr, progress=False))  # build
            for label, pool in (("fresh", None), ("pooled", [1, 7])):
                t0 = time.perf_counter()
                done = list(execute(calibration_task, tasks(pool, 1), scheduler=addr, progress=False))
                wall = time.perf_counter() - t0
                ok = [r for r in done if r["status"] == "ok"]
                row[label] = {
                    "wall_s": wall,
                    "sims_per_hour": runs / wall * 3600,
                    "median_sim_s": median(r["wall_s"] for r in ok),
                    "hours_for_10000": 10_000 / (runs / wall * 3600),
                }
            out["workers"][w] = row
    return out


def calibration_breakdown(runs: int = 8) -> dict:
    """Where one pooled simulation of the calibration workload spends its time, in this process.

    The same proposals as :func:`calibration_throughput` (seed 2019), each run as a calibration
    worker runs it (:func:`sim.inference.calibrate.simulate_observed` without early rejection), after one
    untimed run builds the replicate: set-up (scenario file, pooled population, model), each
    phase of the days (``OpinionModel.phase_seconds``) and the comparison with the observations.
    Medians over the runs, seconds per simulation."""
    from sim.executor import run_seed
    from sim.inference.calibrate import _observation_model
    from sim.warmstart import PopulationPool

    cal, thetas = _calibration_proposals(runs)
    obs = _observation_model(tuple(cal.observed), tuple(map(tuple, cal.exclude)), cal.base, json.dumps(cal.fixed))
    pool = PopulationPool.of([1, 7])
    rows = []
    for k, theta in enumerate([thetas[0], *thetas]):
        seed = run_seed(cal.seed, 99 if k == 0 else 1, max(k - 1, 0))
        t0 = time.perf_counter()
        model = OpinionModel(load_scenario(cal.base, {**cal.fixed, **theta, "seed": seed}), pool=pool, means=False)
        t1 = time.perf_counter()
        while model.running:
            model.step()
        t2 = time.perf_counter()
        rec = model.records
        values, peaks = obs.simulate(rec["participants"], rec["new_detained"])
        obs.distance(values, peaks)
        t3 = time.perf_counter()
        if k:  # the first run builds the replicate and is not timed
            rows.append({"setup_s": t1 - t0, "days_s": t2 - t1, "compare_s": t3 - t2, **model.phase_seconds})
        people, days = int(model.population.n), int(model.scenario.days)
        del model, rec  # as in a worker, the run's arrays are freed before the next set-up
    keys = ["setup_s", "days_s", "compare_s", *PHASES]
    out = {key: median(r[key] for r in rows) for key in keys}
    out["total_s"] = out["setup_s"] + out["days_s"] + out["compare_s"]
    out["people"] = people
    out["days"] = days
    out["person_days_per_s"] = out["people"] * out["days"] / out["days_s"]
    return out


def whole_calibration(workers: int = 2) -> dict:
    """The 2019 calibration itself (``experiments/calibrate_2019.yaml``: 11 generations of 100
    particles, about 11,000 simulations, early rejection, pooled set-ups) on ``workers`` workers,
    timed: issue 12's hour for 10⁴ simulations, measured on the real thing rather than on a
    workload. The posterior predictive check and the plots are left out (they are not simulations
    of the calibration); the calibration folder is a temporary one."""
    import dataclasses

    from sim.config.calibration import load_calibration
    from sim.inference.calibrate import run_calibration

    cal = dataclasses.replace(load_calibration(ROOT / "experiments" / "calibrate_2019.yaml"), predictive_draws=0)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        diag = run_calibration(cal, Path(tmp) / "kz2019", workers=workers, plots=False, progress=True)
        wall = time.perf_counter() - t0
    gens = diag["generations"]
    done, hour_sims, clock = 0, None, 0.0
    for g in gens:  # when, in the generations' own time, the 10,000th simulation was reached
        if hour_sims is None and done + g["simulations"] >= 10_000:
            hour_sims = clock + g["wall_s"] * (10_000 - done) / g["simulations"]
        done += g["simulations"]
        clock += g["wall_s"]
    return {
        "workers": workers,
        "simulations": diag["simulations"],
        "generations_wall_s": clock,
        "wall_s": wall,
        "sims_per_hour": diag["simulations"] / clock * 3600,
        "sims_per_second": diag["simulations"] / clock,
        "seconds_to_10000": hour_sims,
        "generations": gens,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"), help="folder for the JSON")
    ap.add_argument(
        "--only",
        choices=["calibration", "whole-calibration"],
        help="only this part: 'calibration' = simulations per hour of the 2019 calibration workload (≈ 2-5 min); "
        "'whole-calibration' = the 2019 calibration itself, timed (≈ 11,000 simulations, 1-2 h)",
    )
    ap.add_argument("--workers", type=int, default=2, help="workers for --only whole-calibration (default 2)")
    args = ap.parse_args(argv)
    quick = args.quick
    if args.only == "whole-calibration":
        if args.workers < 1:
            ap.error(f"--workers must be at least 1, got {args.workers}")
        whole = whole_calibration(args.workers)
        print(
            f"2019 calibration on {whole['workers']} worker(s): {whole['simulations']:,} simulations in "
            f"{whole['generations_wall_s']:,.0f} s of generations ({whole['sims_per_hour']:,.0f} an hour, "
            f"{whole['sims_per_second']:.2f} a second); the 10,000th after "
            f"{whole['seconds_to_10000'] or float('nan'):,.0f} s; {whole['wall_s']:,.0f} s in all"
        )
        results = {
            **_header("whole-calibration"),
            "whole_calibration": whole,
        }
        return _write(results, args.out)
    if args.only == "calibration":
        results = {
            **_header("calibration"),
            "calibration_throughput": _print_calibration(calibration_throughput()),
        }
        return _write(results, args.out)
    sizes = [10**4, 10**5, 10**6] if quick else [10**4, 10**5, 10**6, 10**7]
    days, repeats = (2, 3) if quick else (3, 5)
    ref_n, ref_days = (2000, 1) if quick else (10**4, 2)

    results: dict = {
        **_header("quick" if quick else "full"),
        "step": [],
    }
    print(
        f"{'N':>10} {'Magent-steps/s':>15} {'step ms':>9} {'uniform':>9} {'floor ms':>9} {'step/floor':>10} "
        f"{'unif/floor':>10}  " + " ".join(f"{p[:6]:>7}" for p in PHASES) + "  (ms per day; phases: step)"
    )
    for n in sizes:
        r = time_steps(n, days, repeats)
        results["step"].append(r)
        print(
            f"{r['n']:>10,} {r['agent_steps_per_s'] / 1e6:>15.1f} {r['step_s'] * 1e3:>9.1f} "
            f"{r['uniform_step_s'] * 1e3:>9.1f} {r['floor_s'] * 1e3:>9.1f} {r['step_over_floor']:>10.2f} "
            f"{r['uniform_over_floor']:>10.2f}  " + " ".join(f"{r['phase_s'][p] * 1e3:>7.1f}" for p in PHASES)
        )
    big, prev = results["step"][-1], results["step"][-2]
    results["linearity"] = {"n_ratio": big["n"] / prev["n"], "time_ratio": big["step_s"] / prev["step_s"]}
    print(f"cost growth: {big['n'] / prev['n']:.0f}× people → {big['step_s'] / prev['step_s']:.1f}× time")

    results["kernels"] = []
    for n in sizes[-2:]:
        k = compare_kernels(n, repeats)
        results["kernels"].append(k)
        blocks = ", ".join(f"{b}: {t * 1e3:.1f}" for b, t in k["influence_compiled_s_by_block_rows"].items())
        print(
            f"kernels at {k['n']:,}: influence day NumPy {k['influence_numpy_s'] * 1e3:.1f} ms, compiled "
            f"{k['influence_compiled_s'] * 1e3:.1f} ms ({k['influence_speedup']:.1f}×; by block rows {blocks}); "
            f"protest NumPy {k['protest_numpy_s'] * 1e3:.1f} ms, compiled {k['protest_compiled_s'] * 1e3:.1f} ms "
            f"({k['protest_speedup']:.1f}×)"
        )
        rep = "; ".join(
            f"{share:g} active: NumPy {r['numpy_s'] * 1e3:.1f} ms, compiled {r['compiled_s'] * 1e3:.1f} ms "
            f"({r['speedup']:.1f}×)"
            for share, r in k["repression_by_active_share"].items()
        )
        print(f"kernels at {k['n']:,}: repression day, {rep}")
        dr = "; ".join(
            f"{name} NumPy {r['numpy_s'] * 1e3:.1f} ms, compiled {r['compiled_s'] * 1e3:.1f} ms ({r['speedup']:.1f}×)"
            for name, r in k["draws"].items()
        )
        print(f"kernels at {k['n']:,}: per-person draws and updates, {dr}")
        dp = k["protest_and_release"]
        print(
            f"kernels at {k['n']:,}: protest phase and release, three passes {dp['separate_s'] * 1e3:.1f} ms, "
            f"one {dp['fused_s'] * 1e3:.1f} ms ({dp['speedup']:.1f}×); with the means' pass a calibration "
            f"skips ({dp['tallies_s'] * 1e3:.1f} ms) {dp['calibration_speedup']:.1f}×"
        )

    ref = time_reference(ref_n, ref_days)
    best = max(r["agent_steps_per_s"] for r in results["step"])
    ref["speedup_vs_best_vectorised"] = best / ref["reference_agent_steps_per_s"]
    results["reference"] = ref
    print(
        f"per-agent Mesa reference at {ref_n:,}: {ref['reference_agent_steps_per_s']:,.0f} agent-steps/s; "
        f"vectorised at the same N: {ref['speedup_same_n']:.0f}× faster; "
        f"vectorised at its best N: {ref['speedup_vs_best_vectorised']:.0f}× faster"
    )

    rss_n = 10**6 if quick else 10**7
    rss = peak_rss(rss_n)
    results["memory"] = {
        "state_bytes_per_person": results["step"][-1]["state_bytes_per_person"],
        "peak_rss_n": rss_n,
        "peak_rss_bytes": rss,
    }
    print(
        f"state: {results['memory']['state_bytes_per_person']:.0f} bytes/person; "
        f"peak RSS at {rss_n:,} people: {rss / 2**30:.2f} GiB"
    )

    if not quick:
        ov = sweep_overhead()
        results["sweep_overhead"] = ov
        print(
            f"sweep engine, runs of {ov['run_s']:.2f} s: overhead per run {ov['overhead_serial']:+.1%} serial, "
            f"{ov['overhead_dask_1_worker']:+.1%} on a 1-worker Dask cluster "
            f"(plus {ov['dask_startup_s']:.1f} s cluster start-up once)"
        )
        results["throughput"] = []
        for scale, runs in ((10, 24), (2, 8)):
            tp = throughput(scale, runs)
            results["throughput"].append(tp)
            for w, r in tp["workers"].items():
                print(
                    f"default scenario at scale {scale}: {r['runs_per_hour']:,.0f} runs/hour with {w} worker(s) "
                    f"({runs} runs in {r['wall_s']:.1f} s; one run alone {tp['direct_run_s']:.2f} s; "
                    f"engine overhead per run {r['overhead_per_run']:+.1%}; cluster start-up {r['startup_s']:.1f} s)"
                )
        results["calibration_throughput"] = _print_calibration(calibration_throughput())
        wall = end_to_end()
        results["end_to_end_s"] = wall
        print(f"sim run scenarios/kazakhstan_2019.yaml: {wall:.1f} s end to end")

    return _write(results, args.out)


def _print_calibration(cal: dict) -> dict:
    for w, row in cal["workers"].items():
        print(
            f"calibration workload (scale {cal['scale']:g}, {cal['days']} days, {cal['runs']} prior draws), "
            f"{w} worker(s): fresh set-ups {row['fresh']['sims_per_hour']:,.0f} sims/hour, pooled "
            f"{row['pooled']['sims_per_hour']:,.0f} sims/hour (10,000 simulations: "
            f"{row['fresh']['hours_for_10000']:.1f} h and {row['pooled']['hours_for_10000']:.1f} h)"
        )
    b = cal["breakdown"] = calibration_breakdown(cal["runs"])
    phases = ", ".join(f"{p} {b[p]:.2f}" for p in PHASES)
    print(
        f"one pooled simulation in this process, median of {cal['runs']}: {b['total_s']:.2f} s = set-up "
        f"{b['setup_s']:.2f} + {b['days']} days {b['days_s']:.2f} ({phases}; "
        f"{b['person_days_per_s'] / 1e6:.0f} M person-days/s) + comparison {b['compare_s']:.3f}"
    )
    if 1 in cal["workers"] and 2 in cal["workers"]:
        one, two = cal["workers"][1]["pooled"], cal["workers"][2]["pooled"]
        scaling = two["sims_per_hour"] / one["sims_per_hour"]
        # 10^4/h on two workers = one worker at 10^4/scaling per hour, i.e. 0.36 s × scaling per simulation
        # through the engine; scaled to this process's own figure by the engine's time per simulation
        budget = 3600 / 10_000 * scaling * b["total_s"] / (3600 / one["sims_per_hour"])
        cal["hour_target"] = {"two_worker_scaling": scaling, "in_process_budget_s": budget}
        print(
            f"10,000 simulations in an hour on 2 workers (scaling {scaling:.2f}× one) needs about "
            f"{budget:.2f} s per simulation measured as above; the days alone take {b['days_s']:.2f} s"
        )
    return cal


def _header(mode: str) -> dict:
    """What every result file starts with: when, which part, on what machine and versions."""
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": mode,
        "machine": {"platform": platform.platform(), "processor": platform.processor(), "cpus": os.cpu_count()},
        "versions": package_versions(),
    }


def _write(results: dict, folder: str) -> int:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}-{results['mode']}.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
