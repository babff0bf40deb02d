"""The step's kernels as they were in NumPy before the compiled ones (:mod:`sim.rules.kernels`),
kept only to measure the two side by side (``python -m benchmarks``, "kernels"): the circulant
round in blocks of 32,768 rows, seven ufunc passes per block, with the anchor pull as a separate
pass; the protest decision in blocks, nine passes per block; the repression phase's release and
detention on index arrays (each candidate's city looked up); NumPy's own beta and uniform draws,
a message's effect and the status update against :mod:`sim.rules.draws` and their kernels. They
give the same bits as the compiled versions (checked by :func:`compare` before timing)."""

from __future__ import annotations

import time
from statistics import median

import numpy as np

from sim import OpinionModel, load_scenario
from sim.facts import ACTIVE, DETAINED, QUIET
from sim.rules import draws, influence, kernels, protest, repression

from .workloads import scenario

BLOCK = 32768


def circulant_round(x, starts, stops, offsets, eps, mu, saved):
    """One round, in place, city by city in blocks (the previous ``influence.circulant_round``,
    without its gathered path for cities of at most 2,048 rows, which these workloads barely have)."""
    eps, mu = np.float32(eps), np.float32(mu)
    d = np.empty((BLOCK, 2), dtype=np.float32)
    inside = np.empty((BLOCK, 2), dtype=bool)
    below = np.empty((BLOCK, 2), dtype=bool)

    def update(rows, partners):
        k = rows.shape[0]
        dd, a, b = d[:k], inside[:k], below[:k]
        np.subtract(partners, rows, out=dd)
        np.less(dd, eps, out=a)
        np.greater(dd, -eps, out=b)
        a &= b
        dd *= a
        dd *= mu
        rows += dd

    for s, e, o in zip(starts.tolist(), stops.tolist(), offsets.tolist()):
        n = e - s
        if o <= 0 or n < 2:
            continue
        city = x[s:e]
        if o <= n // 2:
            keep = saved[:o]
            np.copyto(keep, city[:o])
            for i in range(0, n - o, BLOCK):
                j = min(i + BLOCK, n - o)
                update(city[i:j], city[i + o : j + o])
            for i in range(n - o, n, BLOCK):
                j = min(i + BLOCK, n)
                update(city[i:j], keep[i - (n - o) : j - (n - o)])
        else:
            m = n - o
            keep = saved[:m]
            np.copyto(keep, city[n - m :])
            for j in range(n, m, -BLOCK):
                i = max(j - BLOCK, m)
                update(city[i:j], city[i - m : j - m])
            for j in range(m, 0, -BLOCK):
                i = max(j - BLOCK, 0)
                update(city[i:j], keep[i:j])


def influence_day(x, x0, starts, stops, offsets, eps, mu, lam, saved):
    """The rounds one after another over all cities, then the anchor pull as its own pass."""
    for o in offsets:
        circulant_round(x, starts, stops, o, eps, mu, saved)
    if lam > 0:
        d = np.subtract(x0, x, out=saved)
        d *= np.float32(lam)
        x += d


def decide(pop, city, params, active, grievance):
    """The previous ``protest.decide``: per city, blocks of ufunc passes with the city's scalars."""
    score, tmp, free = np.empty(BLOCK, np.float32), np.empty(BLOCK, np.float32), np.empty(BLOCK, bool)
    gw, sw = np.float32(params.grievance_weight), np.float32(params.sinophobia_weight)
    for c, (s, e) in enumerate(zip(pop.starts.tolist(), pop.stops.tolist())):
        sal = sw * np.float32(city.salience[c])
        lift, risk = np.float32(city.boost[c] + city.proof[c]), np.float32(city.arrest[c])
        for i in range(s, e, BLOCK):
            j = min(i + BLOCK, e)
            k = j - i
            g, sc, tm, ok = grievance[i:j], score[:k], tmp[:k], free[:k]
            np.subtract(np.float32(1), pop.trust[i:j], out=g)
            g *= pop.hardship[i:j]
            if gw != 1:
                g *= gw
            np.multiply(pop.sinophobia[i:j], sal, out=sc)
            sc += g
            sc += lift
            if city.call is not None and city.call[c] > 0:
                np.multiply(pop.heard[i:j], np.float32(city.call[c]), out=tm)
                sc += tm
            np.multiply(pop.risk_aversion[i:j], risk, out=tm)
            sc -= tm
            np.greater_equal(sc, pop.threshold[i:j], out=active[i:j])
            np.not_equal(pop.status[i:j], DETAINED, out=ok)
            active[i:j] &= ok


def repression_day(status, detention, active, stops, q, rng, min_days, max_days):
    """Release, then detention of the active with their city's probability (the previous
    ``_phase_repression``): index arrays, each candidate's city by ``searchsorted``."""
    held = np.flatnonzero(status == DETAINED)
    if held.size:
        left = detention[held] - np.uint8(1)
        detention[held] = left
        status[held[left == 0]] = QUIET
    cand = np.flatnonzero(active)
    if cand.size == 0:
        return np.zeros(stops.shape[0], dtype=np.int64)
    city_of = np.searchsorted(stops, cand, side="right")
    u = rng.random(cand.size)
    days = rng.integers(min_days, max_days + 1, size=cand.size, dtype=np.uint8)
    hit = repression.detain(status, detention, cand, q[city_of], u, days)
    return np.bincount(np.searchsorted(stops, hit, side="right"), minlength=stops.shape[0])


def compiled_repression_day(status, detention, active, starts, stops, q, rng, min_days, max_days):
    """The same with the step's compiled path (:mod:`sim.rules.repression`)."""
    repression.release(status, detention)
    cand, lo, hi = repression.candidates(active, starts, stops)
    return repression.detain_cities(status, detention, cand, lo, hi, q, rng, min_days, max_days)


def compare_repression(pop, repeats: int, shares=(1e-4, 1e-2, 0.2)) -> dict:
    """Median seconds of the repression phase, NumPy and compiled, with ``share`` of the people
    active and as many held (a quiet day, a busy one, and an exploding proposal of a calibration)."""
    out = {}
    q = np.linspace(0.1, 0.5, pop.n_cities)
    for share in shares:
        g = np.random.default_rng(11)
        active = g.random(pop.n) < share
        status = np.where(active, ACTIVE, np.where(g.random(pop.n) < share, DETAINED, QUIET)).astype(np.uint8)
        detention = np.where(status == DETAINED, g.integers(1, 4, pop.n), 0).astype(np.uint8)
        runs = {}
        for name, f in (
            ("numpy", lambda s, d, r, a=active: repression_day(s, d, a, pop.stops, q, r, 1, 4)),
            ("compiled", lambda s, d, r, a=active: compiled_repression_day(s, d, a, pop.starts, pop.stops, q, r, 1, 4)),
        ):
            s, d = status.copy(), detention.copy()
            new = f(s, d, np.random.default_rng(5))
            runs[name] = (s, d, new)
            times = []
            for _ in range(repeats):
                s, d = status.copy(), detention.copy()
                t0 = time.perf_counter()
                f(s, d, np.random.default_rng(5))
                times.append(time.perf_counter() - t0)
            runs[name] += (median(times),)
        (s1, d1, n1, t_np), (s2, d2, n2, t_c) = runs["numpy"], runs["compiled"]
        if not (np.array_equal(s1, s2) and np.array_equal(d1, d2) and np.array_equal(n1, n2)):
            raise AssertionError("the NumPy and compiled repression phases differ")
        out[share] = {"numpy_s": t_np, "compiled_s": t_c, "speedup": t_np / t_c}
    return out


def compare_draws(model: OpinionModel, repeats: int) -> dict:
    """Median seconds, NumPy and compiled, of what a calibration simulation draws or applies per
    person outside the kernels above: every person's threshold (the scenario's beta, redrawn per
    simulation because its mean is calibrated), who hears a call (reach 0.6), a message's effect
    on its hearers (the status update after the decision is timed with it: :func:`compare_day_pass`).
    Same bits, checked first."""
    pop = model.population
    a, b = model.scenario.population.for_city(model.geography.names[0], "threshold").shape()
    online = pop.online
    hears = online & (np.random.default_rng(2).random(pop.n) < 0.6)
    flat0 = pop.opinions.reshape(-1).copy()

    def message_numpy(flat):
        s = flat.reshape(-1, 2)[:, 1]
        delta = np.float32(0.1) * (np.float32(0.5) * s - (1 - s))
        s += delta * hears
        np.clip(s, 0, 1, out=s)

    cases = {
        "threshold_beta": (
            lambda: np.clip(np.random.default_rng(9).beta(a, b, size=pop.n), 0, 1).astype(np.float32),
            lambda: draws.beta32(np.random.default_rng(9), a, b, pop.n),
            None,
        ),
        "hearers": (
            lambda: online & (np.random.default_rng(9).random(pop.n) < 0.6),
            lambda: draws.bernoulli_masked(np.random.default_rng(9), 0.6, online),
            None,
        ),
        "message": (
            message_numpy,
            lambda f: kernels.message(f, 0, hears, np.float32(0.1), np.float32(0.5), False),
            flat0,
        ),
    }
    out = {}
    for name, (np_f, c_f, state) in cases.items():
        times: dict[str, float] = {}
        results = []
        for label, f in (("numpy", np_f), ("compiled", c_f)):
            ts = []
            for _ in range(repeats + 1):
                arg = None if state is None else state.copy()
                t0 = time.perf_counter()
                r = f() if state is None else f(arg)
                ts.append(time.perf_counter() - t0)
            results.append(r if state is None else arg)
            times[label] = median(ts[1:])
        if not np.array_equal(results[0], results[1]):
            raise AssertionError(f"the NumPy and compiled versions of {name} differ")
        t_np, t_c = times["numpy"], times["compiled"]
        out[name] = {"numpy_s": t_np, "compiled_s": t_c, "speedup": t_np / t_c}
    return out


def compare_day_pass(pop, drive, params, repeats: int) -> dict:
    """Median seconds of the protest phase and the day's release as the step ran them until
    2026-12-07 (three compiled passes: ``kernels.decide``, ``kernels.settle``, ``kernels.release``)
    and as one (``kernels.decide_day``), from the same state with 1% of people held; the same
    state after both, checked first. Also the record phase's pass over the people (``tallies``),
    which a calibration's model no longer runs (``OpinionModel(means=False)``): the calibration's
    ratio is (three passes + tallies) / one."""
    rng = np.random.default_rng(6)
    held = rng.random(pop.n) < 0.01
    status0 = np.where(held, DETAINED, pop.status).astype(np.uint8)
    detention0 = np.where(held, rng.integers(1, 4, size=pop.n), 0).astype(np.uint8)
    work = pop.copy()
    active, grievance = np.empty(pop.n, bool), np.empty(pop.n, np.float32)

    def fresh():
        work.status[:] = status0
        work.detention[:] = detention0

    def separate(_):
        protest.decide(work, drive, params, active=active, grievance=grievance)
        kernels.settle(work.status, active)
        kernels.release(work.status, work.detention, DETAINED, QUIET)

    def fused(_):
        protest.decide_day(work, drive, params, True, active, grievance)

    states = []
    for f in (separate, fused):
        fresh()
        f(None)
        states.append((work.status.copy(), work.detention.copy(), active.copy(), grievance.copy()))
    if not all(np.array_equal(a, b) for a, b in zip(*states)):
        raise AssertionError("the separate and fused protest-and-release passes differ")

    def tallies(_):
        work.tallies(grievance, active)

    times = {}
    for name, f in (("separate", separate), ("fused", fused), ("tallies", tallies)):
        ts = []
        for _ in range(repeats + 1):
            fresh()
            t0 = time.perf_counter()
            f(None)
            ts.append(time.perf_counter() - t0)
        times[name] = median(ts[1:])
    return {
        "separate_s": times["separate"],
        "fused_s": times["fused"],
        "speedup": times["separate"] / times["fused"],
        "tallies_s": times["tallies"],
        "calibration_speedup": (times["separate"] + times["tallies"]) / times["fused"],
    }


def compare(n: int, repeats: int = 5) -> dict:
    """Median seconds of a day of influence and of one protest decision at ``n`` people, NumPy
    and compiled, on the same population and offsets; both must give the same bits."""
    model = OpinionModel(load_scenario(scenario(n, days=4)))
    for _ in range(2):  # the rumour's day: protest has work to do
        model.step()
    pop, p = model.population, model.scenario.dynamics.influence
    rng = np.random.default_rng(3)
    offsets = np.array([influence.draw_offsets(rng, pop.starts, pop.stops) for _ in range(p.contacts_per_day)])
    saved = np.empty_like(pop.opinions)
    args = (pop.starts, pop.stops, offsets, p.confidence_bound, p.rate, p.stubbornness)

    def numpy_day(x):
        influence_day(x, pop.anchors, *args[:3], *args[3:], saved)

    def compiled_day(x):
        influence.circulant_day(x, pop.anchors, *args, saved=saved)

    a, b = pop.opinions.copy(), pop.opinions.copy()
    numpy_day(a)
    compiled_day(b)
    if not np.array_equal(a, b):
        raise AssertionError("the NumPy and compiled influence days differ")

    def clock(f, fresh):
        times = []
        for _ in range(repeats):
            arg = fresh()
            t0 = time.perf_counter()
            f(arg)
            times.append(time.perf_counter() - t0)
        return median(times)

    dyn = model.scenario.dynamics
    drive = protest.CityDrive(
        salience=model.state.salience,
        proof=protest.social_proof(model.participants, model._people, dyn.protest, dyn.media),
        arrest=model.arrest_probability(model.participants),
        boost=model.state.boost,
        call=model.state.call,
    )
    act_np, g_np = np.empty(pop.n, bool), np.empty(pop.n, np.float32)
    decide(pop, drive, dyn.protest, act_np, g_np)
    act_c, g_c = protest.decide(pop, drive, dyn.protest)
    if not (np.array_equal(act_np, act_c) and np.array_equal(g_np, g_c)):
        raise AssertionError("the NumPy and compiled protest decisions differ")
    influence_np = clock(numpy_day, pop.opinions.copy)
    influence_c = clock(compiled_day, pop.opinions.copy)

    def blocked_day(x, blk):
        influence.circulant_day(x, pop.anchors, *args, saved=saved, block=blk)

    blocks = (256, 1024, 4096, 32768)
    by_block = {blk: clock(lambda x, blk=blk: blocked_day(x, blk), pop.opinions.copy) for blk in blocks}
    protest_np = clock(lambda _: decide(pop, drive, dyn.protest, act_np, g_np), lambda: None)
    protest_c = clock(lambda _: protest.decide(pop, drive, dyn.protest, active=act_c, grievance=g_c), lambda: None)
    day_pass = compare_day_pass(pop, drive, dyn.protest, repeats)
    return {
        "n": pop.n,
        "pull_block_rows": kernels.PULL_BLOCK,
        "influence_numpy_s": influence_np,
        "influence_compiled_s": influence_c,
        "influence_speedup": influence_np / influence_c,
        "influence_compiled_s_by_block_rows": by_block,
        "protest_numpy_s": protest_np,
        "protest_compiled_s": protest_c,
        "protest_speedup": protest_np / protest_c,
        "protest_and_release": day_pass,
        "repression_by_active_share": compare_repression(pop, repeats),
        "draws": compare_draws(model, repeats),
    }
