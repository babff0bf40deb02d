"""Command line: ``sim run | validate | sweep | plot | compare | calibrate | score``.

Errors in input print one line on stderr (``sim: error: file:line: field: ...``)
and exit with code 2; nothing already written is touched.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .errors import SimError
from .inference import NULLS

if TYPE_CHECKING:
    from .config import Scenario

# The commands import what they use when they run: `sim --version` and `sim --help` answer at
# once instead of importing Mesa, pandas, SciPy and Dask (seconds).

__all__ = ["main"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be ≥ 0")
    return value


def _at_least_one(text: str) -> int:
    value = _positive_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be ≥ 1")
    return value


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 1 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: scale is people per agent, a number ≥ 1")
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
        p.add_argument("--scale", type=_scale, help="people per agent, ≥ 1 (overrides the scenario's)")
        p.add_argument("--days", type=_at_least_one, help="days to simulate (overrides the scenario's)")
        p.add_argument(
            "--set",
            dest="sets",
            action="append",
            default=[],
            metavar="PATH=VALUE",
            help="override a field by dotted path, e.g. dynamics.influence.rate=0.2 "
            "(repeatable; list items by index: events.0.salience=0.9)",
        )

    def engine_args(p: argparse.ArgumentParser, resume: str | None = None) -> None:
        """--workers, --scheduler, --quiet and (for stores that can be continued) --resume."""
        p.add_argument(
            "--workers",
            type=_positive_int,
            help="worker processes (default: one per core; 0 = serial, in this process)",
        )
        p.add_argument("--scheduler", metavar="ADDRESS", help="use a running Dask scheduler, e.g. tcp://host:8786")
        if resume:
            p.add_argument("--resume", action="store_true", help=resume)
        p.add_argument("--quiet", action="store_true", help="no progress output")

    def posterior_args(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--posterior",
            metavar="DIR",
            help="a sim calibrate folder: run parameter draws from its posterior × --seeds seeds each",
        )
        p.add_argument("--draws", type=_at_least_one, default=10, help="with --posterior: parameter draws (default 10)")

    run = sub.add_parser("run", help="run a scenario and write a run directory")
    scenario_args(run)
    run.add_argument("--out", help="output directory (default runs/<name>-seed<N>/)")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    run.add_argument("--quiet", action="store_true", help="no progress bar, no table")
    run.add_argument(
        "--seeds",
        type=_at_least_one,
        help="run an ensemble of this many seeds (on the sweep engine) and write quantile bands",
    )
    run.add_argument(
        "--workers", type=_positive_int, help="with --seeds: worker processes (default one per core; 0 = serial)"
    )
    run.add_argument("--scheduler", metavar="ADDRESS", help="with --seeds: a running Dask scheduler")
    posterior_args(run)

    cmp_ = sub.add_parser("compare", help="run scenarios as ensembles and compare their outcomes")
    cmp_.add_argument("scenarios", nargs="+", help="scenario YAML files (at least two)")
    cmp_.add_argument("--seeds", type=_at_least_one, default=20, help="seeds per scenario (default 20)")
    cmp_.add_argument("--scale", type=_scale, help="people per agent, for every scenario")
    cmp_.add_argument("--out", help="output directory (default runs/compare-<names>/)")
    engine_args(cmp_)
    posterior_args(cmp_)

    val = sub.add_parser("validate", help="check a scenario file; changes nothing")
    scenario_args(val)

    sw = sub.add_parser("sweep", help="run a parameter sweep (experiment YAML) into a resumable store")
    sw.add_argument("experiment", help="experiment YAML file")
    sw.add_argument("--out", help="store directory (default sweeps/<name>/)")
    engine_args(sw, resume="continue a sweep: skip finished runs")

    cal = sub.add_parser("calibrate", help="ABC-SMC calibration of scenario parameters against observations")
    cal.add_argument("calibration", help="calibration YAML file (docs/inference.md)")
    cal.add_argument("--out", help="output directory (default calibrations/<name>/)")
    cal.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    engine_args(cal, resume="continue a stopped calibration where it stopped")

    sc = sub.add_parser(
        "score", help="score a scenario or a calibration's posterior and null models against observations"
    )
    sc.add_argument("target", help="scenario YAML file, or a sim calibrate output folder (uses its posterior)")
    sc.add_argument(
        "--observed", action="append", required=True, metavar="FILE", help="observation CSV file (repeatable)"
    )
    sc.add_argument(
        "--null",
        default="all",
        help=f"null models to score beside the model: all, none, or a comma-separated list of {', '.join(NULLS)}",
    )
    sc.add_argument("--seeds", type=_at_least_one, default=20, help="runs per simulated predictor (default 20)")
    sc.add_argument("--draws", type=_at_least_one, help="with a posterior: parameter draws (default --seeds)")
    sc.add_argument(
        "--posterior",
        metavar="DIR",
        help="with a scenario: run it at --draws parameter sets drawn from this calibration folder's posterior",
    )
    sc.add_argument("--scale", type=_scale, help="people per agent (overrides the scenario's)")
    sc.add_argument("--exclude", action="append", default=[], metavar="FILE:LINE", help="leave out a row (repeatable)")
    sc.add_argument("--out", help="output directory (default scores/<name>/)")
    engine_args(sc)

    se = sub.add_parser("sensitivity", help="global sensitivity analysis (SALib Sobol' or Morris) of an experiment")
    se.add_argument("experiment", help="experiment YAML file: parameter ranges, outcomes, samples, replicates, seed")
    se.add_argument("--method", choices=["sobol", "morris"], default="sobol", help="Sobol' indices or Morris screening")
    se.add_argument("--out", help="output directory (default sensitivity/<name>-<method>/)")
    engine_args(se, resume="continue a stopped analysis: skip finished runs")

    sv = sub.add_parser("serve", help="browser dashboard of a scenario (needs the viz extra: pip install -e '.[viz]')")
    sv.add_argument("scenario", nargs="?", default="scenarios/kazakhstan_2019.yaml", help="scenario YAML file")
    sv.add_argument("--port", type=int, default=8765, help="port (default 8765; 0: a free one)")
    sv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    sv.add_argument("--scale", type=_scale, help="people per agent on the page (default 20: interactive)")

    pl = sub.add_parser("plot", help="redraw the plots of a run, ensemble or compare directory, or a sweep store")
    pl.add_argument("directory", help="written by sim run [--seeds], sim compare or sim sweep")
    pl.add_argument("--out", help="where to write the PNGs (default DIRECTORY/plots)")
    return parser


def _load(args: argparse.Namespace) -> Scenario:
    from .config import load_scenario

    overrides = list(args.sets)
    for name in ("seed", "scale", "days"):
        value = getattr(args, name)
        if value is not None:
            overrides.append(f"{name}={value}")
    return load_scenario(args.scenario, overrides)


def _warn_scale(scenario: Scenario) -> None:
    from .config import scale_warning

    message = scale_warning(scenario)
    if message:
        print(f"sim: warning: {message}", file=sys.stderr)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "run"


def _posterior(args: argparse.Namespace, scenario: Scenario) -> list[dict] | None:
    """Posterior draws for --posterior (checked against the scenario before any run)."""
    if args.posterior is None:
        return None
    from .ensemble import posterior_overrides

    draws = posterior_overrides(args.posterior, args.draws, seed=scenario.seed)
    try:
        scenario.with_overrides(draws[0])
    except SimError as exc:
        raise SimError(f"--posterior {args.posterior}: its parameters do not fit {scenario.name}: {exc}") from None
    return draws


def cmd_validate(args: argparse.Namespace) -> int:
    scenario = _load(args)
    _warn_scale(scenario)
    print(
        f"{args.scenario}: ok ({len(scenario.cities)} cities, {scenario.n_agents:,} agents, "
        f"{scenario.days} days, {len(scenario.events)} event{'' if len(scenario.events) == 1 else 's'})"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .ensemble import run_ensemble
    from .model import OpinionModel

    if args.seeds is None and (args.workers is not None or args.scheduler is not None):
        raise SimError("--workers and --scheduler go with --seeds N (an ensemble); a single run uses one process")
    if args.posterior is not None and args.seeds is None:
        raise SimError("--posterior goes with --seeds N: each posterior draw runs N seeds")
    scenario = _load(args)
    _warn_scale(scenario)
    if args.seeds is not None:
        draws = _posterior(args, scenario)
        tag = f"-posterior{args.draws}x{args.seeds}" if draws else f"-seeds{args.seeds}"
        out = Path(args.out) if args.out else Path("runs") / f"{_slug(scenario.name)}{tag}"
        ens = run_ensemble(
            scenario,
            seeds=args.seeds,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=not args.quiet,
            draws=draws,
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
    from . import plotting
    from ._io import atomic_write, fresh_directory
    from .config import load_scenario
    from .ensemble import compare_numbers, compare_table, run_ensemble
    from .executor import local_cluster

    if len(args.scenarios) < 2:
        raise SimError("compare needs at least two scenario files")
    overrides = [f"scale={args.scale}"] if args.scale else []
    scenarios = [load_scenario(path, overrides) for path in args.scenarios]  # validate all before running
    for sc in scenarios:
        _warn_scale(sc)
    with contextlib.ExitStack() as stack:
        scheduler = args.scheduler
        if scheduler is None and args.workers != 0:  # one cluster for every scenario
            scheduler = stack.enter_context(local_cluster(args.workers)).scheduler_address
        # every scenario runs the same posterior draws (paired), so differences are the scenarios'
        draws = [_posterior(args, sc) for sc in scenarios]
        ensembles = [
            run_ensemble(
                sc, seeds=args.seeds, workers=args.workers, scheduler=scheduler, progress=not args.quiet, draws=d
            )
            for sc, d in zip(scenarios, draws)
        ]
    table = compare_table(ensembles)
    numbers = compare_numbers(ensembles)
    out = (
        Path(args.out) if args.out else Path("runs") / f"compare-{_slug(scenarios[0].name)}-{len(scenarios)}-scenarios"
    )
    with fresh_directory(out) as tmp:
        atomic_write(tmp / "compare.csv", lambda p: numbers.to_csv(p, index=False, lineterminator="\n"))
        plotting.save(plotting.compare_figure(ensembles), tmp / "compare.png")
        for sc, e in zip(scenarios, ensembles):
            e.save(tmp / _slug(sc.name), plots=False)
    print(table.to_string(index=False))
    over = f"{args.draws} posterior draws × {args.seeds} seeds" if args.posterior else "seeds"
    print(f"(median [5%, 95%] over {over})")
    print(f"wrote {out}/")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from .config import load_experiment, load_scenario
    from .sweep import run_sweep

    exp = load_experiment(args.experiment)
    _warn_scale(load_scenario(exp.base, exp.fixed))
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


def cmd_calibrate(args: argparse.Namespace) -> int:
    from .config.calibration import load_calibration
    from .inference.calibrate import run_calibration

    cal = load_calibration(args.calibration)
    out = Path(args.out) if args.out else Path("calibrations") / _slug(cal.name)
    diag = run_calibration(
        cal,
        out,
        workers=args.workers,
        scheduler=args.scheduler,
        resume=args.resume,
        progress=not args.quiet,
        plots=not args.no_plots,
    )
    import pandas as pd

    from .inference.calibrate import weighted_summary

    post = pd.read_parquet(out / "posterior.parquet")
    last = post[post["generation"] == post["generation"].max()]
    print(
        f"{cal.name}: {len(diag['generations'])} generations, {diag['simulations']:,} simulations, "
        f"{diag['wall_time_s']:.0f} s; final ε {diag['generations'][-1]['epsilon']}"
    )
    print(f"{'parameter':<44} {'prior':<28} {'median':>9} {'90% interval':>22}")
    for p in cal.priors:
        s = weighted_summary(last[p.path].to_numpy(float), last["weight"].to_numpy(float))
        interval = f"[{s['q05']:.4g}, {s['q95']:.4g}]"
        print(f"{p.path:<44} {p.describe():<28} {s['median']:>9.4g} {interval:>22}")
    print(f"outputs in {out}/ (posterior.parquet, diagnostics.json, calibrated.yaml, predictive.csv, plots/)")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from .inference.score import score_predictors, write_scores

    if args.null == "none":
        nulls: list[str] = []
    elif args.null == "all":
        nulls = list(NULLS)
    else:
        nulls = [n.strip() for n in args.null.split(",") if n.strip()]
        bad = [n for n in nulls if n not in NULLS]
        if bad:
            raise SimError(f"--null: unknown null model(s) {bad}; allowed: all, none, {', '.join(NULLS)}")
    exclude = []
    for item in args.exclude:
        name, _, line = item.rpartition(":")
        if not name or not line.isdigit():
            raise SimError(f"--exclude {item!r}: give FILE:LINE, e.g. kz2019_observations.csv:16")
        exclude.append((Path(name).name, int(line)))
    target = Path(args.target)
    if not target.exists():
        raise SimError(f"{target}: not found; give a scenario YAML file or a sim calibrate output folder")
    for f in args.observed:
        if not Path(f).is_file():
            raise SimError(f"--observed {f}: file not found")
    if args.posterior is not None and not target.is_file():
        raise SimError("--posterior goes with a scenario file; a calibration folder target uses its own posterior")
    summary, rows = score_predictors(
        target,
        args.observed,
        nulls,
        seeds=args.seeds,
        draws=args.draws or args.seeds,
        scale=args.scale,
        exclude=tuple(exclude),
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet,
        posterior=args.posterior,
    )
    out = Path(args.out) if args.out else Path("scores") / _slug(target.stem if target.is_file() else target.name)
    write_scores(
        summary,
        rows,
        out,
        {
            "target": str(target),
            "observed": args.observed,
            "nulls": nulls,
            "seeds": args.seeds,
            "draws": args.draws,
            "posterior": args.posterior,
            "scale": args.scale,
            "exclude": exclude,
            "command": " ".join(sys.argv),
        },
    )
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="—"))
    print(f"lower is better; per-row scores in {out / 'score_rows.csv'}, figure in {out / 'plots' / 'scores.png'}")
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from .config import load_experiment, load_scenario
    from .inference.sensitivity import analyze, design_for, write_indices
    from .sweep import run_sweep

    exp = design_for(load_experiment(args.experiment), args.method)
    _warn_scale(load_scenario(exp.base, exp.fixed))
    out = Path(args.out) if args.out else Path("sensitivity") / f"{_slug(exp.name)}-{args.method}"
    results = run_sweep(
        exp, out, workers=args.workers, scheduler=args.scheduler, resume=args.resume, progress=not args.quiet
    )
    indices = analyze(exp, results, args.method)
    write_indices(indices, args.method, out)
    print(indices.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"{len(results)} runs; indices in {out / 'indices.csv'}, figure in {out / 'plots' / 'sensitivity.png'}")
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    import pandas as pd

    from . import plotting
    from .ensemble import Ensemble
    from .results import Result
    from .sweep import load_sweep

    d = Path(args.directory)
    if not d.is_dir():
        raise SimError(f"{d}: not found (give a run, ensemble or compare directory, or a sweep store)")
    out = Path(args.out) if args.out else d / "plots"
    if (d / "design.parquet").exists():
        figs = plotting.sweep_figures(load_sweep(d), d, out)
    elif (d / "manifest.json").exists() and (d / "timeseries.parquet").exists():
        figs = Result.load(d).plot(out)
    elif (d / "records.npz").exists():
        figs = plotting.ensemble_figures(Ensemble.load(d), out)
    elif (d / "compare.csv").exists():
        members = sorted(p.parent for p in d.glob("*/records.npz"))
        if not members:
            raise SimError(f"{d}: a compare directory without its ensembles' records.npz (written by sim 0.2+)")
        ensembles = [Ensemble.load(m) for m in members]
        order = {name: i for i, name in enumerate(pd.read_csv(d / "compare.csv")["scenario"])}
        ensembles.sort(key=lambda e: order.get(e.scenario.name, len(order)))
        figs = {"compare": plotting.compare_figure(ensembles)}
        plotting.save(figs["compare"], out / "compare.png")
    else:
        raise SimError(
            f"{d}: not a run directory (manifest.json + timeseries.parquet), an ensemble (records.npz), "
            f"a compare directory (compare.csv) or a sweep store (design.parquet)"
        )
    for name in figs:
        print(out / f"{name}.png")
    return 0


_TRACKER_WARNING = "ignore:resource_tracker:UserWarning"


def cmd_serve(args: argparse.Namespace) -> int:
    import importlib.util
    import os
    import subprocess

    from .config import load_scenario
    from .dashboard import DEFAULT_SCALE

    missing = [m for m in ("solara", "mesa.visualization") if importlib.util.find_spec(m.split(".")[0]) is None]
    if missing or importlib.util.find_spec("solara.server") is None:
        raise SimError("the dashboard needs the viz extra: pip install -e '.[viz]'")
    path = Path(args.scenario)
    if not path.is_file():
        raise SimError(f"{path}: scenario file not found")
    try:  # the page shows the same message; say it here too
        load_scenario(path)
    except SimError as exc:
        print(f"sim: error: {exc} (the page shows it)", file=sys.stderr)
    env = {
        **os.environ,
        "SIM_SERVE_SCENARIO": str(path.resolve()),
        "SIM_SERVE_SCALE": str(args.scale or DEFAULT_SCALE),
    }
    cmd = [sys.executable, "-m", "solara", "run", "sim.dashboard:Page", "--host", args.host]
    cmd += ["--port", str(args.port), "--production", "--no-open", "--log-level", "warning"]
    print(f"sim serve: http://{args.host}:{args.port} (Ctrl-C stops)", file=sys.stderr, flush=True)
    try:
        return subprocess.run(cmd, env=env, check=False).returncode
    except KeyboardInterrupt:
        print("sim: stopped", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sim`` console script. Returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    # multiprocessing's resource tracker (started with the worker processes, with this interpreter's
    # -W options) warns about semaphores it cleans up itself when Ctrl-C cuts a cluster's shutdown
    # short; the cleanup is its job, the warning is noise after "sim: interrupted"
    if _TRACKER_WARNING not in sys.warnoptions:
        sys.warnoptions.append(_TRACKER_WARNING)
    try:
        return {
            "run": cmd_run,
            "validate": cmd_validate,
            "sweep": cmd_sweep,
            "plot": cmd_plot,
            "compare": cmd_compare,
            "calibrate": cmd_calibrate,
            "score": cmd_score,
            "sensitivity": cmd_sensitivity,
            "serve": cmd_serve,
        }[args.command](args)
    except SimError as exc:
        print(f"sim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sim: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # the environment: disk full, read-only, permissions, file-size limit
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"sim: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
