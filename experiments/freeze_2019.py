"""Freeze the 2019 posterior for the out-of-sample episodes (issue 13's protocol).

Reads a finished ``sim calibrate`` folder of ``experiments/calibrate_2019.yaml`` and writes
``data/episodes/frozen_2019/``:

- ``posterior.parquet``: the last generation's particles, with only the parameters that mean the
  same in every episode (population, protest, media and police parameters) and their weights;
- ``manifest.json``: in the layout of a calibration folder (so ``--posterior`` reads it), plus the
  source calibration's inputs hash, its diagnostics, the git commit and the event parameters that
  do not transfer, with their posterior medians;
- ``base_2019.yaml``: a copy of the calibration's base scenario as it is at the freeze (its data
  paths made relative to the folder), so that later changes to ``scenarios/kazakhstan_2019.yaml``
  (such as adopting a calibrated posterior as the default) do not move the frozen predictions;
- ``frozen_parameters.yaml``: that base with the transferable parameters at their posterior
  medians; the 2016 and 2022 scenarios ``extends:`` it.

The 2019 event parameters (the Zhanaozen rumour's salience, the 4 September call's strength) belong
to 2019's events; docs/out_of_sample.md says how their medians set the analogous events' magnitudes.

Usage::

    python experiments/freeze_2019.py CALIBRATION_DIR [--out data/episodes/frozen_2019]

Commit the folder before any 2016 or 2022 score is computed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.inference.calibrate import weighted_summary  # noqa: E402


def freeze(calibration: Path, out: Path) -> dict:
    """Write the frozen folder from ``calibration``; returns its manifest."""
    manifest = json.loads((calibration / "manifest.json").read_text())
    posterior = pd.read_parquet(calibration / "posterior.parquet")
    last = posterior[posterior["generation"] == posterior["generation"].max()].reset_index(drop=True)
    priors = manifest["calibration"]["priors"]
    general = [p for p in priors if not p["path"].startswith("events.")]
    events = [p for p in priors if p["path"].startswith("events.")]
    w = last["weight"].to_numpy()

    def summary(path: str) -> dict[str, float]:
        return {k: round(v, 6) for k, v in weighted_summary(last[path].to_numpy(), w).items()}

    git = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    commit = git.stdout.strip()
    diagnostics = json.loads((calibration / "diagnostics.json").read_text())
    cal = dict(manifest["calibration"])
    cal["base"] = _in_repo(cal["base"])  # the calibration may have run in another checkout
    cal["observed"] = [_in_repo(o) for o in cal["observed"]]
    frozen = {
        "calibration": {**cal, "priors": general},
        "inputs_hash": manifest["inputs_hash"],
        "frozen_from": {
            "calibration_file": "experiments/calibrate_2019.yaml",
            "command": manifest.get("command", ""),
            "frozen_at_commit": commit,
            "generations": int(posterior["generation"].max()) + 1,
            "particles": len(last),
            "simulations": diagnostics.get("simulations"),
            "final_epsilon": diagnostics["generations"][-1]["epsilon"],
            "final_median_distance": diagnostics["generations"][-1]["median_distance"],
        },
        "transferred": {p["path"]: summary(p["path"]) for p in general},
        "not_transferred": {p["path"]: summary(p["path"]) for p in events},
    }
    out.mkdir(parents=True, exist_ok=True)
    last[[p["path"] for p in general] + ["weight", "distance", "generation"]].to_parquet(
        out / "posterior.parquet", index=False
    )
    (out / "manifest.json").write_text(json.dumps(frozen, indent=2) + "\n", encoding="utf-8")
    sets = {p["path"]: _round(frozen["transferred"][p["path"]]["median"], p) for p in general}
    header = [
        "# Parameters frozen from the 2019 calibration (experiments/freeze_2019.py; provenance in manifest.json).",
        "# Posterior medians of the parameters that mean the same in every episode; the 2016 and 2022",
        "# scenarios extend this file and set nothing it sets. Do not edit after any out-of-sample score.",
    ]
    for path, s in frozen["transferred"].items():
        header.append(f"#   {path}: median {s['median']:.4g}, 90% [{s['q05']:.4g}, {s['q95']:.4g}]")
    write_base(ROOT / cal["base"], out / "base_2019.yaml", commit)
    body = {"name": "kazakhstan-frozen-2019", "extends": "base_2019.yaml", "set": sets}
    text = "\n".join(header) + "\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)
    (out / "frozen_parameters.yaml").write_text(text, encoding="utf-8")
    return frozen


def write_base(base: Path, dest: Path, commit: str) -> None:
    """Copy the base scenario to ``dest`` with its data paths relative to ``dest``'s folder."""
    raw = yaml.safe_load(base.read_text(encoding="utf-8"))
    if "extends" in raw:
        raise SystemExit(f"{base}: a base that extends another file cannot be frozen as one copy")

    def moved(rel: str) -> str:
        return os.path.relpath((base.parent / rel).resolve(), dest.parent.resolve())

    if isinstance(raw.get("geography", {}).get("cities"), str):
        raw["geography"]["cities"] = moved(raw["geography"]["cities"])
    if isinstance(raw.get("observed"), str):
        raw["observed"] = moved(raw["observed"])
    header = (
        f"# A frozen copy of {base.relative_to(ROOT)} at commit {commit[:7]} (experiments/freeze_2019.py):\n"
        "# the base of frozen_parameters.yaml. Do not edit.\n"
    )
    dest.write_text(header + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _in_repo(path: str) -> str:
    """``path`` relative to the repository (from its ``scenarios/`` or ``data/`` folder on)."""
    m = re.search(r"(?:^|/)((?:scenarios|data)/.*)$", path)
    return m.group(1) if m else path


def _round(value: float, prior: dict) -> float | int:
    return int(round(value)) if prior.get("integer") else float(f"{value:.4g}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("calibration", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "episodes" / "frozen_2019")
    args = ap.parse_args()
    frozen = freeze(args.calibration, args.out)
    print(json.dumps({k: frozen[k] for k in ("frozen_from", "transferred", "not_transferred")}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
