"""Reliability: no model outlives its run, output files and directories, scripts without a
``__main__`` guard, interrupts, unreachable schedulers, and run counts at any scale."""

import gc
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import sim
from sim.cli import main
from sim.model import OpinionModel

from .conftest import ROOT, interruptible, small


def test_no_model_outlives_its_run():
    for _ in range(3):
        sim.run(small(days=3))
    gc.collect()
    assert not [o for o in gc.get_objects() if isinstance(o, OpinionModel)]


_RSS_SCRIPT = """
import gc, sys
sys.path.insert(0, {root!r})
import sim
from tests.conftest import small

def rss():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:"))

raw = small(n_cities=4, people=150_000, days=4)
sim.run(raw)
gc.collect()
first = rss()
for _ in range(9):
    sim.run(raw)
gc.collect()
print(first, rss())
"""


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc")
def test_memory_does_not_grow_across_runs():
    """Ten runs in one fresh process: resident memory grows by less than 10% of one run's footprint."""
    out = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT.format(root=str(ROOT))], capture_output=True, text=True, check=True
    )
    first, last = map(int, out.stdout.split())
    footprint = 600_000 * (31 + 48)  # state and scratch bytes of one run
    assert last - first < 0.1 * footprint, (first, last)


def test_output_files_get_the_umask_mode(tmp_path, two_towns):
    old = os.umask(0o022)
    try:
        sim.run(two_towns).save(tmp_path / "run", plots=False)
    finally:
        os.umask(old)
    for path in (tmp_path / "run").iterdir():
        assert path.stat().st_mode & 0o777 == 0o644, path
    assert (tmp_path / "run").stat().st_mode & 0o777 == 0o755


def test_reused_out_keeps_nothing_from_the_previous_run(tmp_path, two_towns):
    out = tmp_path / "run"
    sim.run({**two_towns, "outputs": {"histograms": True}}).save(out)
    assert (out / "histograms.parquet").exists() and (out / "plots" / "distributions.png").exists()
    sim.run(two_towns, seed=2).save(out, plots=False)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "summary.csv", "timeseries.parquet"]
    assert not list(tmp_path.glob(".*"))  # no temporary directory left beside it


def test_readme_python_section_runs_as_a_plain_script(tmp_path):
    """The README's snippet, saved as a script without an ``if __name__ == "__main__"`` guard."""
    script = tmp_path / "snippet.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sim
            scenario = sim.load_scenario({str(ROOT / "scenarios" / "two_towns.yaml")!r}, {{"days": 5}})
            result = sim.run(scenario, seed=3)
            ens = sim.ensemble.run_ensemble(scenario, seeds=3)
            print("ok", result.days, len(ens.seeds))
            """
        )
    )
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert proc.stdout.strip() == "ok 5 3"


def test_unreachable_scheduler_is_one_line(tmp_path, capsys, monkeypatch):
    """One line, within the connection timeout (10 s in use; 2 s here to keep the test short)."""
    import sim.executor

    monkeypatch.setattr(sim.executor, "SCHEDULER_TIMEOUT_S", 2)
    path = ROOT / "scenarios" / "two_towns.yaml"
    code = main(["run", str(path), "--seeds", "2", "--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("scale", [1.0, 2.46, 7.3, 333.3])
def test_counts_never_exceed_populations(scale):
    raw = small(n_cities=3, people=1000, days=6, seed=4)
    raw["population"] = {  # everyone protests: no threshold, no fear
        "threshold": {"dist": "constant", "value": 0.0},
        "risk_aversion": {"dist": "constant", "value": 0.0},
    }
    raw["dynamics"] = {"repression": {"enabled": False}}
    res = sim.run(raw, overrides={"scale": scale})
    people = res.cities["population"].to_numpy()
    assert (res.records["participants"] <= people + 1e-9).all()
    np.testing.assert_allclose(res.records["participants"][-1], people)  # all of them, exactly


@pytest.mark.slow
def test_ctrl_c_is_one_line_and_leaves_no_worker():
    psutil = pytest.importorskip("psutil")
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "run",
        str(ROOT / "scenarios" / "kazakhstan_2019.yaml"),
        "--scale",
        "20",
        "--seeds",
        "40",
        "--workers",
        "2",
        "--quiet",
        "--out",
        os.devnull + ".x",
    ]
    proc = subprocess.Popen(
        interruptible(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(parent.children(recursive=True)) < 2:
        time.sleep(0.2)  # until the workers are up
    time.sleep(3)
    children = parent.children(recursive=True)
    assert children, "no worker process started"
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends: the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    lines = [line for line in err.strip().splitlines() if not line.startswith("sim: warning:")]  # scale 20
    assert lines == ["sim: interrupted"], err[-2000:]
    _, alive = psutil.wait_procs(children, timeout=20)
    assert not alive


def test_environment_faults_are_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    path = str(ROOT / "scenarios" / "two_towns.yaml")
    assert main(["run", path, "--out", str(blocker), "--no-plots", "--quiet"]) == 2
    assert "is a file, not a directory" in capsys.readouterr().err
    assert main(["run", path, "--out", str(blocker / "under"), "--no-plots", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write in" in err


@pytest.mark.slow
def test_readme_python_section_runs_verbatim(tmp_path):
    """The README's Python block, saved as a script in a copy of the project's inputs."""
    import shutil

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python") :]
    code = section[section.index("```python") + len("```python") : section.index("```", section.index("```python") + 9)]
    for folder in ("scenarios", "data", "experiments"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    (tmp_path / "readme.py").write_text(code)
    proc = subprocess.run(
        [sys.executable, "readme.py"], cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "runs" / "test" / "summary.csv").exists()
    assert (tmp_path / "sweeps" / "quick" / "results.parquet").exists()


def test_concurrent_writers_never_mix_a_run_directory(tmp_path, two_towns):
    """Two runs saved into the same --out at once: the directory holds one run's files, whole."""
    import json
    import threading

    import pandas as pd

    results = [sim.run(two_towns, seed=s) for s in (1, 2)]
    out = tmp_path / "run"
    for _ in range(5):
        threads = [threading.Thread(target=r.save, args=(out,), kwargs={"plots": False}) for r in results]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seed = json.loads((out / "manifest.json").read_text())["seed"]
        winner = results[seed - 1]
        pd.testing.assert_frame_equal(pd.read_parquet(out / "timeseries.parquet"), winner.timeseries)
        assert (out / "summary.csv").read_text() == winner.summary.to_csv(index=False, lineterminator="\n")
    assert not list(tmp_path.glob(".run.*"))  # no temporary directory left


def test_leftovers_of_a_killed_writer_are_removed(tmp_path, two_towns):
    stale = tmp_path / ".run.abc123.tmp"
    stale.mkdir()
    (stale / "manifest.json").write_text("{}")
    os.utime(stale, (0, 0))  # as if left by a writer killed long ago
    fresh = tmp_path / ".run.def456.tmp"
    fresh.mkdir()  # a writer at work right now
    sim.run(two_towns).save(tmp_path / "run", plots=False)
    assert not stale.exists() and fresh.exists()


@pytest.mark.slow
def test_file_size_limit_is_one_line_and_leaves_nothing(tmp_path):
    """A write that hits the file-size limit (as a full disk would) ends in one line and exit 2,
    with neither the run directory nor a temporary one left behind."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))

    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(ROOT / "scenarios" / "two_towns.yaml"), "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        preexec_fn=limit,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "sim: error: File too large"
    assert list(tmp_path.iterdir()) == []
