"""The benchmark harness runs and writes valid JSON (speed itself is never asserted here)."""

import json
import subprocess
import sys

import pytest

from sim.facts import PHASES

from .conftest import ROOT


@pytest.mark.slow
def test_quick_benchmark_writes_json(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        check=False,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    files = list(tmp_path.glob("*-quick.json"))
    assert len(files) == 1
    data = json.loads(files[0].read_text())
    assert [r["n"] for r in data["step"]][-1] > 900_000
    for r in data["step"]:
        assert r["step_s"] > 0 and r["floor_s"] > 0 and r["step_over_floor"] > 0
        assert tuple(r["phase_s"]) == PHASES
    assert data["reference"]["reference_agent_steps_per_s"] > 0
    for k in data["kernels"]:  # the NumPy and compiled kernels were compared on the same bits
        assert k["influence_numpy_s"] > 0 and k["influence_compiled_s"] > 0 and k["protest_compiled_s"] > 0
        assert len(k["repression_by_active_share"]) == 3
        assert k["protest_and_release"]["fused_s"] > 0 and k["protest_and_release"]["tallies_s"] > 0
    assert data["memory"]["state_bytes_per_person"] <= 40
    assert data["memory"]["peak_rss_bytes"] > 0
    assert "step/floor" in proc.stdout


@pytest.mark.slow
def test_calibration_breakdown_accounts_for_the_simulation():
    """The hour-target breakdown times real calibration runs: its parts add up and the days are the phases."""
    from benchmarks.__main__ import calibration_breakdown

    b = calibration_breakdown(runs=1)
    assert b["people"] > 4_000_000 and b["days"] == 28  # the calibration's own scale and horizon
    assert b["total_s"] == pytest.approx(b["setup_s"] + b["days_s"] + b["compare_s"])
    phases = sum(b[p] for p in PHASES)
    assert 0.9 * b["days_s"] < phases <= b["days_s"]
    assert b["person_days_per_s"] == pytest.approx(b["people"] * b["days"] / b["days_s"])
