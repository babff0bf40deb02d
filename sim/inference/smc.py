"""ABC-SMC (population Monte Carlo ABC) that is deterministic for a seed and resumable.

The algorithm is Beaumont et al. (2009) / Toni et al. (2009) with the adaptive tolerance of
Del Moral et al. (2012) as pyabc uses by default:

- generation 0 draws ``N`` particles from the prior and accepts them all (ε₀ = ∞);
- generation t sets εₜ to the weighted ``alpha``-quantile (default the median) of
  generation t−1's distances, proposes θ* by picking an ancestor by weight and perturbing
  its working coordinates ``z`` (:mod:`sim.inference.priors`) with N(0, 2Σ), Σ the weighted
  covariance of generation t−1, simulates once, accepts when the distance is ≤ εₜ, and
  stops at ``N`` accepted particles;
- weights ``wᵢ ∝ π(zᵢ) / Σⱼ wⱼ K(zᵢ | zⱼ)``.

Why not pyabc's samplers: docs/inference.md ("Why an own SMC") shows the measurement. In
short, with pyabc's parallel samplers the posterior depends on which worker finishes first,
so a seed does not fix the result and a resumed run is not the uninterrupted one. Here every
proposal ``k`` of generation ``t`` has its own generator (``SeedSequence([seed, t, k])``)
and simulation seed, proposals are evaluated in rounds whose size depends only on stored
results, and the first ``N`` accepted in proposal order are kept: the result is a function of
the seed alone, whatever the number of workers and however often the run is interrupted.

Store (``DIR/smc/``): ``gTT_rRRR.parquet`` per evaluated round, ``gTT.parquet`` and
``gTT.json`` per completed generation. A resumed run reloads them and goes on.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._io import atomic_write, write_json
from ..errors import SimError
from ..executor import run_seed
from .priors import Prior

__all__ = ["Generation", "SMCSettings", "effective_sample_size", "run_smc", "weighted_quantile"]

Task = dict[str, Any]
Evaluate = Callable[[list[Task]], Iterable[Task]]


@dataclass(frozen=True)
class SMCSettings:
    """Budget and tuning of one ABC-SMC run.

    Parameters
    ----------
    particles
        Accepted particles per generation (N).
    populations
        Most generations (including generation 0).
    max_simulations
        Stop when this many simulations have run; an incomplete generation is dropped.
    alpha
        Quantile of the previous distances that sets the next tolerance.
    min_epsilon
        Stop once the tolerance is at or below this.
    min_acceptance
        Stop once a generation's acceptance rate falls below this.
    seed
        Fixes every draw.
    """

    particles: int = 200
    populations: int = 8
    max_simulations: int = 1_000_000
    alpha: float = 0.5
    min_epsilon: float = 0.0
    min_acceptance: float = 0.005
    seed: int = 0


@dataclass
class Generation:
    """One completed generation."""

    t: int
    particles: pd.DataFrame  # z_<i>, theta columns named by path, distance, weight, k, seed
    epsilon: float
    simulations: int
    acceptance: float
    ess: float
    wall_s: float
    extra: dict[str, Any] = field(default_factory=dict)


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """The smallest x whose cumulative normalised weight reaches q."""
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(np.asarray(w, float)[order])
    cw /= cw[-1]
    at = min(int(np.searchsorted(cw, q)), len(x) - 1)
    return float(np.asarray(x, float)[order][at])


def effective_sample_size(w: np.ndarray) -> float:
    """Kish's ESS, 1 / Σ w² for normalised weights."""
    w = np.asarray(w, float) / np.sum(w)
    return float(1.0 / np.sum(w * w))


def _zcols(d: int) -> list[str]:
    return [f"z{i}" for i in range(d)]


def _log_prior(priors: list[Prior], z: np.ndarray) -> np.ndarray:
    return np.sum([p.logpdf_z(z[:, i]) for i, p in enumerate(priors)], axis=0)


class _Proposer:
    """Draws proposal k of a generation from its own generator."""

    def __init__(self, priors: list[Prior], settings: SMCSettings, t: int, prev: Generation | None):
        self.priors, self.settings, self.t = priors, settings, t
        self.d = len(priors)
        self.bounds = [p.z_bounds for p in priors]
        if prev is not None:
            z = prev.particles[_zcols(self.d)].to_numpy(float)
            w = prev.particles["weight"].to_numpy(float)
            self.anc_z, self.anc_w = z, w / w.sum()
            cov = 2.0 * np.atleast_2d(np.cov(z.T, aweights=self.anc_w, bias=True))
            cov += np.eye(self.d) * 1e-12 * max(1.0, float(np.trace(cov)))
            self.cov = cov
            self.chol = np.linalg.cholesky(cov)
            self.cum = np.cumsum(self.anc_w)
            self.cum[-1] = 1.0

    def draw(self, k: int) -> np.ndarray:
        """Working coordinates of proposal k (inside the prior's support)."""
        rng = np.random.default_rng(np.random.SeedSequence([self.settings.seed, self.t, k, 0xABC]))
        if self.t == 0:
            return np.array([p.sample_z(1, rng)[0] for p in self.priors])
        for _ in range(10_000):
            j = int(np.searchsorted(self.cum, rng.random(), side="right"))
            z = self.anc_z[min(j, len(self.anc_z) - 1)] + self.chol @ rng.standard_normal(self.d)
            if all(lo <= v <= hi for v, (lo, hi) in zip(z, self.bounds)):
                return z
        raise SimError("the perturbation kernel left the prior's support 10,000 times in a row; check the priors")

    def weights(self, z: np.ndarray) -> np.ndarray:
        """Importance weights of accepted particles (normalised)."""
        if self.t == 0:
            return np.full(len(z), 1.0 / len(z))
        log_prior = _log_prior(self.priors, z)
        inv = np.linalg.inv(self.cov)
        _, logdet = np.linalg.slogdet(self.cov)
        diff = z[:, None, :] - self.anc_z[None, :, :]
        maha = np.einsum("ija,ab,ijb->ij", diff, inv, diff)
        log_k = -0.5 * (maha + logdet + self.d * math.log(2 * math.pi))
        log_mix = np.log(np.maximum(np.exp(log_k - log_k.max()) @ self.anc_w, 1e-300)) + log_k.max()
        log_w = log_prior - log_mix
        w = np.exp(log_w - log_w.max())
        return w / w.sum()


def _parquet_writer(frame: pd.DataFrame) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        frame.to_parquet(path, index=False)

    return write


def _accepted(frame: pd.DataFrame, eps: float) -> np.ndarray:
    dist = frame["distance"].to_numpy(float)
    return np.isfinite(dist) & (dist <= eps)


def _round_path(store: Path, t: int, r: int) -> Path:
    return store / f"g{t:02d}_r{r:03d}.parquet"


def _load_generation(store: Path, t: int) -> Generation | None:
    meta_path, part_path = store / f"g{t:02d}.json", store / f"g{t:02d}.parquet"
    if not (meta_path.exists() and part_path.exists()):
        return None
    meta = json.loads(meta_path.read_text())
    return Generation(
        t=t,
        particles=pd.read_parquet(part_path),
        epsilon=float(meta["epsilon"]),
        simulations=int(meta["simulations"]),
        acceptance=float(meta["acceptance"]),
        ess=float(meta["ess"]),
        wall_s=float(meta["wall_s"]),
        extra=meta.get("extra", {}),
    )


def run_smc(
    priors: list[Prior],
    evaluate: Evaluate,
    settings: SMCSettings,
    store: str | Path,
    on_generation: Callable[[Generation], None] | None = None,
    log: Callable[[str], None] | None = None,
) -> list[Generation]:
    """Run (or continue) ABC-SMC.

    Parameters
    ----------
    priors
        One per parameter, in order.
    evaluate
        Takes a list of tasks ``{"k", "t", "theta": {path: value}, "seed"}`` and yields
        results ``{"k", "status", "distance", ...}`` in any order (``status != "ok"`` counts as
        rejected). Extra keys of a result are kept in the round file.
    settings
        Budget, tuning and seed.
    store
        Folder of the round and generation files; existing ones are reused (resume).
    on_generation
        Called after each completed generation.
    log
        Where one line per generation goes.

    Returns
    -------
    list of Generation
        Every completed generation; the last is the posterior.
    """
    store = Path(store)
    store.mkdir(parents=True, exist_ok=True)
    paths = [p.path for p in priors]
    gens: list[Generation] = []
    used = 0
    for t in range(settings.populations):
        done = _load_generation(store, t)
        if done is not None:
            gens.append(done)
            used += done.simulations
            continue
        prev = gens[-1] if gens else None
        if prev is not None:
            if prev.acceptance < settings.min_acceptance:
                _say(log, f"stop: acceptance {prev.acceptance:.4f} < {settings.min_acceptance}")
                break
            if prev.epsilon <= settings.min_epsilon:
                _say(log, f"stop: ε {prev.epsilon:.4g} ≤ min_epsilon {settings.min_epsilon}")
                break
        eps = (
            math.inf
            if prev is None
            else weighted_quantile(
                prev.particles["distance"].to_numpy(), prev.particles["weight"].to_numpy(), settings.alpha
            )
        )
        gen = _generation(t, eps, priors, evaluate, settings, store, prev, used, log)
        if gen is None:
            _say(log, f"stop: simulation budget {settings.max_simulations:,} reached during generation {t}")
            break
        used += gen.simulations
        meta = {k: v for k, v in asdict(gen).items() if k != "particles"}
        meta["paths"] = paths
        atomic_write(store / f"g{t:02d}.parquet", _parquet_writer(gen.particles))
        write_json(store / f"g{t:02d}.json", meta)
        gens.append(gen)
        _say(
            log,
            f"generation {t}: ε {gen.epsilon:.4g}, acceptance {gen.acceptance:.3f}, ESS {gen.ess:.0f}, "
            f"{gen.simulations:,} simulations ({used:,} in all), {gen.wall_s:.0f} s",
        )
        if on_generation is not None:
            on_generation(gen)
        if used >= settings.max_simulations:
            break
    if not gens:
        raise SimError("no generation completed; raise the simulation budget")
    return gens


def _say(log: Callable[[str], None] | None, text: str) -> None:
    if log is not None:
        log(text)


def _generation(
    t: int,
    eps: float,
    priors: list[Prior],
    evaluate: Evaluate,
    settings: SMCSettings,
    store: Path,
    prev: Generation | None,
    used: int,
    log: Callable[[str], None] | None,
) -> Generation | None:
    t0 = time.perf_counter()
    d, n = len(priors), settings.particles
    proposer = _Proposer(priors, settings, t, prev)
    rounds: list[pd.DataFrame] = []
    accepted = 0
    k_next = 0
    r = 0
    rate = 1.0 if prev is None else max(prev.acceptance, 0.01)
    while accepted < n:
        path = _round_path(store, t, r)
        if path.exists():
            frame = pd.read_parquet(path)
        else:
            need = n - accepted
            size = n if prev is None else int(min(max(math.ceil(need / rate * 1.2), 8), 20 * n))
            size = min(size, settings.max_simulations - used - sum(len(f) for f in rounds))
            if size <= 0:
                return None
            frame = _evaluate_round(t, k_next, size, proposer, priors, evaluate, settings, eps)
            atomic_write(path, _parquet_writer(frame))
        rounds.append(frame)
        k_next = int(frame["k"].max()) + 1
        ok = _accepted(frame, eps)
        accepted += int(ok.sum())
        seen = sum(len(f) for f in rounds)
        rate = max(accepted / seen, 0.5 / seen)
        r += 1
    allr = pd.concat(rounds, ignore_index=True).sort_values("k", kind="stable")
    acc = allr[_accepted(allr, eps)].head(n).reset_index(drop=True)
    z = acc[_zcols(d)].to_numpy(float)
    acc["weight"] = proposer.weights(z)
    sims = len(allr)  # every evaluated proposal was simulated (the overshoot of the last round included)
    return Generation(
        t=t,
        particles=acc,
        epsilon=eps,
        simulations=sims,
        acceptance=n / sims,
        ess=effective_sample_size(acc["weight"].to_numpy()),
        wall_s=time.perf_counter() - t0,
        extra=_early_stops(allr),
    )


def _early_stops(rounds: pd.DataFrame) -> dict[str, Any]:
    """How many of a generation's simulations were stopped early, and on what day on average."""
    if "stopped_day" not in rounds:
        return {}
    day = rounds["stopped_day"].to_numpy(float)
    stopped = np.isfinite(day) & (day >= 0)
    return {"stopped_early": int(stopped.sum()), "mean_stop_day": float(day[stopped].mean()) if stopped.any() else None}


def _evaluate_round(
    t: int,
    k0: int,
    size: int,
    proposer: _Proposer,
    priors: list[Prior],
    evaluate: Evaluate,
    settings: SMCSettings,
    eps: float,
) -> pd.DataFrame:
    tasks: list[Task] = []
    zs: dict[int, np.ndarray] = {}
    for k in range(k0, k0 + size):
        z = proposer.draw(k)
        zs[k] = z
        theta = {p.path: p.value(float(p.from_z(np.array(z[i])))) for i, p in enumerate(priors)}
        tasks.append({"k": k, "t": t, "epsilon": eps, "theta": theta, "seed": run_seed(settings.seed, t + 1, k)})
    results = {res["k"]: res for res in evaluate(tasks)}
    rows = []
    for task in tasks:
        k = int(task["k"])
        res = results.get(k, {"status": "failed", "error": "no result"})
        dist = float(res.get("distance", math.inf)) if res.get("status") == "ok" else math.inf
        row = {"k": task["k"], "seed": task["seed"], "distance": dist, "status": res.get("status", "failed")}
        row.update({f"z{i}": float(v) for i, v in enumerate(zs[k])})
        row.update(dict(task["theta"]))
        for key, val in res.items():
            if key not in row and key not in ("task", "error") and np.isscalar(val):
                row[key] = val
        rows.append(row)
    return pd.DataFrame(rows)
