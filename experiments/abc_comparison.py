"""pyabc's ABC-SMC against sim's own, on the synthetic two-town problem.

Both samplers get the same model, priors, distance (the observation model's), population size
and number of generations. Measured: simulations used, the final tolerance, the posterior
medians and 90% intervals, and whether two runs with the same seed give the same posterior —
for pyabc with its single-core sampler (after ``numpy.random.seed``) and with its Dask sampler
on two workers, for sim's with two workers. Also whether a stopped run can be resumed to the
uninterrupted result (sim's: tests/test_inference.py).

Usage::

    pip install "pyabc==0.13.*"
    python experiments/abc_comparison.py [--particles 50] [--populations 4]

docs/inference.md ("Why an own SMC") quotes the output.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "experiments"))

from synthetic_calibration import BASE, FIXED, make_problem  # noqa: E402

from sim import load_scenario  # noqa: E402
from sim.config.calibration import load_calibration  # noqa: E402
from sim.inference.calibrate import run_calibration, weighted_summary  # noqa: E402
from sim.inference.observe import ObservationModel  # noqa: E402
from sim.model import OpinionModel  # noqa: E402

PATHS = ("population.threshold.mean", "dynamics.media.national_weight")


class _Model:
    """pyabc model: parameters → {"d": distance}; the run's seed comes from numpy's global state,
    which is all pyabc offers (its workers seed it themselves)."""

    def __init__(self, observations: Path):
        self.observations = observations

    def __call__(self, par: dict) -> dict:
        seed = int(np.random.randint(0, 2**31 - 1))  # noqa: NPY002 - pyabc's own convention, measured here
        theta = {PATHS[0]: float(par["thr"]), PATHS[1]: float(math.exp(par["lognw"]))}
        scenario = load_scenario(BASE, {**FIXED, **theta, "seed": seed})
        result = OpinionModel(scenario).run(progress=False)
        obs = ObservationModel.from_files([self.observations], scenario)
        values, peaks = obs.simulate(result.records["participants"], result.records["new_detained"])
        return {"d": obs.distance(values, peaks)}


def _pyabc_run(obs_csv: Path, particles: int, populations: int, seed: int, workers: int) -> dict:
    import pyabc

    prior = pyabc.Distribution(
        thr=pyabc.RV("uniform", 0.8, 0.17), lognw=pyabc.RV("uniform", math.log(0.1), math.log(100.0))
    )
    np.random.seed(seed)  # noqa: NPY002 - the only seed pyabc takes
    client = cluster = None
    if workers > 1:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=":0")
        client = Client(cluster)
        sampler = pyabc.sampler.DaskDistributedSampler(dask_client=client)
    else:
        sampler = pyabc.sampler.SingleCoreSampler()
    try:
        abc = pyabc.ABCSMC(_Model(obs_csv), prior, lambda x, x0: x["d"], population_size=particles, sampler=sampler)
        with tempfile.TemporaryDirectory() as d:
            abc.new(f"sqlite:///{d}/abc.db", {"d": 0.0})
            t0 = time.perf_counter()
            history = abc.run(max_nr_populations=populations)
            wall = time.perf_counter() - t0
            df, w = history.get_distribution()
            pops = history.get_all_populations()
            sims = int(history.total_nr_simulations)
            eps = float(pops["epsilon"].iloc[-1])
    finally:
        if client is not None:
            client.close()
            cluster.close()
    thr = weighted_summary(df["thr"].to_numpy(), w)
    nw = weighted_summary(np.exp(df["lognw"].to_numpy()), w)
    return {
        "sampler": f"pyabc {'Dask ×' + str(workers) if workers > 1 else 'single core'}",
        "seed": seed,
        "simulations": sims,
        "final_epsilon": eps,
        "wall_s": wall,
        "thr_median": thr["median"],
        "thr_90": (thr["q05"], thr["q95"]),
        "nw_median": nw["median"],
        "nw_90": (nw["q05"], nw["q95"]),
        "fingerprint": float(np.sum(df["thr"].to_numpy() * w)),
    }


def _own_run(work: Path, particles: int, populations: int, seed: int, workers: int) -> dict:
    cal_path = make_problem(work, particles, populations, seed)
    out = work / f"run-{seed}-{workers}-{time.monotonic_ns()}"
    t0 = time.perf_counter()
    diag = run_calibration(load_calibration(cal_path), out, workers=workers, progress=False, plots=False)
    wall = time.perf_counter() - t0
    post = pd.read_parquet(out / "posterior.parquet")
    last = post[post["generation"] == post["generation"].max()]
    w = last["weight"].to_numpy()
    thr = weighted_summary(last[PATHS[0]].to_numpy(), w)
    nw = weighted_summary(last[PATHS[1]].to_numpy(), w)
    return {
        "sampler": f"sim {'×' + str(workers) + ' workers' if workers else 'serial'}",
        "seed": seed,
        "simulations": diag["simulations"],
        "final_epsilon": diag["generations"][-1]["epsilon"],
        "wall_s": wall,
        "thr_median": thr["median"],
        "thr_90": (thr["q05"], thr["q95"]),
        "nw_median": nw["median"],
        "nw_90": (nw["q05"], nw["q95"]),
        "fingerprint": float(np.sum(last[PATHS[0]].to_numpy() * w)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--particles", type=int, default=50)
    ap.add_argument("--populations", type=int, default=4)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        make_problem(work, args.particles, args.populations)
        obs_csv = work / "observations.csv"
        for workers in (1, 2):
            for _ in range(2):
                rows.append(_pyabc_run(obs_csv, args.particles, args.populations, seed=5, workers=workers))
                print(rows[-1], flush=True)
        for workers in (0, 2):
            for _ in range(2):
                rows.append(_own_run(work, args.particles, args.populations, seed=5, workers=workers))
                print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    same = table.groupby("sampler")["fingerprint"].agg(lambda f: bool(np.isclose(f.iloc[0], f.iloc[-1])))
    table["same posterior twice"] = table["sampler"].map(same)
    print(table.drop(columns=["fingerprint"]).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
