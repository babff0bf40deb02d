"""``OpinionModel``: the Mesa shell around the vectorised kernels.

Mesa provides the model object, the seeded generator, the step counter and
the run loop; cities are Mesa agents (24 of them, not one per person). People
live in :class:`~sim.population.Population` arrays and every phase is a
kernel from :mod:`sim.rules` applied to all of them at once.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import numpy as np
from tqdm.auto import tqdm

from .config import Scenario, load_scenario
from .config.schema import InfluenceParams
from .facts import ACTIVE, MEANS, PHASES, QUIET, RECORDED
from .geography import Geography
from .population import Population
from .results import Result
from .rules import influence, media, protest, repression
from .rules.calls import CallBook, issue_call
from .rules.events import CityState, schedule
from .warmstart import PopulationPool, pooled_population

__all__ = [
    "RECORDED",
    "CityAgent",
    "InfluenceBuffers",
    "ModelShell",
    "OpinionModel",
    "ScenarioLike",
    "influence_day",
    "warm_population",
]

#: What the models accept as a scenario.
ScenarioLike = Scenario | str | Path | dict[str, Any]


@dataclass
class InfluenceBuffers:
    """Preallocated arrays of the influence phase (the gather buffers only for uniform contacts)."""

    scratch: np.ndarray
    partners: np.ndarray | None = None
    mask: np.ndarray | None = None
    mask2: np.ndarray | None = None

    @classmethod
    def allocate(cls, n: int, params: InfluenceParams) -> InfluenceBuffers:
        scratch = np.empty((n, 2), dtype=np.float32)
        if params.contacts != "uniform":
            return cls(scratch)
        return cls(scratch, np.empty(n, dtype=np.intp), np.empty((n, 2), dtype=bool), np.empty((n, 2), dtype=bool))


def influence_day(pop: Population, p: InfluenceParams, rng: np.random.Generator, buf: InfluenceBuffers) -> None:
    """One day of the influence phase: ``p.contacts_per_day`` contact rounds within each city, then
    the pull to the anchors (docs/model.md, "Influence")."""
    if not p.enabled:
        return
    if p.mode == "pairwise" and p.contacts == "circulant":  # the day's offsets, round by round, then one pass
        offsets = np.array([influence.draw_offsets(rng, pop.starts, pop.stops) for _ in range(p.contacts_per_day)])
        influence.circulant_day(
            pop.opinions,
            pop.anchors,
            pop.starts,
            pop.stops,
            offsets,
            p.confidence_bound,
            p.rate,
            p.stubbornness,
            saved=buf.scratch,
        )
        return
    for _ in range(p.contacts_per_day):
        if p.mode == "pairwise":
            assert buf.partners is not None and buf.mask is not None and buf.mask2 is not None
            influence.draw_partners(rng, pop.starts, pop.stops, out=buf.partners)
            influence.deffuant_round(
                pop.opinions,
                buf.partners,
                p.confidence_bound,
                p.rate,
                scratch=buf.scratch,
                mask=buf.mask,
                mask2=buf.mask2,
            )
        else:
            influence.mean_field_round(pop.opinions, pop.starts, p.rate)
    influence.anchor(pop.opinions, pop.anchors, p.stubbornness, scratch=buf.scratch)


def warm_population(scenario: Scenario, pop: Population, rng: np.random.Generator) -> None:
    """Run the scenario's ``warmup_days`` of influence only on ``pop``, drawing from ``rng``."""
    params = scenario.dynamics.influence
    buf = InfluenceBuffers.allocate(pop.n, params)
    for _ in range(scenario.warmup_days):
        influence_day(pop, params, rng, buf)


class ModelShell(mesa.Model):
    """Set-up shared by :class:`OpinionModel` and the per-agent reference: load the scenario,
    seed Mesa's generator with ``default_rng(SeedSequence(seed))`` and build the geography."""

    def __init__(self, scenario: ScenarioLike, seed: int | None = None):
        self.scenario: Scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.seed = int(self.scenario.seed if seed is None else seed)
        super().__init__(rng=np.random.default_rng(np.random.SeedSequence(self.seed)))
        self.geography = Geography.from_scenario(self.scenario)
        self.day = 0

    def _release_agent_counter(self) -> None:
        """Drop this model from Mesa's class-level id counters, once all agents exist.

        Mesa 3.3's ``Agent`` numbers agents with a counter kept in a class attribute, a
        ``defaultdict`` keyed by the model: the key keeps every model (and its arrays) alive for
        the life of the process, so each run in a sweep worker leaked its whole population.
        Models here create no agents after set-up, so the counter is not needed again.
        """
        mesa.Agent._ids.pop(self, None)


class CityAgent(mesa.Agent):
    """One city as a Mesa agent: a named view on its slice of the population."""

    model: OpinionModel

    def __init__(self, model: OpinionModel, index: int, name: str):
        super().__init__(model)
        self.index = index
        self.name = name

    @property
    def people(self) -> slice:
        """This city's slice of every population array."""
        return self.model.population.city(self.index)

    @property
    def participants(self) -> float:
        """Participants on the last completed day (people)."""
        return float(self.model.participants[self.index])

    @property
    def salience(self) -> float:
        return float(self.model.state.salience[self.index])


class OpinionModel(ModelShell):
    """Opinion diffusion and protest spread over a scenario's cities.

    Parameters
    ----------
    scenario
        A :class:`~sim.config.Scenario`, a path to a YAML file, or a mapping.
    seed
        Overrides ``scenario.seed``. The run's generator is
        ``numpy.random.default_rng(SeedSequence(seed))``; nothing else draws, except the
        set-up streams of a ``pool``.
    pool
        Share set-ups between runs (:mod:`sim.warmstart`): the run takes one of ``pool.size``
        warmed populations, picked with its own generator. None or size 0: a fresh set-up.
    means
        Record the per-city means (``mean_trust``, ``mean_sinophobia``, ``mean_grievance``).
        False leaves them NaN and saves the day's pass that sums them (a calibration compares
        crowds and detentions only); every other record and the dynamics are the same.

    Attributes
    ----------
    population
        :class:`~sim.population.Population`: per-person arrays by name.
    cities
        City table (pandas DataFrame) with agent slices.
    state
        Per-city salience, police factor and focal boost.
    records
        Preallocated ``(days, cities)`` arrays, one per name in ``RECORDED``.
    day
        Number of completed days.
    """

    def __init__(
        self,
        scenario: ScenarioLike,
        seed: int | None = None,
        pool: PopulationPool | None = None,
        means: bool = True,
    ):
        super().__init__(scenario, seed)
        scenario = self.scenario
        self.cities = self.geography.table
        pooled = pool is not None and pool.size > 0
        if pooled:
            assert pool is not None
            self.population = pooled_population(scenario, self.geography, pool, self.rng)
        else:
            self.population = Population.from_scenario(scenario, self.geography, self.rng)
        t = self.cities
        C = len(t)
        self.state = CityState.initial(t["initial_salience"].to_numpy(dtype=np.float64), self.geography.names)
        self.calls = CallBook(scenario.dynamics.calls, C)
        self._people = t["population"].to_numpy(dtype=np.float64)
        self._police_base = t["police_per_1000"].to_numpy(dtype=np.float64) * self._people / 1000.0
        self._reach = t["media_reach"].to_numpy(dtype=np.float64)
        self._slices = [self.population.city(c) for c in range(C)]
        self._events = schedule(scenario.events, scenario.days)
        days = scenario.days
        self.records = {name: np.zeros((days, C)) for name in RECORDED}
        self._means = bool(means)
        if not self._means:
            for name in MEANS:
                self.records[name][:] = np.nan
        self.histograms: np.ndarray | None = None
        if scenario.outputs.histograms:
            self.histograms = np.zeros((days, C, 2, scenario.outputs.histogram_bins), dtype=np.float64)
        self.participants = np.zeros(C)  # yesterday's crowd, people
        self._buffers = InfluenceBuffers.allocate(self.population.n, scenario.dynamics.influence)
        self._active = np.zeros(self.population.n, dtype=bool)
        self._grievance = np.zeros(self.population.n, dtype=np.float32)
        self._new_detained = np.zeros(C, dtype=np.int64)
        # today's (active, held after release) per city, when the protest phase's pass made them
        # (it then also served the day's release)
        self._counts: np.ndarray | None = None
        self._phases = [(name, getattr(self, f"_phase_{name}")) for name in PHASES]
        self.phase_seconds = dict.fromkeys(PHASES, 0.0)
        self.city_agents = [CityAgent(self, c, name) for c, name in enumerate(self.geography.names)]
        self._release_agent_counter()
        if not pooled:  # a pooled population comes warmed up
            self.warm_up(scenario.warmup_days)

    def warm_up(self, days: int) -> None:
        """Run ``days`` days of the influence phase only (no events, media, protest or police), so
        that opinions reach their resting state; ``warmup_days`` of the scenario at set-up."""
        for _ in range(days):
            self._phase_influence()

    # ------------------------------------------------------------------ step
    def step(self) -> None:
        """Advance one day. The phases, in this order:

        1. **events**: expired focal boosts and calls end; endogenous calls made by
           yesterday's crowds fall due; the day's scheduled events apply;
        2. **salience**: per-city salience decays and rises with yesterday's
           protest visibility (own city, gravity network, national media),
           damped by attention fatigue, which then grows; online people's
           opinions drift with salience;
        3. **influence**: ``contacts_per_day`` rounds of bounded-confidence
           contacts within each city, then the pull to the anchors;
        4. **protest**: who is active today (Epstein with social proof);
        5. **repression**: detentions end and begin; backlash on trust;
        6. **record**: per-city metrics of the day.
        """
        if self.day >= self.scenario.days:
            raise RuntimeError(f"the scenario has {self.scenario.days} days; all have been run")
        clock = time.perf_counter
        for name, phase in self._phases:
            t0 = clock()
            phase()
            self.phase_seconds[name] += clock() - t0
        self.day += 1
        if self.day >= self.scenario.days:
            self.running = False

    def _phase_events(self) -> None:
        st = self.state
        st.expire(self.day)
        st.participants = self.participants
        if self.day > 0:
            self.calls.observe(self.day - 1, self.participants)
        if self.calls.due(self.day):
            cp = self.calls.params
            everyone = np.arange(len(self._slices))
            issue_call(everyone, self._slices, self.population, st, self.rng, self.day, cp.strength, cp.reach, cp.days)
        for ev in self._events.get(self.day, ()):
            idx = self.geography.index(ev.cities)
            ev.apply(idx, [self._slices[i] for i in idx], self.population, st, self.rng, self.day)

    def _phase_salience(self) -> None:
        m = self.scenario.dynamics.media
        if not m.enabled:
            return
        st = self.state
        restricted = bool((st.online < 1).any())
        st.salience = media.update_salience(
            st.salience,
            self.participants,
            self.geography.network,
            self._reach,
            m,
            fatigue=st.fatigue,
            online=st.online if restricted else None,
        )
        if m.attention_fatigue > 0:
            st.fatigue = media.update_fatigue(st.fatigue, st.salience, m.attention_fatigue, m.fatigue_half_life_days)
        if (m.sinophobia_rate > 0 or m.trust_rate > 0) and st.salience.any():
            felt = st.salience * st.online if restricted else st.salience  # online drift needs online access
            media.exposure(self.population, felt, m)

    def _phase_influence(self) -> None:
        influence_day(self.population, self.scenario.dynamics.influence, self.rng, self._buffers)

    def police(self) -> np.ndarray:
        """Police officers per city today (people)."""
        return self._police_base * self.state.police_factor * self.state.curfew

    def arrest_probability(self, crowd: np.ndarray) -> np.ndarray:
        """Epstein's arrest probability per city with ``crowd`` (people) out, from the officers
        deployed to the rally."""
        r = self.scenario.dynamics.repression
        return protest.arrest_probability(
            self.police(),
            crowd,
            self.scenario.dynamics.protest.arrest_constant,
            r.deployed_share,
            r.officers_per_protester,
        )

    def _phase_protest(self) -> None:
        dyn = self.scenario.dynamics
        p = dyn.protest
        pop = self.population
        self._counts = None
        if not p.enabled:
            pop.status[pop.status == ACTIVE] = QUIET
            self._active[:] = False
            return
        drive = protest.CityDrive(
            salience=self.state.salience,
            proof=protest.social_proof(self.participants, self._people, p, dyn.media),
            arrest=self.arrest_probability(self.participants),
            boost=self.state.boost,
            call=self.state.call,
        )
        # who is active; quiet ↔ active, the detained stay detained (active excludes the held); and
        # the repression phase's release, which comes next, in the same pass
        self._counts = protest.decide_day(pop, drive, p, dyn.repression.enabled, self._active, self._grievance)

    def _phase_repression(self) -> None:
        r = self.scenario.dynamics.repression
        pop = self.population
        C = pop.n_cities
        self._new_detained = np.zeros(C, dtype=np.int64)
        if not r.enabled:
            return
        if self._counts is None:  # otherwise the protest phase's pass served the day
            repression.release(pop.status, pop.detention)
        counted = None if self._counts is None else self._counts[:, 0]
        cand, lo, hi = repression.candidates(self._active, pop.starts, pop.stops, counted)
        if cand.size == 0:
            return
        q = r.arrest_share * self.arrest_probability((hi - lo) * pop.weights)
        new = repression.detain_cities(
            pop.status, pop.detention, cand, lo, hi, q, self.rng, r.min_detention_days, r.max_detention_days
        )
        if r.backlash > 0 and new.any():
            m = self.scenario.dynamics.media
            loss = r.backlash * media.visibility(new * pop.weights, m.visibility_reference, m.visibility_floor)
            repression.backlash(pop, loss)
        self._new_detained = new

    def _phase_record(self) -> None:
        pop, rec, d = self.population, self.records, self.day
        active, new_detained = self._active, self._new_detained
        w = pop.weights  # people per agent, per city
        if not self.scenario.dynamics.protest.enabled:  # no decision made the grievance today
            np.multiply(pop.hardship, 1 - pop.trust, out=self._grievance)
        if self._means or self._counts is None:
            counts, means = pop.tallies(self._grievance, active)
            rec["mean_trust"][d] = means[:, 0]
            rec["mean_sinophobia"][d] = means[:, 1]
            rec["mean_grievance"][d] = means[:, 2]
        else:  # the protest phase counted; those detained today were active, not held, then
            counts = self._counts.copy()
            counts[:, 1] += new_detained
        active_agents = counts[:, 0]
        self.participants = active_agents * w
        rec["participants"][d] = self.participants
        rec["active_agents"][d] = active_agents
        rec["detained"][d] = counts[:, 1] * w
        rec["new_detained"][d] = new_detained * w
        rec["salience"][d] = self.state.salience
        if self.histograms is not None:
            bins = self.histograms.shape[-1]
            for v, arr in enumerate((pop.trust, pop.sinophobia)):
                b = np.minimum((arr * bins).astype(np.int32), bins - 1)
                for c, sl in enumerate(self._slices):
                    self.histograms[d, c, v] = np.bincount(b[sl], minlength=bins) * w[c]

    # ------------------------------------------------------------------ run
    def run(self, progress: bool | None = None) -> Result:
        """Run all remaining days and return a :class:`~sim.results.Result`.

        Parameters
        ----------
        progress
            Show a progress bar on stderr (appears only if the run takes more
            than two seconds). Default: when stderr is a terminal.
        """
        if progress is None:
            progress = sys.stderr.isatty()
        start = time.perf_counter()
        remaining = self.scenario.days - self.day
        with tqdm(
            total=remaining,
            disable=not progress,
            delay=2.0,
            unit="day",
            file=sys.stderr,
            desc=self.scenario.name,
            leave=False,
        ) as bar:
            while self.running and self.day < self.scenario.days:
                self.step()
                bar.update(1)
        wall = time.perf_counter() - start
        return Result.from_model(self, wall_time=wall)
