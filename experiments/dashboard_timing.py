"""How long a day takes on the dashboard: click Step, wait until the page shows the new day.

Starts ``sim serve`` on the 2019 scenario at the dashboard's default scale, drives Debian's Chromium
headless through Playwright and times ``--days`` clicks of Step (model step plus the page's redraw:
map, curves, histograms), then reports the median and the largest.

Usage::

    python experiments/dashboard_timing.py [--days 20] [--scale 20]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=20)
    ap.add_argument("--scale", type=float, default=20)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    scenario = ROOT / "scenarios" / "kazakhstan_2019.yaml"
    cmd = [sys.executable, "-m", "sim", "serve", str(scenario), "--port", str(port), "--scale", str(args.scale)]
    server = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"], headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for _ in range(6):
                page.goto(f"http://127.0.0.1:{port}")
                try:
                    page.get_by_text("before day 1").first.wait_for(timeout=30_000)
                    break
                except Exception:  # the first load after start-up can fail: load again
                    continue
            # the page renders twice as it loads (SolaraViz's start-up effects): let it settle, so
            # that the first click times a day and not the end of the page load
            time.sleep(3)
            times = []
            for d in range(1, args.days + 1):
                t0 = time.perf_counter()
                page.get_by_role("button", name="Step").click()
                page.get_by_text(re.compile(rf"\(day {d} of ")).first.wait_for(timeout=60_000)
                times.append(time.perf_counter() - t0)
            browser.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    print(
        f"scale {args.scale:g}, {args.days} days: median {statistics.median(times):.2f} s per day "
        f"(click to redrawn page), 90th percentile {statistics.quantiles(times, n=10)[-1]:.2f} s, "
        f"largest {max(times):.2f} s (day {times.index(max(times)) + 1})"
    )


if __name__ == "__main__":
    main()
