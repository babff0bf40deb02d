"""Event kinds: what a scenario's calendar can hold, and what each kind does.

A new kind is one class here, decorated with :func:`register`, plus its row in
docs/model.md (a test checks the row): the class declares its fields (with
bounds and units, validated by :mod:`sim.config`), :meth:`Event.apply` (the
vectorised effect over the people of its cities) and
:meth:`Event.apply_reference` (the same effect written person by person, for
the per-agent reference model in :mod:`sim.reference`).

=================== ==========================================================
kind                effect in its cities on its day
=================== ==========================================================
information_trigger σ_c ← min(1, σ_c + salience); online s ← s + δ (1 − s)
diplomatic_message  hearers (online, with prob. reach): Δs = e (f s − (1 − s)),
                    credibility of a foreign messenger = 1 − s; σ_c += salience
government_message  hearers: Δs = e (f (1 − τ) − τ), credibility = τ; σ_c += salience
economic_shock      h ← clip(h + Δh, 0, 1)
focal_date          motive + boost for ``days`` days
call                hearers (online, with prob. reach): motive + strength for
                    ``days`` days; with an origin, only if its crowd the day
                    before was at least min_crowd
policing            police capacity × factor from this day on
=================== ==========================================================

e is the intended effect, f the backfire factor. A message lowers sinophobia
in those who believe the messenger and raises it in those who distrust it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

import numpy as np

from .config.fields import param

if TYPE_CHECKING:
    from .population import Population
    from .rules.events import CityState

__all__ = [
    "EVENT_KINDS",
    "Call",
    "DiplomaticMessage",
    "EconomicShock",
    "Event",
    "FocalDate",
    "GovernmentMessage",
    "InformationTrigger",
    "Policing",
    "register",
]

#: kind name → event class, filled by :func:`register`.
EVENT_KINDS: dict[str, type[Event]] = {}

E = TypeVar("E", bound="type[Event]")


def register(kind: str):
    """Class decorator: make an :class:`Event` subclass available to scenarios as ``kind``."""

    def deco(cls: E) -> E:
        if kind in EVENT_KINDS:
            raise ValueError(f"event kind {kind!r} is registered twice")
        cls.KIND = kind
        EVENT_KINDS[kind] = cls
        return cls

    return deco


@dataclass(frozen=True)
class Event:
    """Base of all events. ``day`` is resolved from ``date`` at load."""

    KIND: ClassVar[str] = ""

    kind: str = ""
    day: int = param(0, 0, None, "days since start")
    cities: tuple[str, ...] | Literal["all"] = "all"
    date: dt.date | None = None
    label: str = ""
    enabled: bool = param(True, doc="false: the event does nothing (counterfactuals without it)")

    @property
    def repeat_days(self) -> int:
        """On how many consecutive days, from ``day``, the event is applied."""
        return 1

    def apply(
        self,
        cities: np.ndarray,
        slices: list[slice],
        pop: Population,
        state: CityState,
        rng: np.random.Generator,
        day: int,
    ) -> None:
        """Apply the event to the cities with indices ``cities`` (``slices``: their people), in place."""
        raise NotImplementedError

    def apply_reference(self, model: Any, city: int) -> None:
        """The same effect on one city of the per-agent :class:`~sim.reference.ReferenceModel`,
        person by person in plain Python."""
        raise NotImplementedError


def _add_salience(state: CityState, cities: np.ndarray, amount: float) -> None:
    state.salience[cities] = np.minimum(1.0, state.salience[cities] + amount)


@register("information_trigger")
@dataclass(frozen=True)
class InformationTrigger(Event):
    """A rumour or news item: salience up; online sinophobia up by ``sinophobia``·(1−s)."""

    salience: float = param(0.5, 0.0, 1.0, "", "added to city salience (capped at 1)")
    sinophobia: float = param(0.0, 0.0, 1.0, "", "share of the gap to 1 closed for online people")
    days: int = param(1, 1, 366, "days", "the item keeps circulating: applied on each of these days")

    @property
    def repeat_days(self) -> int:
        return self.days

    def apply(self, cities, slices, pop, state, rng, day):
        _add_salience(state, cities, self.salience)
        if self.sinophobia > 0:
            for sl in slices:
                s = pop.sinophobia[sl]
                s += np.float32(self.sinophobia) * pop.online[sl] * (1 - s)

    def apply_reference(self, model, city):
        model.salience[city] = min(1.0, model.salience[city] + self.salience)
        for p in model.members[city]:
            if p.online:
                p.sinophobia += self.sinophobia * (1 - p.sinophobia)


@dataclass(frozen=True)
class _Message(Event):
    reach: float = param(0.5, 0.0, 1.0, "share of online people who hear it")
    effect: float = param(0.05, 0.0, 1.0, "", "intended fall of sinophobia for a fully credulous hearer")
    backfire: float = param(0.5, 0.0, 10.0, "", "rise for a fully distrustful hearer, per unit effect")
    salience: float = param(0.05, 0.0, 1.0, "", "talk about the message adds salience")

    def distrust(self, trust: Any, sinophobia: Any) -> Any:
        """Distrust of the messenger (1 − credibility), per person."""
        raise NotImplementedError

    #: whether distrust is 1 − trust (a government messenger) rather than sinophobia (a foreign one)
    distrust_from_trust: ClassVar[bool] = False

    def apply(self, cities, slices, pop, state, rng, day):
        """Hearers' sinophobia moves by e (f d − (1 − d)), d = :meth:`distrust`, clipped to [0, 1];
        one compiled pass per city (:func:`sim.rules.kernels.message`)."""
        from .rules import kernels

        _add_salience(state, cities, self.salience)
        effect, backfire = np.float32(self.effect), np.float32(self.backfire)
        flat = pop.opinions.reshape(-1)
        for c, sl in zip(cities.tolist(), slices):
            hears = pop.hearers(sl, rng, self.reach * state.online[c])
            kernels.message(flat, sl.start, hears, effect, backfire, self.distrust_from_trust)

    def apply_reference(self, model, city):
        model.salience[city] = min(1.0, model.salience[city] + self.salience)
        reach = self.reach * model.online_factor[city]
        for p in model.members[city]:
            hears = model.rng.random() < reach
            if p.online and hears:
                distrust = self.distrust(p.trust, p.sinophobia)
                delta = self.effect * (self.backfire * distrust - (1 - distrust))
                p.sinophobia = min(1.0, max(0.0, p.sinophobia + delta))


@register("diplomatic_message")
@dataclass(frozen=True)
class DiplomaticMessage(_Message):
    """A foreign official's statement; credibility 1 − sinophobia."""

    def distrust(self, trust, sinophobia):
        return sinophobia


@register("government_message")
@dataclass(frozen=True)
class GovernmentMessage(_Message):
    """Officials' reassurance; credibility = trust in government."""

    distrust_from_trust: ClassVar[bool] = True

    def distrust(self, trust, sinophobia):
        return 1 - trust


@register("economic_shock")
@dataclass(frozen=True)
class EconomicShock(Event):
    """Hardship change (e.g. a devaluation), added and clipped to [0, 1]."""

    hardship: float = param(0.1, -1.0, 1.0, "hardship units")

    def apply(self, cities, slices, pop, state, rng, day):
        for sl in slices:
            h = pop.hardship[sl]
            h += np.float32(self.hardship)
            np.clip(h, 0, 1, out=h)

    def apply_reference(self, model, city):
        for p in model.members[city]:
            p.hardship = min(1.0, max(0.0, p.hardship + self.hardship))


@register("focal_date")
@dataclass(frozen=True)
class FocalDate(Event):
    """A date that concentrates mobilisation: motive + boost for ``days`` days."""

    boost: float = param(0.05, 0.0, 1.0, "motive units")
    days: int = param(1, 1, 366, "days")

    def apply(self, cities, slices, pop, state, rng, day):
        state.boost[cities] = self.boost
        state.boost_until[cities] = day + self.days - 1

    def apply_reference(self, model, city):
        model.boost[city] = self.boost
        model.boost_until[city] = model.day + self.days - 1


@register("policing")
@dataclass(frozen=True)
class Policing(Event):
    """Police capacity multiplied by ``factor`` from this day on (crackdown > 1, restraint < 1)."""

    factor: float = param(1.0, 0.0, 100.0, "×")

    def apply(self, cities, slices, pop, state, rng, day):
        state.police_factor[cities] = self.factor

    def apply_reference(self, model, city):
        model.police_factor[city] = self.factor


@register("call")
@dataclass(frozen=True)
class Call(Event):
    """A call to rally on this day (its ``date``): those who hear it (online, each with
    probability ``reach``) add ``strength`` to their motive for ``days`` days. With an
    ``origin`` city and ``min_crowd`` > 0 the call is made only if the origin's crowd the day
    before reached ``min_crowd`` (protesters call; without protesters there is no call)."""

    strength: float = param(0.1, 0.0, 1.0, "motive units", "added to the motive of those who heard it")
    reach: float = param(0.3, 0.0, 1.0, "share of online people who hear it")
    days: int = param(1, 1, 60, "days", "how many days the called rally lasts")
    origin: str | None = param(None, doc="city whose protesters make the call (optional)")
    min_crowd: float = param(
        0.0, 0.0, None, "people", "the origin's crowd the day before needed for the call to be made"
    )

    def made(self, crowd_yesterday: float | None) -> bool:
        """Whether the call is made, given the origin's crowd the day before (people)."""
        return self.origin is None or self.min_crowd <= 0 or (crowd_yesterday or 0.0) >= self.min_crowd

    def apply(self, cities, slices, pop, state, rng, day):
        from .rules.calls import issue_call  # sim.rules imports the config, which imports this module

        crowd = None if self.origin is None else float(state.participants[state.index[self.origin]])
        if self.made(crowd):
            issue_call(cities, slices, pop, state, rng, day, self.strength, self.reach, self.days)

    def apply_reference(self, model, city):
        from .rules.calls import issue_call_reference

        crowd = None if self.origin is None else model.participants[model.geography.index([self.origin])[0]]
        if self.made(crowd):
            issue_call_reference(model, city, self.strength, self.reach, self.days)


@register("concession")
@dataclass(frozen=True)
class Concession(Event):
    """The government gives way on the contested issue (a moratorium, a price cut, a resignation):
    the issue's salience falls by the share ``salience`` and hardship by ``hardship``."""

    salience: float = param(0.5, 0.0, 1.0, "share", "share of the city's salience removed")
    hardship: float = param(0.0, 0.0, 1.0, "hardship units", "relief: subtracted from hardship (clipped at 0)")

    def apply(self, cities, slices, pop, state, rng, day):
        state.salience[cities] *= 1.0 - self.salience
        if self.hardship > 0:
            for sl in slices:
                h = pop.hardship[sl]
                h -= np.float32(self.hardship)
                np.clip(h, 0, 1, out=h)

    def apply_reference(self, model, city):
        model.salience[city] *= 1.0 - self.salience
        if self.hardship > 0:
            for p in model.members[city]:
                p.hardship = min(1.0, max(0.0, p.hardship - self.hardship))


@register("media_restriction")
@dataclass(frozen=True)
class MediaRestriction(Event):
    """Mobile internet and messengers throttled (``strength`` < 1) or cut (1, a blackout) for
    ``days`` days: online access is scaled by 1 − ``strength``, which scales who hears messages and
    calls, the online drift of opinions and the network and national channels of salience."""

    strength: float = param(0.5, 0.0, 1.0, "share", "share of online access cut (1: blackout)")
    days: int = param(1, 1, 366, "days")

    def apply(self, cities, slices, pop, state, rng, day):
        state.online[cities] = 1.0 - self.strength
        state.online_until[cities] = day + self.days - 1

    def apply_reference(self, model, city):
        model.online_factor[city] = 1.0 - self.strength
        model.online_until[city] = model.day + self.days - 1


@register("curfew")
@dataclass(frozen=True)
class Curfew(Event):
    """A curfew or state of emergency banning gatherings for ``days`` days: the police a rally
    meets are multiplied by ``factor`` while it lasts (then back to the standing deployment;
    a ``policing`` event changes the standing deployment for good)."""

    factor: float = param(3.0, 1.0, 100.0, "×")
    days: int = param(1, 1, 366, "days")

    def apply(self, cities, slices, pop, state, rng, day):
        state.curfew[cities] = self.factor
        state.curfew_until[cities] = day + self.days - 1

    def apply_reference(self, model, city):
        model.curfew[city] = self.factor
        model.curfew_until[city] = model.day + self.days - 1
