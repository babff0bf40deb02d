"""``sim serve`` in a real browser: Debian's Chromium driven headless through Playwright.

Needs the test extra (Playwright, the pinned Solara) and Chromium (`apt-get install chromium`;
Playwright's own browser download is not reachable here). ``SIM_DASHBOARD_SCREENSHOT=PATH`` saves
the screenshot the README shows (``docs/img/dashboard.png``).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim import load_scenario
from sim.errors import ScenarioError

from .conftest import ROOT, SCENARIOS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serve(tmp_path) -> Iterator:
    """Start ``sim serve SCENARIO`` on a free port; yields a function of the scenario path that
    returns the page's URL once the port answers."""
    procs: list[subprocess.Popen] = []

    def start(scenario: Path, *extra: str) -> str:
        port = _free_port()
        log = open(tmp_path / f"serve-{port}.log", "w")  # noqa: SIM115 (closed with the process)
        cmd = [sys.executable, "-m", "sim", "serve", str(scenario), "--port", str(port), *extra]
        procs.append(subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return f"http://127.0.0.1:{port}"
            except OSError:
                assert procs[-1].poll() is None, (tmp_path / f"serve-{port}.log").read_text()
                time.sleep(0.3)
        raise AssertionError("sim serve did not open its port within 120 s")

    yield start
    for p in procs:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(30)


@pytest.fixture
def browser():
    if CHROMIUM is None:
        why = "Chromium is missing: apt-get install chromium (Debian; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(why)  # in CI the browser test must run
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        yield b
        b.close()


def _open(browser, url: str, ready: str):
    """A page at ``url`` once ``ready`` shows (the first load after start-up can fail: reload)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    for _ in range(6):
        page.goto(url)
        try:
            page.get_by_text(ready).first.wait_for(timeout=30_000)
            return page
        except Exception:  # a start-up race shows a traceback page: load again
            continue
    raise AssertionError(f"{url} never showed {ready!r}: {page.inner_text('body')[:2000]}")


def _status(page) -> str:
    return page.get_by_text("people protesting").first.inner_text()


def _step(page, days: int) -> str:
    for d in range(1, days + 1):
        page.get_by_role("button", name="Step").click()
        page.get_by_text(re.compile(rf"\(day {d} of ")).first.wait_for(timeout=30_000)
    return _status(page)


def test_the_page_runs_the_scenario_and_its_sliders_change_it(serve, browser):
    scenario = SCENARIOS / "kazakhstan_2019.yaml"
    url = serve(scenario, "--scale", "20")
    page = _open(browser, url, "before day 1")
    assert "kazakhstan-2019" in page.title() + page.inner_text("body")
    for label in ("protest.sinophobia_weight", "media.national_weight", "repression.officers_per_protester"):
        assert page.get_by_text(label).count() >= 1  # sliders from the schema
    assert page.get_by_text("WhatsApp rumour").count() >= 1  # a switch per event
    baseline = _step(page, 12)
    assert re.search(r"\(day 12 of 36; 20 people per agent\)", baseline)
    shot = os.environ.get("SIM_DASHBOARD_SCREENSHOT")
    if shot:  # the README's picture: the scenario as it is, on 5 September 2019
        page.screenshot(path=shot, full_page=False)

    # the sinophobia weight to its maximum, reset, the same twelve days: other numbers
    row = page.locator(".v-input", has_text="protest.sinophobia_weight").first
    thumb = row.locator("[role=slider]").first
    thumb.focus()
    thumb.press("End")
    page.get_by_role("button", name="Reset").click()
    page.get_by_text("before day 1").first.wait_for(timeout=30_000)
    changed = _step(page, 12)
    assert changed != baseline, (baseline, changed)
    crowd = lambda text: float(re.search(r"([\d,]+) people protesting", text).group(1).replace(",", ""))  # noqa: E731
    assert crowd(changed) > crowd(baseline)


def test_a_bad_scenario_shows_its_error_on_the_page(serve, browser, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((SCENARIOS / "two_towns.yaml").read_text().replace("days: 14", "days: -3"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad)
    message = str(err.value)
    assert "bad.yaml" in message and "days" in message
    page = _open(browser, serve(bad), "bad.yaml")
    text = page.inner_text("body")
    assert message.splitlines()[0] in text


def test_run_to_the_end_at_scale_1_shows_progress_and_then_the_whole_run(serve, browser, tmp_path):
    """The page runs at a coarse scale; one button builds the same inputs at one agent per person,
    shows what it is doing while it builds and runs, and then shows that run's last day."""
    big = tmp_path / "big.yaml"
    text = (SCENARIOS / "two_towns.yaml").read_text()
    big.write_text(
        text.replace("population: 20000", "population: 1000000").replace("population: 50000", "population: 1500000")
    )
    page = _open(browser, serve(big, "--scale", "50"), "before day 1")
    assert "50 people per agent" in page.inner_text("body")
    coarse = _step(page, 3)
    page.get_by_role("button", name="Run to the end at scale 1").click()
    page.get_by_text(re.compile(r"building .* at scale 1|agents: day \d")).first.wait_for(timeout=30_000)  # progress
    assert page.locator(".v-progress-linear").count() >= 1
    page.get_by_text(re.compile(r"\(day 14 of 14; one agent per person\)")).first.wait_for(timeout=240_000)
    assert page.get_by_role("button", name="Run to the end at scale 1").is_disabled()
    assert _status(page) != coarse
