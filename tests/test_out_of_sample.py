"""The out-of-sample protocol (docs/out_of_sample.md): the episode scenarios take the frozen 2019
parameters and set none of them; the docs' score table is what the committed posterior gives."""

from __future__ import annotations

import importlib.util
import json
import os

import pytest
import yaml

from sim import load_scenario
from sim.config.experiment import _lookup

from .conftest import ROOT

FROZEN = ROOT / "data" / "episodes" / "frozen_2019"
EPISODES = [ROOT / "scenarios" / "kazakhstan_2016.yaml", ROOT / "scenarios" / "kazakhstan_2022.yaml"]


@pytest.mark.parametrize("scenario", EPISODES, ids=lambda p: p.stem)
def test_an_episode_takes_the_frozen_parameters_and_sets_none_of_them(scenario):
    manifest = json.loads((FROZEN / "manifest.json").read_text())
    own = yaml.safe_load(scenario.read_text())
    assert own["extends"] == "../data/episodes/frozen_2019/frozen_parameters.yaml"
    set_here = own.get("set", {})
    for path in manifest["transferred"]:
        assert _lookup(own, path) is None and path not in set_here, f"{scenario.name} sets {path}"
    frozen = yaml.safe_load((FROZEN / "frozen_parameters.yaml").read_text())["set"]
    sc = load_scenario(scenario)
    resolved = sc.resolved()
    for path, value in frozen.items():
        assert _lookup(resolved, path) == pytest.approx(value), path
    assert sc.observed is None  # the onsets only score: they are not part of the scenario


@pytest.mark.slow
def test_the_docs_score_table_is_what_the_frozen_posterior_gives(dask_scheduler):
    """Every row of docs/out_of_sample.md's score table, recomputed from the committed posterior.

    The default run recomputes the 2022 rows (20 simulations, about 2 minutes); the 2016 rows take
    another 4-5 minutes and run with ``SIM_DOCS_TABLES=1`` (the whole suite has to stay under CI's
    30 minutes)."""
    spec = importlib.util.spec_from_file_location("oos", ROOT / "experiments" / "out_of_sample.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    episodes = list(mod.EPISODES) if os.environ.get("SIM_DOCS_TABLES") else ["2022"]
    summaries = {e: mod.score(e, mod.NULLS, 20, scheduler=dask_scheduler, progress=False)[0] for e in episodes}
    table = mod.score_table(summaries)
    doc = (ROOT / "docs" / "out_of_sample.md").read_text()
    rows = table.splitlines()[2:]  # below the header
    assert len(rows) == len(episodes) * (1 + len(mod.NULLS))
    for row in rows:
        assert row in doc, row
