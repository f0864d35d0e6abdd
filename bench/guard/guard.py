#!/usr/bin/env python3
"""The CI performance guard: instruction counts, which do not depend on the machine's load.

Builds `bench/guard` (our runtime and the raw-rusqlite limit in one release binary, on one
SQLite), runs each workload under `valgrind --tool=callgrind`, counting only the function
`guard::measure` (`--toggle-collect`), and divides ours by raw from the same run:

    no-op `up` on a warm connection (N = 200, per call)   ours / one raw read of the version
    apply 200 migrations in memory                         ours / the same SQL in one transaction
    verify 1000 migrations                                 ours / every up, down and up again
                                                           (on one thread: the work, not the wait)

Each ratio has a bound (CHECKS below, with the figure measured when it was set); the script
exits 1 when a ratio is past its bound, naming it. Counts repeat to about 0.01 % between runs
of one build, so the bounds are tight: apply's catches one `SELECT 1` more per migration, the
no-op's and verification's a few percent (see BENCHMARKS.md, "The CI guard"). A change that
costs on purpose, or a new toolchain or SQLite that moves the counts, moves a bound in a
commit that says why.

    python3 bench/guard/guard.py              # build, measure, check (about 2 to 5 minutes)
    python3 bench/guard/guard.py --no-build   # reuse the binary
    python3 bench/guard/guard.py --json F     # also write the counts to F
    python3 bench/guard/guard.py --only apply # one check

Needs valgrind (`.ci/run` installs it with apt-get when missing).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

GUARD = Path(__file__).resolve().parent
ROOT = GUARD.parent.parent
TARGET = Path(os.environ.get("GUARD_TARGET_DIR", ROOT / "target" / "guard"))
BINARY = TARGET / "release" / "guard"

# name: (workload arguments, bound on ours / raw, measured when the bound was set)
CHECKS = {
    "no-op up, warm connection (N = 200, per call)": (["noop", "{tool}", "200", "200"], 0.66, 0.622),
    "apply 200 in memory": (["apply", "{tool}", "200"], 1.062, 1.053),
    "verify 1000": (["verify", "{tool}", "1000"], 1.90, 1.836),
}

def count(args: list[str], scratch: str) -> tuple[int, int]:
    """Instructions `guard::measure` executed, and how many calls the program says it made."""
    out = Path(scratch) / ("callgrind." + "_".join(args) + ".out")
    proc = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--toggle-collect=guard::measure",
            f"--callgrind-out-file={out}",
            str(BINARY),
            *args,
        ],
        capture_output=True,
        text=True,
        # callgrind's --toggle-collect counts the thread that calls `guard::measure` only: the
        # verifier's other threads would go uncounted, so the guard counts its work on one.
        env={**os.environ, "GUARD_TMP": scratch, "MIGRATE_VERIFY_THREADS": "1"},
    )
    if proc.returncode != 0:
        sys.exit(f"guard: `guard {' '.join(args)}` failed under valgrind:\n{proc.stderr}")
    match = re.search(r"Collected : (\d+)", proc.stderr)
    if not match:
        sys.exit(f"guard: no instruction count in valgrind's output:\n{proc.stderr}")
    return int(match.group(1)), int(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-build", action="store_true", help="reuse the built binary")
    parser.add_argument("--json", type=Path, help="also write the counts and ratios here")
    parser.add_argument(
        "--only", choices=["noop", "apply", "verify"], help="one check (while profiling a change)"
    )
    opts = parser.parse_args()
    if not opts.no_build:
        subprocess.run(
            ["cargo", "build", "--release", "--quiet", "--manifest-path", str(GUARD / "Cargo.toml")],
            check=True,
            env={**os.environ, "CARGO_TARGET_DIR": str(TARGET)},
        )
    jobs = [
        (name, tool, [a.format(tool=tool) for a in spec[0]])
        for name, spec in CHECKS.items()
        for tool in ("ours", "raw")
        if opts.only in (None, spec[0][0])
    ]
    # Slowest first, two at a time: the counts do not depend on what else runs.
    jobs.sort(key=lambda job: job[2][0] != "verify")
    with tempfile.TemporaryDirectory(prefix="migrate-guard-") as scratch:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = dict(
                zip(
                    [(name, tool) for name, tool, _ in jobs],
                    pool.map(lambda job: count(job[2], scratch), jobs),
                )
            )
    failed = []
    report = {}
    print(f"{'check':<48} {'ours':>15} {'raw':>15} {'ratio':>7} {'bound':>7}")
    for name, (spec, bound, was) in CHECKS.items():
        if opts.only not in (None, spec[0]):
            continue
        (ours, calls), (raw, raw_calls) = results[(name, "ours")], results[(name, "raw")]
        ours, raw = ours / calls, raw / raw_calls
        ratio = ours / raw
        verdict = "ok" if ratio <= bound else "REGRESSED"
        print(f"{name:<48} {ours:>15,.0f} {raw:>15,.0f} {ratio:>6.3f}× {bound:>6.3f}×  {verdict}")
        report[name] = {"ours": ours, "raw": raw, "ratio": ratio, "bound": bound, "when_set": was}
        if ratio > bound:
            failed.append(
                f"{name}: ours is {ratio:.3f}× the raw limit, past the bound {bound:.3f}× "
                f"(it was {was:.3f}× when the bound was set)"
            )
    if opts.json:
        opts.json.write_text(json.dumps(report, indent=2) + "\n")
    if failed:
        print("\nperformance guard failed (instruction counts, ours / raw in the same run):")
        for line in failed:
            print(f"  - {line}")
        print(
            "Profile it: valgrind --tool=callgrind --toggle-collect=guard::measure "
            f"{BINARY} <workload> ours <N>, then callgrind_annotate --inclusive=yes."
        )
        return 1
    print("\nperformance guard: every ratio within its bound")
    return 0


if __name__ == "__main__":
    sys.exit(main())
