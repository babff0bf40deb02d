"""End to end: the ``sim`` command line and run directories."""

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from sim._io import atomic_write
from sim.cli import main
from sim.facts import RECORDED

from .conftest import SCENARIOS, TWO_TOWNS


@pytest.fixture
def scenario_file(tmp_path):
    raw = dict(TWO_TOWNS, outputs={"histograms": True})
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_run_writes_every_output(tmp_path, scenario_file, capsys):
    out = tmp_path / "run"
    assert main(["run", str(scenario_file), "--out", str(out), "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "cities reached:" in printed and "agent-steps/s" in printed
    for name in (
        "manifest.json",
        "timeseries.parquet",
        "summary.csv",
        "histograms.parquet",
        "plots/timeseries.png",
        "plots/onset.png",
        "plots/map.png",
        "plots/distributions.png",
    ):
        assert (out / name).stat().st_size > 0, name
    ts = pd.read_parquet(out / "timeseries.parquet")
    for col in ("date", "day", "city", *RECORDED):
        assert col in ts.columns
    assert len(ts) == 10 * 2
    summary = pd.read_csv(out / "summary.csv")
    for col in ("city", "population", "onset_date", "onset_day", "peak_participants", "peak_date", "total_detained"):
        assert col in summary.columns
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["agents"] == 70000
    assert manifest["versions"]["mesa"].startswith("3.3")
    assert manifest["scenario"]["dynamics"]["influence"]["contacts_per_day"] >= 4
    assert manifest["agent_steps_per_s"] > 0
    hist = pd.read_parquet(out / "histograms.parquet")
    assert set(hist.columns) == {"day", "city", "variable", "bin", "count"}
    per_day = hist.groupby(["day", "city", "variable"])["count"].sum()
    assert (per_day.xs("A", level="city") == 20000).all()  # every person in one bin


def test_same_seed_gives_byte_identical_files(tmp_path, scenario_file):
    for name in ("a", "b", "c"):
        seed = "9" if name != "c" else "10"
        assert (
            main(["run", str(scenario_file), "--out", str(tmp_path / name), "--seed", seed, "--quiet", "--no-plots"])
            == 0
        )
    for f in ("timeseries.parquet", "summary.csv", "histograms.parquet"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert (tmp_path / "a" / "timeseries.parquet").read_bytes() != (tmp_path / "c" / "timeseries.parquet").read_bytes()


def test_default_output_dir(tmp_path, scenario_file, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(scenario_file), "--quiet", "--no-plots", "--days", "2"]) == 0
    assert (tmp_path / "runs" / "two-towns-seed0" / "summary.csv").exists()


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_validate_every_scenario(path, capsys):
    assert main(["validate", str(path)]) == 0
    assert "ok" in capsys.readouterr().out


def test_bad_input_exits_2_with_one_line(tmp_path, scenario_file, capsys):
    out = tmp_path / "keep"
    assert main(["run", str(scenario_file), "--out", str(out), "--quiet", "--no-plots"]) == 0
    before = (out / "summary.csv").read_bytes()
    capsys.readouterr()
    code = main(["run", str(scenario_file), "--out", str(out), "--set", "dynamics.influence.rat=0.2"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "unknown field 'rat'; did you mean 'rate'?" in err
    assert "Traceback" not in err
    assert (out / "summary.csv").read_bytes() == before  # nothing written was touched


def test_cli_flag_errors(capsys):
    with pytest.raises(SystemExit) as info:  # argparse refuses the flag
        main(["run", "x.yaml", "--seed", "-3"])
    assert info.value.code == 2 and "must be ≥ 0" in capsys.readouterr().err
    assert main(["validate", "missing.yaml"]) == 2
    assert capsys.readouterr().err.strip() == "sim: error: missing.yaml: file not found; check the path"


def test_console_script_runs_as_a_process():
    """The one place the CLI runs as its own process: ``python -m sim`` and its exit code."""
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", "missing.yaml"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "sim: error: missing.yaml: file not found; check the path"


def test_scale_that_empties_a_city_is_refused(scenario_file, capsys):
    assert main(["validate", str(scenario_file), "--scale", "100000"]) == 2
    assert "leaves city 'A'" in capsys.readouterr().err


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "f.txt"
    target.write_text("old")

    def broken(p):
        p.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]  # no temporary left behind


def test_map_labels_do_not_overlap():
    """Label boxes chosen for close cities (Kostanay and Rudny, Karaganda and Temirtau) do not overlap."""
    import numpy as np

    from sim.plotting.runs import _label_offsets, _overlap

    names = ["Karaganda", "Temirtau", "Kostanay", "Rudny"]
    x, y = np.array([73.1, 72.96, 63.6, 63.1]), np.array([49.8, 50.06, 53.2, 52.97])
    sizes = np.array([200.0, 120.0, 150.0, 80.0])
    spots = _label_offsets(names, x, y, sizes, width_points=450)
    per_x = np.ptp(x) * 1.1 / 450
    per_y = per_x * np.cos(np.radians(np.mean(y)))
    boxes = []
    for i, (dx, dy, ha, va) in enumerate(spots):
        w, h = 3.9 * len(names[i]), 8.0
        x0 = dx - (w if ha == "right" else w / 2 if ha == "center" else 0)
        y0 = dy - (h if va == "top" else h / 2 if va == "center" else 0)
        boxes.append((x[i] + x0 * per_x, y[i] + y0 * per_y, x[i] + (x0 + w) * per_x, y[i] + (y0 + h) * per_y))
    assert all(_overlap(a, b) == 0 for i, a in enumerate(boxes) for b in boxes[i + 1 :])
