"""Command line: ``sim run | validate | sweep | plot | compare``.

Errors in input print one line on stderr (``sim: error: file:line: field: ...``)
and exit with code 2; nothing already written is touched.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from . import __version__
from ._io import atomic_write
from .config import Scenario, load_experiment, load_scenario
from .ensemble import compare_table, run_ensemble
from .errors import SimError
from .model import OpinionModel
from .results import Result
from .sweep import load_sweep, run_sweep

__all__ = ["main"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be ≥ 0")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sim", description="Agent-based opinion diffusion and protest spread simulator."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def scenario_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("scenario", help="scenario YAML file")
        p.add_argument("--seed", type=_positive_int, help="random seed (overrides the scenario's)")
        p.add_argument("--scale", type=float, help="people per agent (overrides the scenario's)")
        p.add_argument("--days", type=_positive_int, help="days to simulate (overrides the scenario's)")
        p.add_argument(
            "--set",
            dest="sets",
            action="append",
            default=[],
            metavar="PATH=VALUE",
            help="override a field by dotted path, e.g. dynamics.influence.rate=0.2 "
            "(repeatable; list items by index: events.0.salience=0.9)",
        )

    run = sub.add_parser("run", help="run a scenario and write a run directory")
    scenario_args(run)
    run.add_argument("--out", help="output directory (default runs/<name>-seed<N>/)")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    run.add_argument("--quiet", action="store_true", help="no progress bar, no table")
    run.add_argument(
        "--seeds",
        type=_positive_int,
        help="run an ensemble of this many seeds (on the sweep engine) and write quantile bands",
    )
    run.add_argument(
        "--workers", type=_positive_int, help="with --seeds: worker processes (default one per core; 0 = serial)"
    )
    run.add_argument("--scheduler", metavar="ADDRESS", help="with --seeds: a running Dask scheduler")

    cmp_ = sub.add_parser("compare", help="run scenarios as ensembles and compare their outcomes")
    cmp_.add_argument("scenarios", nargs="+", help="scenario YAML files (at least two)")
    cmp_.add_argument("--seeds", type=_positive_int, default=20, help="seeds per scenario (default 20)")
    cmp_.add_argument("--scale", type=float, help="people per agent, for every scenario")
    cmp_.add_argument("--out", help="output directory (default runs/compare-<names>/)")
    cmp_.add_argument("--workers", type=_positive_int, help="worker processes (default one per core; 0 = serial)")
    cmp_.add_argument("--scheduler", metavar="ADDRESS", help="a running Dask scheduler")
    cmp_.add_argument("--quiet", action="store_true", help="no progress bar")

    val = sub.add_parser("validate", help="check a scenario file; changes nothing")
    scenario_args(val)

    sw = sub.add_parser("sweep", help="run a parameter sweep (experiment YAML) into a resumable store")
    sw.add_argument("experiment", help="experiment YAML file")
    sw.add_argument("--out", help="store directory (default sweeps/<name>/)")
    sw.add_argument(
        "--workers", type=_positive_int, help="worker processes (default: one per core; 0 = serial, in this process)"
    )
    sw.add_argument("--scheduler", metavar="ADDRESS", help="use a running Dask scheduler, e.g. tcp://host:8786")
    sw.add_argument("--resume", action="store_true", help="continue a sweep: skip finished runs")
    sw.add_argument("--quiet", action="store_true", help="no progress bar")

    pl = sub.add_parser("plot", help="draw the plots of a sweep store or redraw those of a run directory")
    pl.add_argument("directory", help="a sweep store (sim sweep --out) or a run directory (sim run --out)")
    pl.add_argument("--out", help="where to write the PNGs (default DIRECTORY/plots)")
    return parser


def _load(args: argparse.Namespace) -> Scenario:
    overrides = list(args.sets)
    for name in ("seed", "scale", "days"):
        value = getattr(args, name)
        if value is not None:
            overrides.append(f"{name}={value}")
    return load_scenario(args.scenario, overrides)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "run"


def cmd_validate(args: argparse.Namespace) -> int:
    scenario = _load(args)
    print(
        f"{args.scenario}: ok ({len(scenario.cities)} cities, {scenario.n_agents:,} agents, "
        f"{scenario.days} days, {len(scenario.events)} event{'' if len(scenario.events) == 1 else 's'})"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    scenario = _load(args)
    if args.seeds:
        out = Path(args.out) if args.out else Path("runs") / f"{_slug(scenario.name)}-seeds{args.seeds}"
        ens = run_ensemble(
            scenario, seeds=args.seeds, workers=args.workers, scheduler=args.scheduler, progress=not args.quiet
        )
        ens.save(out, plots=not args.no_plots)
        if not args.quiet:
            print(ens.table())
            print(f"wrote {out}/")
        return 0
    out = Path(args.out) if args.out else Path("runs") / f"{_slug(scenario.name)}-seed{scenario.seed}"
    model = OpinionModel(scenario)
    result = model.run(progress=not args.quiet and sys.stderr.isatty())
    result.save(out, plots=False if args.no_plots else None)
    if not args.quiet:
        print(result.table())
        print(f"wrote {out}/")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from . import plotting  # matplotlib is imported only when a figure is drawn

    if len(args.scenarios) < 2:
        raise SimError("compare needs at least two scenario files")
    overrides = [f"scale={args.scale}"] if args.scale else []
    scenarios = [load_scenario(path, overrides) for path in args.scenarios]  # validate all before running
    ensembles = [
        run_ensemble(sc, seeds=args.seeds, workers=args.workers, scheduler=args.scheduler, progress=not args.quiet)
        for sc in scenarios
    ]
    table = compare_table(ensembles)
    out = Path(args.out) if args.out else Path("runs") / ("compare-" + "-vs-".join(_slug(s.name) for s in scenarios))
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "compare.csv", lambda p: table.to_csv(p, index=False, lineterminator="\n"))
    plotting.save(plotting.compare_figure(ensembles), out / "compare.png")
    for sc, e in zip(scenarios, ensembles):
        e.save(out / _slug(sc.name), plots=False)
    print(table.to_string(index=False))
    print("(median [5%, 95%] over seeds)")
    print(f"wrote {out}/")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    exp = load_experiment(args.experiment)
    out = Path(args.out) if args.out else Path("sweeps") / _slug(exp.name)
    results = run_sweep(
        exp, out, workers=args.workers, scheduler=args.scheduler, resume=args.resume, progress=not args.quiet
    )
    failed = int((results["status"] != "ok").sum())
    print(
        f"{exp.name}: {len(results) - failed} of {len(results)} runs ok, {failed} failed; "
        f"results in {out / 'results.parquet'}"
    )
    return 1 if failed else 0


def cmd_plot(args: argparse.Namespace) -> int:
    from . import plotting  # matplotlib is imported only when a figure is drawn

    d = Path(args.directory)
    out = Path(args.out) if args.out else d / "plots"
    if (d / "design.parquet").exists():
        figs = plotting.sweep_figures(load_sweep(d), d, out)
    elif (d / "manifest.json").exists() and (d / "timeseries.parquet").exists():
        figs = Result.load(d).plot(out)
    else:
        raise SimError(
            f"{d}: neither a sweep store (design.parquet) nor a run directory (manifest.json + timeseries.parquet)"
        )
    for name in figs:
        print(out / f"{name}.png")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sim`` console script. Returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return {"run": cmd_run, "validate": cmd_validate, "sweep": cmd_sweep, "plot": cmd_plot, "compare": cmd_compare}[
            args.command
        ](args)
    except SimError as exc:
        print(f"sim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sim: interrupted", file=sys.stderr)
        return 130
