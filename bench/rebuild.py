#!/usr/bin/env python3
"""The incremental rebuild alone, quickly: what BENCHMARKS.md's "incremental rebuild, N = 1000,
no verification" row measures, without the rest of bench/run.py.

    python3 bench/rebuild.py                  # 5 interleaved rounds, N = 1000
    python3 bench/rebuild.py --reps 9 --n 500
    python3 bench/rebuild.py --time-passes    # also rustc's -Ztime-passes for each contestant
    python3 bench/rebuild.py --edit           # a migration edited before each build
    python3 bench/rebuild.py --before /tmp/old  # also the macro of another checkout (made
                                                # with `git archive <commit> | tar -x -C /tmp/old`)
    python3 bench/rebuild.py --only include_str --only "ours (verification)"

Contestants (the set crates bench/workload.py writes, each in its tool's own project and
target directory, as bench/run.py builds them): plain `include_str!` lines (bench/raw), ours
without verification (bench/ours, `--no-default-features`) and rusqlite_migration's
`M::up(include_str!(..)).down(include_str!(..))` slice. Each round touches every set crate's
`src/lib.rs` (the file with the macro call) and runs `cargo build -p set-nN`, in a shuffled
order. The figures are the medians over the rounds of the wall clock and of the CPU time of
every process cargo ran (user + system, from getrusage): CPU time moves less with the load of
the machine, so compare ratios taken in the same run.
"""

import argparse
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import workload  # noqa: E402

# (label, project, extra cargo flags)
CONTESTANTS = [
    ("include_str", "raw", []),
    ("ours (no verification)", "ours", ["--no-default-features"]),
    ("rusqlite_migration", "rusqlite_migration", []),
]
# Measured only when named with --only.
EXTRA = [
    # Verification on, no migration changed: the pass recorded in the crate's OUT_DIR is found
    # (with --edit, every build verifies the edited set).
    ("ours (verification)", "ours", []),
    # The macro with its crates optimised (what the README's `[profile.dev.package.*]` lines
    # give; proc_macro2, quote and syn stay at opt-level 0).
    ("ours (no verification, opt-level 3 macro)", "ours",
     ["--no-default-features", "--config=profile.dev.package.migrate-core.opt-level=3",
      "--config=profile.dev.package.migrate-macros.opt-level=3"]),
]


# The bench/ directory of each contestant's tree: this one, or the one given by --before.
ROOTS = {}


def root(project: str) -> Path:
    return ROOTS.get(project, BENCH)


def project_dir(project: str) -> Path:
    return root(project) / project.removesuffix("@before")


def env_for(project: str) -> dict:
    env = dict(os.environ)
    env["CARGO_TARGET_DIR"] = str(project_dir(project) / "target")
    env.pop("RUSTFLAGS", None)
    return env


def build(project: str, n: int, flags: list) -> tuple:
    """(wall seconds, CPU seconds) of `cargo build -p set-nN`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    out = subprocess.run(["cargo", "build", "-q", "-p", f"set-n{n}", *flags], cwd=project_dir(project),
                         env=env_for(project), text=True, capture_output=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        sys.stderr.write(out.stderr[-8000:])
        raise SystemExit(f"cargo build failed in bench/{project}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def touch(project: str, n: int) -> None:
    os.utime(project_dir(project) / "sets" / f"n{n}" / "src" / "lib.rs")


# The last migration's down file in each tool's layout (bench/workload.py).
def last_down(project: str, n: int) -> Path:
    mig = project_dir(project) / "sets" / f"n{n}" / "migrations"
    if project == "rusqlite_migration":
        return mig / f"{n:06}_table_{n}" / "down.sql"
    return mig / f"{n:06}_table_{n}.down.sql"


def edit(project: str, n: int) -> None:
    """Appends a new comment to the last migration's down file (bench/workload.py writes it
    back at the next run)."""
    with last_down(project, n).open("a") as f:
        f.write(f"-- edited at {time.time_ns()}\n")


def time_passes(project: str, n: int, flags: list, edits: bool) -> None:
    """rustc's own account of the rebuild: the passes that take 10 ms or more. The first
    `cargo rustc` builds afresh (its flags differ from `cargo build`'s), so it runs twice."""
    env = env_for(project)
    env["RUSTC_BOOTSTRAP"] = "1"
    for _ in range(2):
        if edits:
            edit(project, n)
        touch(project, n)
        out = subprocess.run(["cargo", "rustc", "-q", "-p", f"set-n{n}", *flags, "--", "-Ztime-passes"],
                             cwd=project_dir(project), env=env, text=True, capture_output=True)
    for line in out.stderr.splitlines():
        m = re.match(r"time:\s+([0-9.]+);.*?\s(\S+)$", line)
        if m and float(m.group(1)) >= 0.005:
            print(f"    {line.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="migrations in the set (default 1000)")
    parser.add_argument("--reps", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--only", action="append", help="a contestant's label (repeatable)")
    parser.add_argument("--before", type=Path,
                        help="another checkout of this repository: its ours (no verification) "
                        "is measured too, interleaved, as \"ours before\"")
    parser.add_argument("--edit", action="store_true",
                        help="edit a migration before each build instead of only touching src/lib.rs")
    parser.add_argument("--time-passes", action="store_true", help="print rustc's -Ztime-passes")
    args = parser.parse_args()
    chosen = [c for c in CONTESTANTS + EXTRA
              if (c in CONTESTANTS and not args.only) or (args.only and c[0] in args.only)]

    if args.before:
        ROOTS["ours@before"] = args.before.resolve() / "bench"
        chosen.append(("ours before", "ours@before", ["--no-default-features"]))
        workload.generate(ROOTS["ours@before"], tools=["ours"])
    # Every size: each project's runner depends on all of its set crates.
    workload.generate(BENCH, tools=sorted({p for _, p, _ in chosen if "@" not in p}))
    for label, project, flags in chosen:  # warm: dependencies built, set built once
        build(project, args.n, flags)

    samples = {label: [] for label, _, _ in chosen}
    for _ in range(args.reps):
        order = list(chosen)
        random.shuffle(order)
        for label, project, flags in order:
            if args.edit:
                edit(project, args.n)
            touch(project, args.n)
            samples[label].append(build(project, args.n, flags))

    base = samples.get("include_str")
    base_wall = statistics.median(w for w, _ in base) if base else None
    base_cpu = statistics.median(c for _, c in base) if base else None
    what = "a migration edited" if args.edit else "src/lib.rs touched"
    print(f"N = {args.n}, {what}, {args.reps} interleaved rounds, medians")
    print(f"{'contestant':<42} {'wall ms':>8} {'CPU ms':>8} {'× include_str (wall)':>21} "
          f"{'× include_str (CPU)':>20}")
    for label, _, _ in chosen:
        wall = statistics.median(w for w, _ in samples[label])
        cpu = statistics.median(c for _, c in samples[label])
        rw = f"{wall / base_wall:.2f}×" if base_wall else "–"
        rc = f"{cpu / base_cpu:.2f}×" if base_cpu else "–"
        print(f"{label:<42} {wall * 1000:>8.0f} {cpu * 1000:>8.0f} {rw:>21} {rc:>20}")

    if args.time_passes:
        for label, project, flags in chosen:
            print(f"\n-Ztime-passes, {label}:")
            time_passes(project, args.n, flags, args.edit)


if __name__ == "__main__":
    main()
