"""Summarise a mutmut run over sim/rules/ and sim/model.py (docs/validation.md, "Mutation testing").

    pip install mutmut==3.8.1 && mutmut run      # about an hour on two cores ([tool.mutmut] in pyproject.toml)
    python experiments/mutation_report.py         # counts, and every surviving mutant with its verdict

A surviving mutant is *equivalent* when no input the model can receive makes it compute anything
different. The rules below recognise the kinds found in this code base, each with the reason it
cannot change a result; every other survivor counts as a test gap (non-equivalent, not killed).
The kill rate is killed / (killed + non-equivalent survivors + mutants no test reaches); a mutant
that makes the tests hang (timeout) or crash counts as killed.
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
            and new
            in (
                re.sub(r"out=[\w.]+", "out=None", old, count=1),
                re.sub(r",? ?out=[\w.]+", "", old, count=1),
                re.sub(r"out=[\w.]+", "", old, count=1),
            )
        ),
        "the result is taken from the return value; an out= buffer only decides where it is written",
    ),
    (
        "scratch buffer argument",
        lambda old, new, a, b: any(
            new
            in (
                re.sub(rf"\b{k}=[\w.]+", f"{k}=None", old, count=1),
                re.sub(rf",? ?\b{k}=[\w.]+,?", "", old, count=1),
                re.sub(rf"\b{k}=[\w.]+,?", "", old, count=1),
            )
            for k in SCRATCH_KWARGS
            if re.search(rf"\b{k}=", old)
        ),
        "the kernel allocates its own scratch when given none",
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
        "falsy value",
        lambda old, new, a, b: old.strip().endswith("= False") and new.strip() == old.strip()[: -len("False")] + "None",
        "the flag is only tested for truth, and a boolean array stores None as False",
    ),
    (
        "switch at zero",
        lambda old, new, a, b: any(
            new == old[: m.start()] + m.group(1) + " >= 0" + old[m.end() :]
            for m in re.finditer(r"([\w.]+(?:\[c\])?) > 0", old)
            if re.search(r"(_rate|attention_fatigue|backlash|stubbornness|call\[c\])$", m.group(1))
        ),
        "with the rate at zero the guarded update adds exactly zero",
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
DTYPES = {
    "np.float64",
    "np.float32",
    "np.intp",
    "np.int64",
    "None",
    "",
    "dtype=np.float64",
    "dtype=np.float32",
    "dtype=np.intp",
    "dtype=np.int64",
}
#: Keyword arguments that only hand a kernel a scratch buffer (it allocates its own without one).
SCRATCH_KWARGS = ("scratch", "saved", "mask", "mask2")

#: Equivalent survivors recognised by name (mutmut's function and number), each with its reason:
#: the cases the line-level rules cannot see because the reason lies elsewhere in the code.
BY_NAME = {
    "sim.model.xǁOpinionModelǁ_phase_events__mutmut_4": (
        "no crowd on day 0",
        "on day 0 every crowd is 0 and min_crowd is at least 1 person, so observing it calls nothing",
    ),
    "sim.model.xǁOpinionModelǁ_phase_events__mutmut_14": (
        "index None",
        "state.call[None] = v assigns every city, which is what the index of every city does",
    ),
    "sim.model.xǁOpinionModelǁ_phase_events__mutmut_16": (
        "index None",
        "state.call[None] = v assigns every city, which is what the index of every city does",
    ),
    "sim.model.xǁOpinionModelǁ_phase_protest__mutmut_6": (
        "unreachable state",
        "with the protest phase off nobody is ever active, so nobody is ever detained either",
    ),
    "sim.model.xǁOpinionModelǁ_phase_protest__mutmut_51": (
        "disjoint sum",
        "active excludes the held, so active + held is 0 or 1 with any casting",
    ),
    "sim.rules.calls.xǁCallBookǁobserve__mutmut_11": (
        "unused value",
        "due() only asks whether any call falls on a day, not which city made it",
    ),
    "sim.rules.influence.x__take__mutmut_23": ("negative reshape", "NumPy reads any negative size as 'infer'"),
}
BY_NAME_PREFIX = {
    "sim.model.xǁOpinionModelǁ__init__": (
        ("_flat_scratch", "_mask", "_new_detained", "_scratch"),
        "buffer set-up",
        "kernels allocate their own scratch when given none; _new_detained is rewritten by the "
        "repression phase before it is read",
    ),
    "sim.rules.events.xǁCityStateǁinitial": (
        ("participants=", "salience=salience.astype", "boost_until=", "call_until="),
        "initial city state",
        "participants are set from yesterday's crowd before any event reads them; astype copies and "
        "makes float64 anyway; boosts and calls are 0 until an event sets them with their own last "
        "day, and expiring a 0 leaves 0",
    ),
    "sim.rules.influence.x_circulant_round": (
        ("small = ", "if o <= 0 or n < 2", "if o <= n // 2", "_save(", "range(0, n - o, block)"),
        "path selection",
        "each path (ascending, descending, small cities together) computes the same cyclic shift "
        "(tests/test_rules.py checks every path against the loop); extra blocks past the end are empty",
    ),
}


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


def verdict(lines: list[str], name: str = "") -> tuple[str, str] | None:
    """The kind of equivalent mutant, or None. Only a one-line change is classified."""
    if name in BY_NAME:
        return BY_NAME[name]
    removed = [line[2:] for line in lines if line.startswith("- ")]
    added = [line[2:] for line in lines if line.startswith("+ ")]
    if len(removed) != 1 or len(added) != 1:
        return None
    old, new = removed[0], added[0]
    for prefix, (markers, kind, why) in BY_NAME_PREFIX.items():
        if name.startswith(prefix + "__mutmut_") and any(m in old for m in markers):
            return kind, why
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
        if state in ("survived", "suspicious"):
            survivors.append(name)
    if not status:
        print("no mutmut results here; run `mutmut run` first", file=sys.stderr)
        return 1
    equivalent: Counter[str] = Counter()
    gaps = []
    for name in survivors:
        lines = diff_lines(name)
        v = verdict(lines, name)
        if v is None:
            gaps.append((name, lines))
        else:
            equivalent[v[0]] += 1
    killed = status["killed"] + status["timeout"] + status["segfault"]  # a hang or a crash is detected too
    untested = status["no tests"]
    total = sum(status.values())
    nonequivalent = killed + len(gaps) + untested
    print(f"mutants: {total}; " + ", ".join(f"{k}: {v}" for k, v in sorted(status.items())))
    print(f"equivalent survivors: {sum(equivalent.values())}")
    reasons = {kind: why for kind, _test, why in EQUIVALENT}
    reasons.update({kind: why for kind, why in BY_NAME.values()})
    reasons.update({kind: why for _markers, kind, why in BY_NAME_PREFIX.values()})
    for kind, count in equivalent.most_common():
        print(f"  {count:4d}  {kind}: {reasons[kind]}")
    print(f"non-equivalent survivors (test gaps): {len(gaps)}")
    for name, lines in gaps:
        print(f"  {name}")
        for line in lines:
            print(f"      {line}")
    print(f"kill rate of non-equivalent mutants: {killed} / {nonequivalent} = {killed / max(1, nonequivalent):.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
