"""The scenario schema: every section as a frozen dataclass, each field with its default, bounds,
unit and meaning beside it (:func:`~sim.config.fields.param`). docs/model.md documents each one
(a test checks)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from ..facts import ATTRIBUTES
from .fields import param

__all__ = [
    "ATTRIBUTES",
    "DIST_KINDS",
    "Beta",
    "CallParams",
    "City",
    "Constant",
    "Dist",
    "Dynamics",
    "GeographySpec",
    "InfluenceParams",
    "MediaParams",
    "NetworkParams",
    "Normal",
    "Outputs",
    "PopulationSpec",
    "ProtestParams",
    "RepressionParams",
    "Uniform",
]


# --------------------------------------------------------------------------- distributions
def _unit32(x: np.ndarray) -> np.ndarray:
    """Draws clipped to [0, 1], as float32 (the person arrays' type)."""
    return np.clip(x, 0.0, 1.0).astype(np.float32)


@dataclass(frozen=True)
class Constant:
    """Everyone has ``value``."""

    dist: Literal["constant"] = "constant"
    value: float = param(0.5, 0.0, 1.0)

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` values as float32 (no random draw)."""
        return np.full(n, self.value, dtype=np.float32)


@dataclass(frozen=True)
class Uniform:
    """Uniform on [low, high]."""

    dist: Literal["uniform"] = "uniform"
    low: float = param(0.0, 0.0, 1.0)
    high: float = param(1.0, 0.0, 1.0)

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return _unit32(rng.uniform(self.low, self.high, size=n))


@dataclass(frozen=True)
class Normal:
    """Normal(mean, sd), clipped to [0, 1]."""

    dist: Literal["normal"] = "normal"
    mean: float = param(0.5, 0.0, 1.0)
    sd: float = param(0.1, 0.0, 1.0)

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return _unit32(rng.normal(self.mean, self.sd, size=n))


@dataclass(frozen=True)
class Beta:
    """Beta given by mean and sd, or by shape parameters a and b."""

    dist: Literal["beta"] = "beta"
    mean: float | None = param(None, 0.0, 1.0)
    sd: float | None = param(None, 0.0, 1.0)
    a: float | None = param(None, 0.0, None)
    b: float | None = param(None, 0.0, None)

    def shape(self) -> tuple[float, float]:
        """Shape parameters (a, b)."""
        if self.a is not None and self.b is not None:
            return float(self.a), float(self.b)
        m, s = float(self.mean or 0.0), float(self.sd or 0.0)
        k = m * (1 - m) / (s * s) - 1
        return m * k, (1 - m) * k

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` values as float32: ``rng.beta(a, b)`` clipped to [0, 1], drawn by the compiled
        sampler that reproduces NumPy's bit for bit (:func:`sim.rules.draws.beta32`)."""
        from ..rules.draws import beta32  # here, not at the top: sim.rules imports the config

        a, b = self.shape()
        return beta32(rng, a, b, n)

    def problem(self) -> tuple[str | None, str, bool] | None:
        """What is wrong with these parameters: (field or None, message, whether a field is
        missing rather than out of range), or None."""
        if self.a is not None or self.b is not None:
            if self.a is None or self.b is None or self.a <= 0 or self.b <= 0:
                return None, "beta with shape parameters needs both a > 0 and b > 0", False
            return None
        if self.mean is None or self.sd is None:
            return None, "dist 'beta' needs mean and sd (or a and b), e.g. {dist: beta, mean: 0.4, sd: 0.15}", True
        if not 0 < self.mean < 1:
            return "mean", f"beta mean {self.mean} must be strictly between 0 and 1", False
        limit = math.sqrt(self.mean * (1 - self.mean))
        if not 0 < self.sd < limit:
            return (
                "sd",
                f"beta sd {self.sd} must be > 0 and < sqrt(mean·(1−mean)) = {limit:.4f} for mean {self.mean}",
                False,
            )
        return None


#: A person attribute's distribution, clipped to [0, 1]: one of the tagged variants.
Dist = Constant | Uniform | Normal | Beta
DIST_KINDS: dict[str, type[Dist]] = {"constant": Constant, "uniform": Uniform, "normal": Normal, "beta": Beta}


# --------------------------------------------------------------------------- geography
@dataclass(frozen=True)
class City:
    """One city node. Optional fields fall back to the dynamics' defaults."""

    name: str = param("")
    population: int = param(1, 1, 10**10, "people")
    lat: float = param(0.0, -90.0, 90.0, "degrees")
    lon: float = param(0.0, -180.0, 180.0, "degrees")
    media_reach: float | None = param(None, 0.0, 1.0, "share of people online", "overrides dynamics.media.reach")
    police_per_1000: float | None = param(
        None, 0.0, 1000.0, "officers per 1000 people", "overrides dynamics.repression.police_per_1000"
    )
    salience: float = param(0.0, 0.0, 1.0, "", "initial salience of the China issue")


#: Columns of a cities CSV: required, then optional.
CITY_COLUMNS = ("name", "population", "lat", "lon")
CITY_OPTIONAL_COLUMNS = ("media_reach", "police_per_1000", "salience")


@dataclass(frozen=True)
class NetworkParams:
    """Gravity network w_ij ∝ P_j^gravity_exponent / d_ij^distance_exponent, row-normalised."""

    gravity_exponent: float = param(1.0, 0.0, 5.0, "", "weight of destination population")
    distance_exponent: float = param(2.0, 0.0, 5.0, "", "distance decay")
    min_distance_km: float = param(10.0, 0.001, None, "km", "floor on distances")


@dataclass(frozen=True)
class GeographySpec:
    """Cities (inline or from CSV, relative to the scenario file) and the network."""

    cities: tuple[City, ...] = ()
    cities_file: str | None = None
    network: NetworkParams = field(default_factory=NetworkParams)


# --------------------------------------------------------------------------- population
@dataclass(frozen=True)
class PopulationSpec:
    """Distributions of person attributes; ``overrides[city][attribute]`` per city."""

    trust: Dist = field(default_factory=lambda: Beta(mean=0.5, sd=0.2))
    sinophobia: Dist = field(default_factory=lambda: Beta(mean=0.3, sd=0.2))
    hardship: Dist = field(default_factory=lambda: Beta(mean=0.35, sd=0.15))
    threshold: Dist = field(default_factory=lambda: Beta(mean=0.75, sd=0.08))
    risk_aversion: Dist = field(default_factory=lambda: Beta(mean=0.5, sd=0.2))
    overrides: dict[str, dict[str, Dist]] = field(default_factory=dict)

    def default(self, attribute: str) -> Dist:
        """The scenario-wide distribution of ``attribute``."""
        return {
            "trust": self.trust,
            "sinophobia": self.sinophobia,
            "hardship": self.hardship,
            "threshold": self.threshold,
            "risk_aversion": self.risk_aversion,
        }[attribute]

    def for_city(self, city: str, attribute: str) -> Dist:
        """The distribution of ``attribute`` in ``city`` (override or default)."""
        return self.overrides.get(city, {}).get(attribute, self.default(attribute))


# --------------------------------------------------------------------------- dynamics
@dataclass(frozen=True)
class InfluenceParams:
    """Within-city opinion dynamics (Deffuant bounded confidence + Friedkin–Johnsen anchors)."""

    enabled: bool = param(True)
    mode: Literal["pairwise", "mean_field"] = param(
        "pairwise", doc="pairwise: Deffuant contacts; mean_field: DeGroot/Friedkin-Johnsen pull to city mean"
    )
    contacts: Literal["circulant", "uniform"] = param(
        "circulant",
        doc="partners per round: circulant (one random offset per city and round, streamed) or uniform "
        "(independent uniform draws, gathered)",
    )
    contacts_per_day: int = param(4, 1, 100, "contacts/day", "rounds of one random partner each")
    confidence_bound: float = param(0.3, 0.0, 1.0, "opinion units", "Deffuant epsilon")
    rate: float = param(0.3, 0.0, 1.0, "1/contact", "Deffuant mu: share of the gap closed")
    stubbornness: float = param(0.05, 0.0, 1.0, "1/day", "Friedkin-Johnsen pull to the anchor")


@dataclass(frozen=True)
class MediaParams:
    """Salience of the China issue and its effect on online people."""

    enabled: bool = param(True)
    reach: float = param(0.81, 0.0, 1.0, "share", "share of people online (internet users 2019)")
    salience_half_life_days: float = param(3.0, 0.01, 1000.0, "days")
    local_weight: float = param(0.3, 0.0, 10.0, "1/day", "own city's protest visibility → salience")
    network_weight: float = param(0.3, 0.0, 10.0, "1/day", "gravity-weighted visibility elsewhere")
    national_weight: float = param(0.3, 0.0, 10.0, "1/day", "national media / messengers")
    visibility_reference: float = param(1000.0, 1.0, None, "people", "crowd size whose visibility is 1")
    visibility_floor: float = param(5.0, 1.0, None, "people", "crowds up to this size are invisible (v = 0)")
    attention_fatigue: float = param(
        0.0, 0.0, 1.0, "1/day", "growth of attention fatigue at salience 1 (Downs 1972); 0 = none"
    )
    fatigue_half_life_days: float = param(30.0, 0.01, 10000.0, "days", "recovery of attention")
    sinophobia_rate: float = param(0.01, 0.0, 1.0, "1/day", "online drift of sinophobia up at salience 1")
    trust_rate: float = param(0.005, 0.0, 1.0, "1/day", "online drift of trust down at salience 1")


@dataclass(frozen=True)
class ProtestParams:
    """Activation rule (Epstein 2002 with social proof)."""

    enabled: bool = param(True)
    social_proof: Literal["visibility", "fraction", "share", "none"] = param(
        "visibility",
        doc="visibility: log scale of the crowd in people; fraction: crowd per head (Granovetter); "
        "share: log scale of the crowd per head; none",
    )
    social_proof_weight: float = param(0.1, 0.0, 100.0, "", "beta_f")
    sinophobia_weight: float = param(0.5, 0.0, 10.0, "", "beta_s")
    arrest_constant: float = param(2.3, 0.0, 100.0, "", "Epstein k")
    grievance_weight: float = param(1.0, 0.0, 10.0, "", "weight of h(1-trust)")
    proof_floor_share: float = param(
        1e-4, 1e-9, 1.0, "share of the city", "social_proof share: crowds up to this share of the city give none"
    )
    proof_reference_share: float = param(
        0.01, 1e-9, 1.0, "share of the city", "social_proof share: crowds of this share give full social proof"
    )


@dataclass(frozen=True)
class RepressionParams:
    """Detention of active people and backlash."""

    enabled: bool = param(True)
    police_per_1000: float = param(3.0, 0.0, 1000.0, "officers per 1000 people")
    arrest_share: float = param(0.15, 0.0, 1.0, "1/day", "share of actives detained when arrest is certain")
    min_detention_days: int = param(1, 1, 250, "days")
    max_detention_days: int = param(15, 1, 250, "days")
    backlash: float = param(0.05, 0.0, 1.0, "", "trust lost by online people at detention visibility 1")
    deployed_share: float = param(
        1.0, 0.0, 1.0, "share", "most of a city's force that can be sent to one rally (1: the whole force)"
    )
    officers_per_protester: float | None = param(
        None,
        0.0,
        1000.0,
        "officers per protester",
        "officers sent per protester, up to the deployed share (Epstein's local vision); none: the whole share",
    )


@dataclass(frozen=True)
class CallParams:
    """Endogenous calls to rally: a city whose crowd reaches ``min_crowd`` calls a rally in every city."""

    enabled: bool = param(False)
    min_crowd: float = param(300.0, 1.0, None, "people", "crowd that makes a city's protesters call a rally")
    delay_days: int = param(1, 1, 60, "days", "the called rally is this many days after the crowd")
    reach: float = param(0.3, 0.0, 1.0, "share of online people who hear the call")
    strength: float = param(0.1, 0.0, 1.0, "motive units", "added to the motive of those who heard it")
    days: int = param(1, 1, 60, "days", "how many days the called rally lasts")
    cooldown_days: int = param(7, 1, 366, "days", "a city calls again only this long after its last call")


@dataclass(frozen=True)
class Dynamics:
    influence: InfluenceParams = field(default_factory=InfluenceParams)
    media: MediaParams = field(default_factory=MediaParams)
    protest: ProtestParams = field(default_factory=ProtestParams)
    repression: RepressionParams = field(default_factory=RepressionParams)
    calls: CallParams = field(default_factory=CallParams)


@dataclass(frozen=True)
class Outputs:
    onset_min_participants: float = param(10.0, 1.0, None, "people")
    histograms: bool = param(False)
    histogram_bins: int = param(20, 2, 200)
    plots: bool = param(True)
