"""The same rules with one ``mesa.Agent`` per person: test oracle and speed baseline.

This is the implementation users would otherwise write: each person is a
Mesa agent with Python attributes and methods, stepped phase by phase through
Mesa's ``AgentSet``. It follows docs/model.md line by line, with the phases in
the same order as :meth:`sim.model.OpinionModel.step`, and is written
independently of the kernels in :mod:`sim.rules` (plain Python arithmetic),
so that agreement between the two is evidence that both are right.

Random draws come from the model's ``numpy.random.Generator`` but in a
different order than the vectorised model, so the two agree in distribution,
not draw for draw. Use it at small N only (about a million agent-steps/s).
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from . import facts
from .model import ModelShell, ScenarioLike
from .population import Population
from .rules.calls import issue_call_reference

__all__ = ["Person", "ReferenceModel"]

QUIET, ACTIVE, DETAINED = int(facts.QUIET), int(facts.ACTIVE), int(facts.DETAINED)


def _visibility(a: float, ref: float, floor: float) -> float:
    a = max(a, floor)
    return min(1.0, math.log(a / floor) / math.log(ref / floor))


class Person(mesa.Agent):
    """One person, with the attributes of docs/model.md as Python floats."""

    model: ReferenceModel

    def __init__(
        self,
        model: ReferenceModel,
        city: int,
        trust: float,
        sinophobia: float,
        hardship: float,
        threshold: float,
        risk_aversion: float,
        online: bool,
    ):
        super().__init__(model)
        self.city = city
        self.trust = self.trust0 = trust
        self.sinophobia = self.sinophobia0 = sinophobia
        self.hardship = hardship
        self.threshold = threshold
        self.risk_aversion = risk_aversion
        self.online = online
        self.heard = False
        self.status = QUIET
        self.detention = 0
        self.grievance = 0.0
        self.partner: Person | None = None
        self._old = (trust, sinophobia)

    # --- influence ---------------------------------------------------------
    def pick_partner(self) -> None:
        members = self.model.members[self.city]
        self.partner = members[int(self.model.rng.integers(len(members)))]

    def remember(self) -> None:
        self._old = (self.trust, self.sinophobia)

    def converse(self) -> None:
        p = self.model.scenario.dynamics.influence
        assert self.partner is not None
        t_j, s_j = self.partner._old
        t_i, s_i = self._old
        if abs(t_j - t_i) < p.confidence_bound:
            self.trust = t_i + p.rate * (t_j - t_i)
        if abs(s_j - s_i) < p.confidence_bound:
            self.sinophobia = s_i + p.rate * (s_j - s_i)

    def converse_mean_field(self) -> None:
        p = self.model.scenario.dynamics.influence
        mean_t, mean_s = self.model.city_means[self.city]
        self.trust = self._old[0] + p.rate * (mean_t - self._old[0])
        self.sinophobia = self._old[1] + p.rate * (mean_s - self._old[1])

    def anchor(self) -> None:
        lam = self.model.scenario.dynamics.influence.stubbornness
        self.trust += lam * (self.trust0 - self.trust)
        self.sinophobia += lam * (self.sinophobia0 - self.sinophobia)

    # --- media -------------------------------------------------------------
    def exposure(self) -> None:
        if not self.online:
            return
        m = self.model.scenario.dynamics.media
        sal = self.model.salience[self.city] * self.model.online_factor[self.city]
        self.sinophobia += m.sinophobia_rate * sal * (1 - self.sinophobia)
        self.trust -= m.trust_rate * sal * self.trust

    # --- protest -----------------------------------------------------------
    def decide(self) -> None:
        p = self.model.scenario.dynamics.protest
        c = self.city
        self.grievance = p.grievance_weight * self.hardship * (1 - self.trust)
        motive = self.grievance + p.sinophobia_weight * self.sinophobia * self.model.salience[c] + self.model.boost[c]
        if self.heard:
            motive += self.model.call[c]
        net_risk = self.risk_aversion * self.model.arrest[c]
        if self.status == DETAINED:
            return
        self.status = ACTIVE if motive + self.model.proof[c] - net_risk >= self.threshold else QUIET

    # --- repression ----------------------------------------------------------
    def serve(self) -> None:
        if self.status == DETAINED:
            self.detention -= 1
            if self.detention == 0:
                self.status = QUIET

    def face_police(self) -> None:
        if self.status != ACTIVE:
            return
        r = self.model.scenario.dynamics.repression
        if self.model.rng.random() < self.model.detain_probability[self.city]:
            self.status = DETAINED
            self.detention = int(self.model.rng.integers(r.min_detention_days, r.max_detention_days + 1))
            self.model.new_detained[self.city] += 1

    def suffer_backlash(self) -> None:
        if self.online:
            self.trust -= self.trust * self.model.backlash_loss[self.city]


class ReferenceModel(ModelShell):
    """Per-agent implementation of the rules of :class:`sim.model.OpinionModel`.

    Parameters
    ----------
    scenario
        Scenario, YAML path or mapping.
    seed
        Overrides the scenario's seed.

    Attributes
    ----------
    records
        ``(days, cities)`` arrays with the same names as the vectorised model's.
    """

    def __init__(self, scenario: ScenarioLike, seed: int | None = None):
        super().__init__(scenario, seed)
        scenario = self.scenario
        t = self.geography.table
        C = len(t)
        # initial attributes from the same distributions (the shared sampler), then plain Python
        pop = Population.from_scenario(scenario, self.geography, self.rng)
        self.members: list[list[Person]] = [[] for _ in range(C)]
        starts, stops = t["start"].to_numpy(), t["stop"].to_numpy()
        for c in range(C):
            for i in range(int(starts[c]), int(stops[c])):
                person = Person(
                    self,
                    c,
                    float(pop.trust[i]),
                    float(pop.sinophobia[i]),
                    float(pop.hardship[i]),
                    float(pop.threshold[i]),
                    float(pop.risk_aversion[i]),
                    bool(pop.online[i]),
                )
                self.members[c].append(person)
        self.people = self.agents_by_type[Person]
        self._release_agent_counter()
        self.weights = pop.weights.tolist()  # people per agent, per city
        self.population = t["population"].to_numpy(dtype=float)
        police = t["police_per_1000"].to_numpy(dtype=float)
        self.police_base = [float(police[c]) * self.population[c] / 1000 for c in range(C)]
        self.reach = t["media_reach"].tolist()
        self.W = self.geography.network.toarray().tolist()
        self.salience = t["initial_salience"].astype(float).tolist()
        self.fatigue = [0.0] * C
        self.police_factor = [1.0] * C
        self.online_factor = [1.0] * C
        self.online_until = [-1] * C
        self.curfew = [1.0] * C
        self.curfew_until = [-1] * C
        self.boost = [0.0] * C
        self.boost_until = [-1] * C
        self.call = [0.0] * C
        self.call_until = [-1] * C
        self.last_call = [-(10**9)] * C
        self.pending_calls: set[int] = set()
        self.participants = [0.0] * C
        self.city_means: list[tuple[float, float]] = []
        self.arrest: list[float] = []
        self.proof: list[float] = []
        self.new_detained: list[int] = []
        self.active_today: list[int] = []
        self.detain_probability: list[float] = []
        self.backlash_loss: list[float] = []
        days = scenario.days
        self.records = {k: np.zeros((days, C)) for k in facts.RECORDED}
        for _ in range(scenario.warmup_days):
            self._influence()

    # ----------------------------------------------------------------- phases
    def _events(self) -> None:
        for c in range(len(self.boost)):
            if self.boost_until[c] < self.day:
                self.boost[c] = 0.0
            if self.call_until[c] < self.day:
                self.call[c] = 0.0
            if self.online_until[c] < self.day:
                self.online_factor[c] = 1.0
            if self.curfew_until[c] < self.day:
                self.curfew[c] = 1.0
        cp = self.scenario.dynamics.calls
        if cp.enabled and self.day > 0:
            for c, crowd in enumerate(self.participants):
                if crowd >= cp.min_crowd and self.day - 1 - self.last_call[c] >= cp.cooldown_days:
                    self.last_call[c] = self.day - 1
                    self.pending_calls.add(self.day - 1 + cp.delay_days)
        if self.day in self.pending_calls:
            self.pending_calls.discard(self.day)
            for c in range(len(self.call)):
                issue_call_reference(self, c, cp.strength, cp.reach, cp.days)
        for ev in self.scenario.events:
            if not ev.enabled or not ev.day <= self.day < ev.day + ev.repeat_days:
                continue
            for c in self.geography.index(ev.cities).tolist():
                ev.apply_reference(self, c)

    def _salience(self) -> None:
        m = self.scenario.dynamics.media
        if not m.enabled:
            return
        C = len(self.salience)
        vis = [_visibility(a, m.visibility_reference, m.visibility_floor) for a in self.participants]
        national = max(vis) if vis else 0.0
        delta = 0.5 ** (1.0 / m.salience_half_life_days)
        new = []
        for c in range(C):
            drive = (
                m.local_weight * vis[c]
                + m.network_weight * sum(self.W[c][j] * vis[j] for j in range(C)) * self.online_factor[c]
                + m.national_weight * self.reach[c] * national * self.online_factor[c]
            ) * (1 - self.fatigue[c])
            kept = self.salience[c] * delta
            new.append(kept + (1 - kept) * (1 - math.exp(-drive)))
        self.salience = new
        if m.attention_fatigue > 0:
            keep_f = 0.5 ** (1.0 / m.fatigue_half_life_days)
            self.fatigue = [f * keep_f + m.attention_fatigue * s * (1 - f * keep_f) for f, s in zip(self.fatigue, new)]
        if (m.sinophobia_rate > 0 or m.trust_rate > 0) and any(s > 0 for s in new):
            self.people.do("exposure")

    def _influence(self) -> None:
        p = self.scenario.dynamics.influence
        if not p.enabled:
            return
        for _ in range(p.contacts_per_day):
            self.people.do("remember")
            if p.mode == "pairwise":
                self.people.do("pick_partner")
                self.people.do("converse")
            else:
                self.city_means = [
                    (sum(q._old[0] for q in ms) / len(ms), sum(q._old[1] for q in ms) / len(ms)) for ms in self.members
                ]
                self.people.do("converse_mean_field")
        self.people.do("anchor")

    def _arrest(self, crowd: list[float]) -> list[float]:
        k = self.scenario.dynamics.protest.arrest_constant
        r = self.scenario.dynamics.repression
        out = []
        for c in range(len(crowd)):
            at_rally = r.deployed_share * self.police_base[c] * self.police_factor[c] * self.curfew[c]
            if r.officers_per_protester is not None:
                at_rally = min(at_rally, r.officers_per_protester * (crowd[c] + 1))
            out.append(1 - math.exp(-k * at_rally / (crowd[c] + 1)))
        return out

    def _protest(self) -> None:
        dyn = self.scenario.dynamics
        p = dyn.protest
        if not p.enabled:
            for q in self.people:
                if q.status == ACTIVE:
                    q.status = QUIET
            return
        self.arrest = self._arrest(self.participants)
        m = dyn.media
        if p.social_proof == "none":
            self.proof = [0.0] * len(self.participants)
        elif p.social_proof == "fraction":
            self.proof = [p.social_proof_weight * a / n for a, n in zip(self.participants, self.population)]
        elif p.social_proof == "share":
            self.proof = [
                p.social_proof_weight * _visibility(a / n, p.proof_reference_share, p.proof_floor_share)
                for a, n in zip(self.participants, self.population)
            ]
        else:
            self.proof = [
                p.social_proof_weight * _visibility(a, m.visibility_reference, m.visibility_floor)
                for a in self.participants
            ]
        self.people.do("decide")

    def _repression(self) -> None:
        r = self.scenario.dynamics.repression
        C = len(self.salience)
        self.new_detained = [0] * C
        self.active_today = [sum(1 for q in ms if q.status == ACTIVE) for ms in self.members]
        if not r.enabled:
            return
        self.people.do("serve")
        crowd = [a * w for a, w in zip(self.active_today, self.weights)]
        self.detain_probability = [r.arrest_share * p for p in self._arrest(crowd)]
        self.people.do("face_police")
        if r.backlash > 0 and any(self.new_detained):
            m = self.scenario.dynamics.media
            self.backlash_loss = [
                r.backlash * _visibility(d * w, m.visibility_reference, m.visibility_floor)
                for d, w in zip(self.new_detained, self.weights)
            ]
            self.people.do("suffer_backlash")

    def _record(self) -> None:
        d, rec = self.day, self.records
        for c, ms in enumerate(self.members):
            n = len(ms)
            active = self.active_today[c]
            rec["participants"][d, c] = active * self.weights[c]
            rec["active_agents"][d, c] = active
            rec["detained"][d, c] = sum(1 for q in ms if q.status == DETAINED) * self.weights[c]
            rec["new_detained"][d, c] = self.new_detained[c] * self.weights[c]
            rec["mean_trust"][d, c] = sum(q.trust for q in ms) / n
            rec["mean_sinophobia"][d, c] = sum(q.sinophobia for q in ms) / n
            if self.scenario.dynamics.protest.enabled:
                rec["mean_grievance"][d, c] = sum(q.grievance for q in ms) / n
            else:
                rec["mean_grievance"][d, c] = sum(q.hardship * (1 - q.trust) for q in ms) / n
            rec["salience"][d, c] = self.salience[c]
        self.participants = [a * w for a, w in zip(self.active_today, self.weights)]

    def step(self) -> None:
        """One day: the phases of :data:`sim.facts.PHASES`, in order (as OpinionModel)."""
        for name in facts.PHASES:
            getattr(self, f"_{name}")()
        self.day += 1
        if self.day >= self.scenario.days:
            self.running = False

    def run(self) -> dict[str, np.ndarray]:
        """Run all remaining days; returns ``records``."""
        while self.running and self.day < self.scenario.days:
            self.step()
        return self.records
