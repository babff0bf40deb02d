import numpy as np
import pytest

import sim
from sim.geography import Geography, gravity_matrix, haversine_km

from .conftest import SCENARIOS


def test_haversine_known_distance():
    # Almaty (43.25, 76.90) to Astana (51.13, 71.43): about 970 km by great circle
    d = haversine_km(np.array([43.25, 51.1333]), np.array([76.90, 71.4333]))
    assert d[0, 0] == 0 and d[0, 1] == pytest.approx(d[1, 0])
    assert 950 < d[0, 1] < 990


def test_gravity_rows_normalised_and_favour_big_close_cities():
    pop = np.array([1000, 1_000_000, 1_000_000])
    dist = np.array([[0, 100, 1000], [100, 0, 1000], [1000, 1000, 0]], dtype=float)
    w = gravity_matrix(pop, dist, 1.0, 2.0, 10.0).toarray()
    assert np.allclose(w.sum(axis=1), 1.0)
    assert np.all(np.diag(w) == 0)
    assert w[0, 1] > w[0, 2]  # same population, closer
    assert w[2, 1] > w[2, 0]  # same distance, bigger


def test_single_city_has_no_links():
    w = gravity_matrix(np.array([10]), np.zeros((1, 1)), 1.0, 2.0, 10.0).toarray()
    assert w.sum() == 0


def test_kazakhstan_table_slices_are_contiguous():
    sc = sim.load_scenario(SCENARIOS / "kazakhstan_2019.yaml", {"scale": 100})
    g = Geography.from_scenario(sc)
    t = g.table
    assert len(t) == 24
    assert (t["start"].to_numpy()[1:] == t["stop"].to_numpy()[:-1]).all()
    assert t["stop"].iat[-1] == sc.n_agents
