"""Score the frozen 2019 posterior's predictions of 2016 and 2022 (docs/out_of_sample.md).

For each episode: ``sim score scenarios/kazakhstan_YYYY.yaml --posterior data/episodes/frozen_2019
--draws 20 --null population_rank,focal_date`` (and, with ``--ablations``, the two channel
ablations), rendered as the Markdown tables of docs/out_of_sample.md and its onset figures.

Usage::

    python experiments/out_of_sample.py [--draws 20] [--workers N] [--ablations] [--write] [--freeze converged]

``--freeze converged`` predicts from ``data/episodes/frozen_2019_converged`` (the 11-generation
posterior) with ``scenarios/kazakhstan_YYYY_converged.yaml``, into the ``converged-*`` blocks.

``--write`` replaces the blocks between ``<!-- NAME:begin -->`` and ``<!-- NAME:end -->`` in
docs/out_of_sample.md and writes docs/img/out_of_sample_*.png. ``tests/test_out_of_sample.py``
recomputes the score table from the committed posterior and compares it with the docs.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.inference.score import score_predictors  # noqa: E402

DOC = ROOT / "docs" / "out_of_sample.md"
ONSETS = {e: ROOT / "data" / "episodes" / f"kz{e}_onsets.csv" for e in ("2016", "2022")}
#: freeze → (frozen posterior folder, the episode scenarios, prefix of its doc blocks and figures)
FREEZES = {
    "first": (ROOT / "data" / "episodes" / "frozen_2019", "", ""),
    "converged": (ROOT / "data" / "episodes" / "frozen_2019_converged", "_converged", "converged-"),
}
FROZEN = FREEZES["first"][0]
EPISODES = {e: (ROOT / "scenarios" / f"kazakhstan_{e}.yaml", ONSETS[e]) for e in ONSETS}
NULLS = ["population_rank", "focal_date"]
ABLATIONS = ["national_only", "gravity_only"]


def score(
    episode: str,
    nulls: list[str],
    draws: int = 20,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    freeze: str = "first",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Summary and per-row scores of one episode's prediction from a frozen posterior."""
    folder, suffix, _ = FREEZES[freeze]
    scenario = ROOT / "scenarios" / f"kazakhstan_{episode}{suffix}.yaml"
    return score_predictors(
        scenario,
        [str(ONSETS[episode])],
        nulls,
        draws=draws,
        workers=workers,
        scheduler=scheduler,
        progress=progress,
        posterior=folder,
    )


def score_table(summaries: dict[str, pd.DataFrame]) -> str:
    """The model-and-nulls table (Markdown)."""
    lines = [
        "| episode | predictor | onset CRPS (days) | Brier, reached | cities within 10 days: reported | predicted "
        "(median) | CRPS (cities) | order τ |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for episode, s in summaries.items():
        for r in s.to_dict("records"):
            tau = "—" if pd.isna(r["order_tau"]) else f"{r['order_tau']:.2f}"
            lines.append(
                f"| {episode} | {r['predictor']} | {r['onset_crps']:.2f} | {r['brier_reached']:.3f} "
                f"| {r['reached_observed']:.0f} | {r['reached_median']:.0f} | {r['reached_crps']:.2f} | {tau} |"
            )
    return "\n".join(lines)


def onset_table(rows: dict[str, pd.DataFrame]) -> str:
    """Per reported city: the reported interval and the model's median and 5–95% onset day (Markdown)."""
    lines = [
        "| episode | city | reported (days) | model median | model 5–95% | share of runs reaching it |",
        "|---|---|---|---:|---:|---:|",
    ]
    for episode, t in rows.items():
        m = t[(t["predictor"] == "model") & (t["quantity"] == "onset")]
        for r in m.to_dict("records"):
            span = f"{r['day_lo']}" if r["day_lo"] == r["day_hi"] else f"{r['day_lo']}–{r['day_hi']}"
            lines.append(
                f"| {episode} | {r['city']} | {span} | {r['median']:.0f} | {r['q05']:.0f}–{r['q95']:.0f} "
                f"| {r['p_reached']:.0%} |"
            )
    return "\n".join(lines)


def crowd_table(summaries: dict[str, pd.DataFrame], top: int = 8) -> str:
    """Predicted peak crowds (people) of the cities most often reached (Markdown)."""
    lines = ["| episode | city | runs with an onset | peak crowd: median | 5–95% |", "|---|---|---:|---:|---:|"]
    for episode, s in summaries.items():
        c = s.attrs["crowds"].sort_values(["p_onset", "peak_median"], ascending=False).head(top)
        for r in c.to_dict("records"):
            lines.append(
                f"| {episode} | {r['city']} | {r['p_onset']:.0%} | {r['peak_median']:,.0f} "
                f"| {r['peak_q05']:,.0f}–{r['peak_q95']:,.0f} |"
            )
    return "\n".join(lines)


def replace_block(text: str, name: str, body: str) -> str:
    """``text`` with the block between ``<!-- name:begin -->`` and ``<!-- name:end -->`` replaced."""
    pattern = re.compile(rf"(<!-- {name}:begin -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise SystemExit(f"{DOC}: no block {name}")
    return pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--workers", type=int)
    ap.add_argument("--ablations", action="store_true", help="also score national_only and gravity_only")
    ap.add_argument("--write", action="store_true", help="write the tables into docs/out_of_sample.md, and figures")
    ap.add_argument(
        "--freeze",
        choices=sorted(FREEZES),
        default="first",
        help="which frozen posterior: 'first' (3 generations, the pre-registered prediction) or 'converged'",
    )
    args = ap.parse_args()
    prefix = FREEZES[args.freeze][2]
    summaries, rows, ablations = {}, {}, {}
    nulls = NULLS + (ABLATIONS if args.ablations else [])
    for episode in EPISODES:
        summary, rows[episode] = score(episode, nulls, args.draws, args.workers, freeze=args.freeze)
        summaries[episode] = summary[summary["predictor"].isin(["model", *NULLS])].reset_index(drop=True)
        summaries[episode].attrs = summary.attrs
        ablations[episode] = summary[summary["predictor"].isin(ABLATIONS)]
    blocks = {"scores": score_table(summaries), "onsets": onset_table(rows), "crowds": crowd_table(summaries)}
    if args.ablations:
        blocks["ablations"] = score_table(ablations)
    blocks = {prefix + name: body for name, body in blocks.items()}
    for name, body in blocks.items():
        print(f"\n{name}\n{body}")
    if args.write:
        from sim.plotting import save
        from sim.plotting.inference import onsets_figure

        text = DOC.read_text(encoding="utf-8")
        for name, body in blocks.items():
            text = replace_block(text, name, body)
        DOC.write_text(text, encoding="utf-8")
        stem = "out_of_sample_" + prefix.replace("-", "_")
        for episode, t in rows.items():
            save(onsets_figure(t), ROOT / "docs" / "img" / f"{stem}{episode}_onsets.png")
        print(f"wrote {DOC} and docs/img/out_of_sample_*_onsets.png")


if __name__ == "__main__":
    main()
