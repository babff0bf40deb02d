"""Summarise a mutmut run over sim/rules/ and sim/model.py (docs/validation.md, "Mutation testing").

    pip install mutmut==3.8.1 && mutmut run      # about an hour on two cores ([tool.mutmut] in pyproject.toml)
    python experiments/mutation_report.py         # counts, and every surviving mutant with its verdict

A surviving mutant is *equivalent* when no input the model can receive makes it compute anything
different. The rules below recognise the kinds found in this code base, each with the reason it
cannot change a result; every other survivor counts as a test gap (non-equivalent, not killed).
The kill rate is killed / (killed + non-equivalent survivors + mutants no test reaches).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter

#: (kind, test on one changed line, why no result can change). A test sees the removed and the
#: added line and the changed fragment of each (their common prefix and suffix cut off), so a
#: mutant counts as equivalent only when what changed is what the kind names.
EQUIVALENT = [
    (
        "dtype of a conversion or buffer",
        lambda old, new, a, b: "dtype" in old + a and {a.strip(" ,"), b.strip(" ,")} <= DTYPES,
        "inputs are float already, or the buffer's values are cast where they are stored; float32 "
        "and float64 scratch differ below the 1e-5 tie tolerance",
    ),
    (
        "output buffer",
        lambda old, new, a, b: (
            re.match(r"\s*(\w+ (=|&=) |return )", old) is not None
            and re.search(r"out=[\w.]+", old) is not None
            and new in (re.sub(r"out=[\w.]+", "out=None", old, count=1), re.sub(r",? ?out=[\w.]+", "", old, count=1))
        ),
        "the result is taken from the return value; an out= buffer only decides where it is written",
    ),
    (
        "zip strictness",
        lambda old, new, a, b: (
            "strict=" in old
            and {a.strip(" ,").removeprefix("strict="), b.strip(" ,").removeprefix("strict=")}
            <= {"True", "False", "None", ""}
        ),
        "the zipped sequences have equal length by construction",
    ),
    (
        "take bounds mode",
        lambda old, new, a, b: 'mode="clip"' in old and b.strip(" ,") in ("", "None"),
        "partner indices are in range by construction; mode only chooses the error path",
    ),
    (
        "fast-path selection",
        lambda old, new, a, b: old.lstrip().startswith("if x.ndim == 2 and x.shape[1] == 2"),
        "both paths gather the same rows (tests/test_rules.py checks both)",
    ),
    (
        "scratch size",
        lambda old, new, a, b: "BLOCK" in old and ("scratch" in old or "tmp" in old) and "range(" not in old,
        "the scratch is at least as large as the block it holds; its size decides nothing else",
    ),
    (
        "unreachable branch",
        lambda old, new, a, b: re.search(r"if len\(stops\) else|if v\.size else|reshape\(\(-1,\)", old) is not None,
        "a scenario has at least one city and one person, so the other branch never runs",
    ),
    (
        "tie of a continuous draw",
        lambda old, new, a, b: new == old.replace(" < ", " <= ", 1) and ("random()" in old or "u < " in old),
        "a uniform draw equals a given probability with probability zero",
    ),
    (
        "idempotent block loop",
        lambda old, new, a, b: (
            old.strip().startswith("for i in range(s, e, BLOCK):  # blocks: the temporaries") and a == "BLOCK"
        ),
        "decide() writes each person's decision from their own values: overlapping blocks write the same values again",
    ),
    (
        "reshape of a one-column view",
        lambda old, new, a, b: "view(np.uint64).reshape(x.shape[0])" in old and b == "None",
        "np.take on the (N, 1) view without reshaping takes the same flat elements",
    ),
    (
        "falsy flag",
        lambda old, new, a, b: old.strip() == "self.running = False" and new.strip() == "self.running = None",
        "running is only tested for truth",
    ),
    (
        "loop guard",
        lambda old, new, a, b: old.strip().startswith("while self.running and self.day < self.scenario.days"),
        "step() sets running to False on the last day, so both guards stop on the same day",
    ),
    (
        "reduction axis",
        lambda old, new, a, b: "reduceat" in old and a.strip(" ,") == "axis=0" and b == "",
        "reduceat's axis defaults to 0",
    ),
    (
        "zero-rate branch",
        lambda old, new, a, b: (
            new in (old.replace("_rate > 0", "_rate >= 0"), old.replace("sal <= 0", "sal < 0")) and new != old
        ),
        "with a zero rate or zero salience the update adds exactly zero",
    ),
]
DTYPES = {"np.float64", "np.float32", "np.intp", "None", "", "dtype=np.float64", "dtype=np.float32", "dtype=np.intp"}


def changed(old: str, new: str) -> tuple[str, str]:
    """The fragments of two lines that differ (common prefix and suffix removed)."""
    i = 0
    while i < min(len(old), len(new)) and old[i] == new[i]:
        i += 1
    j = 0
    while j < min(len(old), len(new)) - i and old[-1 - j] == new[-1 - j]:
        j += 1
    word = re.compile(r"[\w.]")
    while i > 0 and word.match(old[i - 1]):  # whole tokens: "True" → "None", not "Tru" → "Non"
        i -= 1
    while j > 0 and word.match(old[len(old) - j]):
        j -= 1
    return old[i : len(old) - j], new[i : len(new) - j]


def mutmut(*args: str) -> str:
    return subprocess.run(["mutmut", *args], capture_output=True, text=True, check=False).stdout


def diff_lines(name: str) -> list[str]:
    return [line for line in mutmut("show", name).splitlines() if line.startswith(("- ", "+ "))]


def verdict(lines: list[str]) -> tuple[str, str] | None:
    """The kind of equivalent mutant, or None. Only a one-line change is classified."""
    removed = [line[2:] for line in lines if line.startswith("- ")]
    added = [line[2:] for line in lines if line.startswith("+ ")]
    if len(removed) != 1 or len(added) != 1:
        return None
    old, new = removed[0], added[0]
    a, b = changed(old, new)
    for kind, test, why in EQUIVALENT:
        if test(old, new, a, b):
            return kind, why
    return None


def main() -> int:
    status = Counter()
    survivors = []
    for line in mutmut("results", "--all", "true").splitlines():
        if ":" not in line:
            continue
        name, state = (part.strip() for part in line.rsplit(":", 1))
        status[state] += 1
        if state in ("survived", "timeout", "suspicious"):
            survivors.append(name)
    if not status:
        print("no mutmut results here; run `mutmut run` first", file=sys.stderr)
        return 1
    equivalent: Counter[str] = Counter()
    gaps = []
    for name in survivors:
        lines = diff_lines(name)
        v = verdict(lines)
        if v is None:
            gaps.append((name, lines))
        else:
            equivalent[v[0]] += 1
    killed = status["killed"]
    untested = status["no tests"]
    total = sum(status.values())
    nonequivalent = killed + len(gaps) + untested
    print(f"mutants: {total}; " + ", ".join(f"{k}: {v}" for k, v in sorted(status.items())))
    print(f"equivalent survivors: {sum(equivalent.values())}")
    for kind, _test, why in EQUIVALENT:
        if equivalent[kind]:
            print(f"  {equivalent[kind]:4d}  {kind}: {why}")
    print(f"non-equivalent survivors (test gaps): {len(gaps)}")
    for name, lines in gaps:
        print(f"  {name}")
        for line in lines:
            print(f"      {line}")
    print(f"kill rate of non-equivalent mutants: {killed} / {nonequivalent} = {killed / max(1, nonequivalent):.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
