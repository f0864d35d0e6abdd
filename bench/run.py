#!/usr/bin/env python3
"""Regenerates every figure in BENCHMARKS.md and the plots, from nothing but the sources here.

    python3 bench/run.py            # the full run: about 40 minutes on 2 cores from nothing, 20 with warm builds
    python3 bench/run.py --quick    # a smoke run: every step, few repetitions, compile N = 100
    python3 bench/run.py --report   # rewrite BENCHMARKS.md and the plots from bench/results.json
    python3 bench/run.py --only-compile  # compile times and clean builds again (same commit only)
    python3 bench/run.py --only-instructions  # the CI guard's instruction counts, into the same file

Each tool lives in a Cargo project of its own under bench/ (peers link different
`libsqlite3-sys` versions, and cargo allows one `links = "sqlite3"` package per build graph),
with its own Cargo.lock and target directory. Steps:

1. write the workload (workload.py): N migrations per tool, in each tool's own format;
2. build every project in release, one at a time;
3. run time: no-op `up`, cold start, apply on a file and in memory, for every N, every tool in
   a shuffled order in each round (interleaved), medians over the rounds;
4. the stripped size of a release program embedding 200 migrations, and dependency counts;
   instruction counts of the CI guard (bench/guard/guard.py: callgrind, ours against raw);
5. compile time in the dev profile: touch the file that invokes the macro, `cargo build`,
   interleaved over tools, median of the repetitions; ours with and without verification, and
   with verification plus the `[profile.dev.package.*] opt-level = 3` lines of our workspace
   (a migration edited before each build, so it is verified), and with verification when no
   migration changed (the pass recorded in the crate's `OUT_DIR` is found); a row that edits
   nothing is first built once unmeasured, since the rows that verify edit the same set;
6. (full run) clean builds of ours with and without verification: the one-time cost of
   building SQLite for the compiler;
7. results.json, the plots (matplotlib, installed into bench/.venv from PyPI) and BENCHMARKS.md
   (the analysis under "Where we are behind" comes from bench/notes.md, written by hand).
"""

import argparse
import datetime
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import workload  # noqa: E402

RESULTS = BENCH / "results.json"
PROJECTS = ["ours", "raw", "rusqlite_migration", "diesel", "refinery", "sqlx"]

# Run-time contestants: (label, project, extra runner arguments).
RUNTIME = [
    ("raw", "raw", []),
    ("raw-per-migration", "raw", ["per-migration"]),
    ("ours", "ours", []),
    ("rusqlite_migration", "rusqlite_migration", []),
    ("diesel", "diesel", []),
    ("refinery", "refinery", []),
    ("sqlx", "sqlx", []),
]
LABELS = {
    "raw": "raw rusqlite, one transaction",
    "raw-per-migration": "raw rusqlite, one transaction per migration",
    "ours": "**migrate-runtime (ours)**",
    "rusqlite_migration": "rusqlite_migration",
    "diesel": "diesel_migrations",
    "refinery": "refinery",
    "sqlx": "sqlx `migrate!`",
}

# The `[profile.dev.package.*]` lines of our workspace's Cargo.toml, as `--config` flags.
OPT_OVERRIDES = [
    f"--config=profile.dev.package.{p}.opt-level=3"
    for p in ["libsqlite3-sys", "rusqlite", "migrate-engine", "migrate-core"]
]

# The same four lines under [profile.release.package.*]: a named package's setting takes
# precedence over `build-override`, which otherwise builds the proc macro's SQLite at opt-level 0.
RELEASE_OVERRIDES = [o.replace("profile.dev.", "profile.release.") for o in OPT_OVERRIDES]

# Compile-time contestants: (label, project, extra cargo flags, target dir name).
COMPILE = [
    ("include_str", "raw", [], "target"),
    ("ours (no verification)", "ours", ["--no-default-features"], "target"),
    ("ours (verification)", "ours", [], "target"),
    ("ours (verification, no migration changed)", "ours", [], "target"),
    ("ours (verification, opt-level overrides)", "ours", OPT_OVERRIDES, "target-opt"),
    ("ours (no verification, release)", "ours", ["--release", "--no-default-features"], "target"),
    ("ours (verification, release)", "ours", ["--release"], "target"),
    ("ours (verification, release, opt-level overrides)", "ours", ["--release", *RELEASE_OVERRIDES],
     "target-relopt"),
    ("rusqlite_migration", "rusqlite_migration", [], "target"),
    ("diesel", "diesel", [], "target"),
    ("refinery", "refinery", [], "target"),
    ("sqlx", "sqlx", [], "target"),
]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def sh(cmd, cwd=None, env=None, check=True) -> str:
    out = subprocess.run(
        cmd, cwd=cwd, env=env, check=False, text=True, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    if check and out.returncode != 0:
        sys.stderr.write(out.stdout[-8000:])
        raise SystemExit(f"failed ({out.returncode}): {' '.join(map(str, cmd))} in {cwd}")
    return out.stdout


def cargo_env(project: str, target: str = "target") -> dict:
    env = dict(os.environ)
    env["CARGO_TARGET_DIR"] = str(BENCH / project / target)
    env.pop("RUSTFLAGS", None)
    return env


# ---------------------------------------------------------------------------------------------
# Build


def build_all(results: dict) -> None:
    builds = results.setdefault("release_build_s", {})
    for project in PROJECTS:
        log(f"release build: {project}")
        started = time.monotonic()
        sh(["cargo", "build", "--release", "-p", "runner", "-p", "size"], cwd=BENCH / project,
           env=cargo_env(project))
        builds[project] = time.monotonic() - started


def runner(project: str) -> Path:
    return BENCH / project / "target" / "release" / "runner"


def lock_versions(project: str) -> dict:
    text = (BENCH / project / "Cargo.lock").read_text()
    found = {}
    for name, version in re.findall(r'name = "([^"]+)"\nversion = "([^"]+)"', text):
        found[name] = version
    return found


def versions(results: dict) -> None:
    info = {}
    for project in PROJECTS:
        locked = lock_versions(project)
        crate = {
            "ours": "migrate-runtime", "raw": "rusqlite", "rusqlite_migration": "rusqlite_migration",
            "diesel": "diesel_migrations", "refinery": "refinery", "sqlx": "sqlx",
        }[project]
        info[project] = {
            "crate": crate,
            "version": locked.get(crate, "?"),
            "libsqlite3-sys": locked.get("libsqlite3-sys", "?"),
            "rusqlite": locked.get("rusqlite"),
            "sqlite": sh([runner(project), "version"]).strip(),
        }
    results["versions"] = info


# ---------------------------------------------------------------------------------------------
# Run time


def run_tool(project: str, extra: list, cmd: str, n: int, count: int) -> list:
    env = dict(os.environ)
    env["BENCH_TMP"] = str(BENCH / project / "target" / "tmp")
    out = sh([runner(project), *extra, cmd, str(n), str(count)], env=env)
    line = [l for l in out.splitlines() if l.startswith("{")][-1]
    return json.loads(line)["ns"]


def measure_runtime(results: dict, quick: bool) -> None:
    rounds = 2 if quick else 9
    plan = [
        # (command, sizes, samples per invocation, reduce each invocation to its median)
        ("noop", workload.SIZES, lambda n: 50 if quick else 300, True),
        ("noop-cold", workload.SIZES, lambda n: 5 if quick else 10, True),
        ("apply-memory", workload.SIZES, lambda n: 1 if quick else max(1, min(10, 1000 // n)), False),
        ("apply-file", workload.SIZES, lambda n: 1 if quick else max(1, min(5, 200 // n)), False),
    ]
    for project in PROJECTS:  # applied databases cached by the runners: start afresh
        shutil.rmtree(BENCH / project / "target" / "tmp", ignore_errors=True)
        (BENCH / project / "target" / "tmp").mkdir(parents=True)
    samples: dict = {}
    for cmd, sizes, count, reduce in plan:
        log(f"run time: {cmd}, {rounds} interleaved rounds")
        for _ in range(rounds):
            order = [(label, project, extra, n) for label, project, extra in RUNTIME for n in sizes]
            random.shuffle(order)
            for label, project, extra, n in order:
                ns = run_tool(project, extra, cmd, n, count(n))
                got = [statistics.median(ns)] if reduce else ns
                samples.setdefault(cmd, {}).setdefault(label, {}).setdefault(str(n), []).extend(got)
    results["runtime_samples_ns"] = samples
    results["runtime_ns"] = {
        cmd: {label: {n: statistics.median(v) for n, v in per_n.items()} for label, per_n in by.items()}
        for cmd, by in samples.items()
    }


# ---------------------------------------------------------------------------------------------
# Size and dependencies


def measure_sizes(results: dict) -> None:
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for project in PROJECTS:
            binary = BENCH / project / "target" / "release" / "size"
            copy = Path(tmp) / f"size-{project}"
            shutil.copy(binary, copy)
            sh(["strip", copy])
            # It must work: apply the 200 migrations to a fresh file.
            db = Path(tmp) / f"{project}.db"
            sh([binary, db])
            sizes[project] = {"unstripped": binary.stat().st_size, "stripped": copy.stat().st_size}
    results["binary_bytes"] = sizes


# The tool's own crates, told apart from third-party packages.
OWN = {
    "ours": {"migrate-runtime", "migrate-macros", "migrate-engine", "migrate-core"},
    "raw": set(),
    "rusqlite_migration": {"rusqlite_migration"},
    "diesel": {"diesel", "diesel_derives", "diesel_migrations", "diesel_table_macro_syntax",
               "dsl_auto_type", "migrations_internals", "migrations_macros"},
    "refinery": {"refinery", "refinery-core", "refinery-macros"},
    "sqlx": {"sqlx", "sqlx-core", "sqlx-macros", "sqlx-macros-core", "sqlx-sqlite"},
}


def tree(project: str, flags: list, edges: str) -> list:
    text = sh(["cargo", "tree", "-p", "size", *flags, "-e", edges, "--prefix", "none",
               "--target", "x86_64-unknown-linux-gnu"], cwd=BENCH / project)
    names = {line.split()[0] for line in text.splitlines() if line.strip()}
    return sorted(names - {"size", "set-n200"})


def measure_deps(results: dict) -> None:
    """Packages the size program (a crate embedding 200 migrations) builds: everything it
    compiles (normal, build and proc-macro dependencies), and what is linked into it."""
    deps = {}
    for label, project, flags in [
        ("ours (verification)", "ours", ["--features", "set-n200/verify"]),
        ("ours (no verification)", "ours", []),
        ("raw", "raw", []),
        ("rusqlite_migration", "rusqlite_migration", []),
        ("diesel", "diesel", []),
        ("refinery", "refinery", []),
        ("sqlx", "sqlx", []),
    ]:
        compiled = tree(project, flags, "normal,build")
        linked = tree(project, flags, "normal,no-proc-macro")
        own = OWN[project]
        deps[label] = {
            "compiled": compiled,
            "linked": linked,
            "compiled_third_party": [p for p in compiled if p not in own],
            "linked_third_party": [p for p in linked if p not in own],
        }
    results["deps"] = deps


# ---------------------------------------------------------------------------------------------
# Compile time


def cargo_build_set(project: str, n: int, flags: list, target: str, cpu: bool = False):
    """Wall-clock seconds of `cargo build -p set-nN`; with `cpu`, (wall, CPU seconds of every
    process the build ran)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    sh(["cargo", "build", "-p", f"set-n{n}", *flags], cwd=BENCH / project,
       env=cargo_env(project, target))
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return (wall, used) if cpu else wall


def edits_a_migration(label: str) -> bool:
    """Whether the row measures verification itself: a migration changes before each build, so
    the pass recorded in the crate's `OUT_DIR` no longer applies (the set crates have the build
    script the README recommends). "no migration changed" measures the recorded pass."""
    return "verification" in label and "no verification" not in label and "no migration" not in label


def change_a_migration(project: str, n: int) -> None:
    """Appends a new comment to the last migration's down file (bench/workload.py writes it
    back at the next run)."""
    down = BENCH / project / "sets" / f"n{n}" / "migrations" / f"{n:06}_table_{n}.down.sql"
    with down.open("a") as f:
        f.write(f"-- edited at {time.time_ns()}\n")


def measure_compile(results: dict, quick: bool) -> None:
    sizes = [100] if quick else [10, 100, 1000]
    reps = 1 if quick else 5
    log("compile time: warming every dev build")
    for label, project, flags, target in COMPILE:
        for n in sizes:
            log(f"  warm: {label}, N = {n}")
            cargo_build_set(project, n, flags, target)
    samples: dict = {}
    log(f"compile time: {reps} interleaved repetitions")
    for _ in range(reps):
        order = [(c, n) for c in COMPILE for n in sizes]
        random.shuffle(order)
        for (label, project, flags, target), n in order:
            lib = BENCH / project / "sets" / f"n{n}" / "src" / "lib.rs"
            if edits_a_migration(label):
                change_a_migration(project, n)
            else:
                # The rows share their set's sources, and the rows that verify edit a
                # migration: build once unmeasured, so that this row measures what it says
                # (a touch with nothing else changed since its last build, and, for "no
                # migration changed", a pass recorded for the current files).
                cargo_build_set(project, n, flags, target)
            os.utime(lib)  # touch the file with the macro call
            seconds = cargo_build_set(project, n, flags, target)
            samples.setdefault(label, {}).setdefault(str(n), []).append(seconds)
    results["compile_samples_s"] = samples
    results["compile_s"] = {
        label: {n: statistics.median(v) for n, v in per_n.items()} for label, per_n in samples.items()
    }


def measure_instructions(results: dict) -> None:
    """The CI guard's instruction counts (bench/guard/guard.py: callgrind, ours and the raw
    limit in the same run); recorded even when a ratio is past its bound."""
    out = BENCH / "guard" / "target-counts.json"
    proc = subprocess.run([sys.executable, str(BENCH / "guard" / "guard.py"), "--json", str(out)],
                          check=False)
    if not out.exists():
        raise SystemExit(f"bench/guard/guard.py failed (exit {proc.returncode})")
    results["instructions"] = {
        "counts": json.loads(out.read_text()),
        "commit": sh(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]).strip(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    out.unlink()


def measure_clean_builds(results: dict) -> None:
    """From an empty target directory: what verification costs once (SQLite for the compiler)."""
    clean = {}
    for label, flags in [
        ("dev, no verification", ["--no-default-features"]),
        ("dev, verification", []),
        ("dev, verification, opt-level overrides", OPT_OVERRIDES),
        ("release, no verification", ["--release", "--no-default-features"]),
        ("release, verification", ["--release"]),
        ("release, verification, opt-level overrides", ["--release", *RELEASE_OVERRIDES]),
    ]:
        target = "target-clean"
        shutil.rmtree(BENCH / "ours" / target, ignore_errors=True)
        log(f"clean dev build of ours: {label}")
        wall, cpu = cargo_build_set("ours", 10, flags, target, cpu=True)
        clean[label] = {"wall": wall, "cpu": cpu}
        shutil.rmtree(BENCH / "ours" / target, ignore_errors=True)
    results["clean_build_s"] = clean


# ---------------------------------------------------------------------------------------------
# Machine


def source_state(results: dict) -> None:
    """The commit of ours that is measured (the working tree, at the start of the run)."""
    results["source"] = {
        "commit": sh(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]).strip(),
        "dirty": bool(sh(["git", "-C", str(ROOT), "status", "--porcelain", "--", "migrate-core",
                          "migrate-engine", "migrate-macros", "migrate-runtime"]).strip()),
    }


def machine(results: dict, started: float, command: str) -> None:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    free = sh(["free", "-h"]).splitlines()
    mem = free[1].split()[1] if len(free) > 1 else "?"
    results["machine"] = {
        "nproc": sh(["nproc"]).strip(),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "rustc": sh(["rustc", "-V"]).strip(),
        "cargo": sh(["cargo", "-V"]).strip(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": command,
        "total_s": time.monotonic() - started,
        "filesystem": sh(["df", "-T", str(BENCH)]).splitlines()[-1].split()[1],
    }


# ---------------------------------------------------------------------------------------------
# Plots and report


def plot(results: dict) -> None:
    venv = BENCH / ".venv"
    python = venv / "bin" / "python"
    if not python.exists():
        log("installing matplotlib into bench/.venv (PyPI)")
        sh([sys.executable, "-m", "venv", venv])
    if subprocess.run([python, "-c", "import matplotlib"], capture_output=True).returncode != 0:
        sh([python, "-m", "pip", "install", "--quiet", "matplotlib"])
    sh([python, BENCH / "plot.py", RESULTS, BENCH])


def fmt_time(ns: float) -> str:
    if ns < 1e6:
        return f"{ns / 1e3:.1f} µs"
    if ns < 1e9:
        return f"{ns / 1e6:.1f} ms"
    return f"{ns / 1e9:.2f} s"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "–"


def check(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def report(results: dict) -> str:
    rt = results["runtime_ns"]
    m = results["machine"]
    v = results["versions"]
    quick = results.get("quick")
    n = "200"
    out = []
    w = out.append
    w("# Benchmarks\n")
    w("Regenerate everything (builds, run time, compile time, sizes, this file and the plots):\n")
    w("```sh\npython3 bench/run.py\n```\n")
    commands = " followed by ".join(f"`{c}`" for c in m["command"].split(" and "))
    line = (f"`--quick` is a smoke run of every step. This file was written by {commands} "
            f"({m['total_s'] / 60:.0f} minutes in all, finished {m['date']}).")
    if quick:
        line += " **It is a quick run: too few repetitions to quote.**"
    w(line + "\n")
    w("What is measured and how is described in `bench/run.py`; each tool is a Cargo project of "
      "its own under `bench/` (peers link different `libsqlite3-sys` versions, and cargo allows "
      "one `links = \"sqlite3\"` package per build graph), outside the main workspace. The "
      "workload (`bench/workload.py`) is N realistic migrations, each a table with five columns, "
      "an index and three seed rows, written in each tool's own format. Every tool uses its "
      "documented entry point with default settings and a bundled SQLite; connections use "
      "SQLite's defaults (rollback journal, `synchronous = FULL`).\n")
    w("Only ratios measured in the same run count: the machine is shared and noisy. Tools run "
      "interleaved, in a shuffled order each round, and every figure is a median. The machine "
      "also switches between a fast and a slow state for seconds at a time (the same "
      "invocation runs 1.5× slower), so medians over few rounds can land on either; the "
      "targets table therefore also gives the ratio of the fastest rounds, and \"Where we are "
      "behind\" gives instruction counts (callgrind, `bash bench/profile.sh`), which do not "
      "depend on the load.\n")

    w("## Machine and versions\n")
    w(f"- {m['nproc']} cores ({m['cpu']}), {m['memory']} memory, Linux {m['kernel']}, "
      f"{m['filesystem']} file system (databases written next to the benchmark)")
    w(f"- {m['rustc']}; {m['cargo']}")
    src = results["source"]
    w(f"- ours: the working tree at commit `{src['commit']}`" + (", with uncommitted changes "
      "in the crates," if src["dirty"] else "") + " when the run started\n")
    w("| tool | crate | version | libsqlite3-sys | bundled SQLite |")
    w("| --- | --- | --- | --- | --- |")
    for project in PROJECTS:
        i = v[project]
        version = "path (this repo)" if project == "ours" else i["version"]
        crate = i["crate"] + (f" (rusqlite {i['rusqlite']})" if i.get("rusqlite") and project != "raw" else "")
        w(f"| {project} | {crate} | {version} | {i['libsqlite3-sys']} | {i['sqlite']} |")
    w("\nEach peer is at the newest release that resolves here (rusqlite 0.42 and later need a "
      "newer `sqlite-wasm-rs` than the registry holds, which caps the peers' rusqlite too).\n")

    # Summary of targets.
    noop = rt["noop"]
    apply_f = rt["apply-file"]
    apply_m = rt["apply-memory"]
    comp = results.get("compile_s", {})
    size = results["binary_bytes"]
    deps = results["deps"]
    big = "1000" if "1000" in comp.get("include_str", {}) else "100"
    noop_flat = max(noop["ours"].values()) / min(noop["ours"].values())
    w("## Targets\n")
    w("| target | measured | |")
    w("| --- | --- | --- |")
    best = {cmd: {label: {k: min(v) for k, v in per.items()} for label, per in by.items()}
            for cmd, by in results["runtime_samples_ns"].items()}
    r = noop["ours"][n] / noop["raw"][n]
    rb = best["noop"]["ours"][n] / best["noop"]["raw"][n]
    w(f"| no-op `up` within 1.1× of one raw read of the version, flat in N | {r:.2f}× at N = 200 "
      f"(fastest rounds: {rb:.2f}×); slowest / fastest median over N = 10…1000: "
      f"{noop_flat:.2f}× | {check(r <= 1.1 and noop_flat <= 1.1)} (flat in N: yes, one read) |")
    r_f = apply_f["ours"][n] / apply_f["raw"][n]
    r_m = apply_m["ours"][n] / apply_m["raw"][n]
    rb_f = best["apply-file"]["ours"][n] / best["apply-file"]["raw"][n]
    rb_m = best["apply-memory"]["ours"][n] / best["apply-memory"]["raw"][n]
    w(f"| apply within 1.05× of the same SQL in one transaction | medians: file {r_f:.2f}×, "
      f"memory {r_m:.2f}×; fastest rounds: file {rb_f:.2f}×, memory {rb_m:.2f}× (N = 200) | "
      f"{check(max(r_f, r_m, rb_f, rb_m) <= 1.05)} |")
    if comp:
        r = comp["ours (no verification)"][big] / comp["include_str"][big]
        w(f"| incremental rebuild without verification within 1.1× of plain `include_str!` | "
          f"{r:.2f}× (N = {big}) | {check(r <= 1.1)} |")
        recorded = comp.get("ours (verification, no migration changed)")
        if recorded:
            r = recorded[big] / comp["ours (no verification)"][big]
            w(f"| a rebuild in which no migration changed costs what one without verification "
              f"costs (1.1×) | {r:.2f}× (N = {big}) | {check(r <= 1.1)} |")
        extra = comp["ours (verification)"][big] - comp["ours (no verification)"][big]
        extra_o = comp["ours (verification, opt-level overrides)"][big] - comp["ours (no verification)"][big]
        rel = comp["ours (no verification, release)"][big]
        extra_r = comp["ours (verification, release)"][big] - rel
        extra_ro = comp["ours (verification, release, opt-level overrides)"][big] - rel
        w(f"| verification of 1000 migrations adds under 2 s to an incremental build | dev: "
          f"+{extra_o:.2f} s with the opt-level lines, +{extra:.2f} s without; release: "
          f"+{extra_ro:.2f} s with the lines, +{extra_r:.2f} s without (N = {big}) | "
          f"{check(extra_o < 2)} in dev with the lines, {check(extra < 2)} without; "
          f"{check(extra_ro < 2)} in release with the lines, {check(extra_r < 2)} without |")
    r = size["ours"]["stripped"] / size["raw"]["stripped"]
    w(f"| stripped binary within 1.03× of raw | {r:.3f}× | {check(r <= 1.03)} |")
    od, rd = deps["ours (verification)"], deps["rusqlite_migration"]
    ok = len(od["linked_third_party"]) <= len(rd["linked_third_party"])
    w(f"| dependency tree no larger than rusqlite_migration's | third-party packages linked "
      f"into the program: {len(od['linked_third_party'])} vs {len(rd['linked_third_party'])}; "
      f"compiled, macro included: {len(od['compiled_third_party'])} vs "
      f"{len(rd['compiled_third_party'])} | {check(ok)} for what the program links; "
      f"{check(len(od['compiled_third_party']) <= len(rd['compiled_third_party']))} for what "
      f"the build compiles |")
    w("")

    counts = results.get("instructions")
    if counts:
        w("## Instruction counts (the CI guard)\n")
        w("`python3 bench/guard/guard.py` (also a step of `.ci/run`), at commit "
          f"`{counts['commit']}`, {counts['date']}: callgrind counts the instructions of one "
          "function of `bench/guard` (ours and the raw-rusqlite limit in one release binary, on "
          "one SQLite); unlike the wall clock they do not depend on the load. The step fails "
          "when a ratio passes its bound.\n")
        w("| check | ours | raw limit | × raw | bound |")
        w("| --- | ---: | ---: | ---: | ---: |")
        for name, c in counts["counts"].items():
            w(f"| {name} | {c['ours']:,.0f} | {c['raw']:,.0f} | {c['ratio']:.3f}× | "
              f"{c['bound']:.3f}× |")
        w("")

    # No-op.
    w("## 1. No-op start-up: everything applied, one `up` call\n")
    w("The database holds N applied migrations; the figure is one `up` call on an open "
      "connection that has run it before (what every service start pays, beyond opening the "
      "file). Raw limit: one `SELECT version, dirty FROM schema_migrations`, prepared and "
      "stepped. Each invocation times hundreds of calls and keeps their median; the table "
      "shows the median over the rounds.\n")
    sizes = [s for s in workload.SIZES if str(s) in noop["ours"]]
    w("| tool | " + " | ".join(f"N = {s}" for s in sizes) + " | × raw (N = 200) | × ours (N = 200) |")
    w("| --- |" + " ---: |" * (len(sizes) + 2))
    for label, _, _ in RUNTIME:
        if label == "raw-per-migration":
            continue
        cells = [fmt_time(noop[label][str(s)]) for s in sizes]
        w(f"| {LABELS[label] if label != 'raw' else 'raw rusqlite: one read of the version'} | "
          + " | ".join(cells) + f" | {ratio(noop[label][n], noop['raw'][n])} | "
          f"{ratio(noop[label][n], noop['ours'][n])} |")
    w("")
    w("No-op `up` against N (`bench/noop_vs_n.png`):\n")
    w("![no-op up against N](bench/noop_vs_n.png)\n")
    cold = rt["noop-cold"]
    w("**Cold start** (open the file, then one `up`; SQLite reads and parses the whole schema "
      "at the connection's first statement, so this grows with N for every tool, raw included):\n")
    w("| tool | " + " | ".join(f"N = {s}" for s in sizes) + " | × raw (N = 200) |")
    w("| --- |" + " ---: |" * (len(sizes) + 1))
    for label, _, _ in RUNTIME:
        if label == "raw-per-migration":
            continue
        cells = [fmt_time(cold[label][str(s)]) for s in sizes]
        w(f"| {LABELS[label] if label != 'raw' else 'raw rusqlite: open + one read'} | "
          + " | ".join(cells) + f" | {ratio(cold[label][n], cold['raw'][n])} |")
    w("")

    # Apply.
    w("## 2. Apply N = 200 migrations\n")
    w("A fresh database (a new file, or `:memory:`), then one timed `up` of all 200. Raw limits: "
      "the same SQL with `execute_batch` in one `BEGIN IMMEDIATE` transaction with the version "
      "written at the end, and in one transaction per migration. Every peer commits once per "
      "migration by default (refinery, sqlx, diesel); ours and rusqlite_migration commit once. "
      "On a file each commit is an fsync, which is most of the peers' time.\n")
    w("| tool | file | × raw, 1 tx | × raw, tx per migration | × ours | memory | × raw | × ours |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, _, _ in RUNTIME:
        f, mm = apply_f[label][n], apply_m[label][n]
        w(f"| {LABELS[label]} | {fmt_time(f)} | {ratio(f, apply_f['raw'][n])} | "
          f"{ratio(f, apply_f['raw-per-migration'][n])} | {ratio(f, apply_f['ours'][n])} | "
          f"{fmt_time(mm)} | {ratio(mm, apply_m['raw'][n])} | {ratio(mm, apply_m['ours'][n])} |")
    w("")
    w("Apply time against N (10 to 1000), on a file and in memory, every tool "
      "(`bench/apply_vs_n.png`):\n")
    w("![apply time against N](bench/apply_vs_n.png)\n")
    w("| tool | " + " | ".join(f"file, N = {s}" for s in sizes) + " |")
    w("| --- |" + " ---: |" * len(sizes))
    for label, _, _ in RUNTIME:
        w(f"| {LABELS[label]} | " + " | ".join(fmt_time(apply_f[label][str(s)]) for s in sizes) + " |")
    w("")
    w("| tool | " + " | ".join(f"memory, N = {s}" for s in sizes) + " |")
    w("| --- |" + " ---: |" * len(sizes))
    for label, _, _ in RUNTIME:
        w(f"| {LABELS[label]} | " + " | ".join(fmt_time(apply_m[label][str(s)]) for s in sizes) + " |")
    w("")

    # Compile.
    w("## 3. Compile time of the embedding macro\n")
    w("The dev profile (`cargo build`, what a developer waits for; the release rows use "
      "`cargo build --release`), a library crate whose "
      "`src/lib.rs` is the macro call (for rusqlite_migration and the baseline, the generated "
      "`M::up(include_str!(..)).down(include_str!(..))` or plain `include_str!` lines). Each "
      "figure: touch `src/lib.rs`, `cargo build`, wall clock including cargo's own start-up; "
      "in the rows with verification (ours), one migration is also edited before each build, so "
      "that the set is verified again, except in \"no migration changed\", where the macro "
      "finds the pass it recorded in the crate's `OUT_DIR` and skips verification (each set "
      "crate has the `build.rs` the README recommends); the rows that edit nothing are built "
      "once unmeasured before each measured build, since the verifying rows edit the same "
      "set's files; "
      "median of the repetitions, tools interleaved. \"opt-level overrides\" adds the four "
      "`[profile.dev.package.*] opt-level = 3` lines of our workspace's `Cargo.toml` "
      "(libsqlite3-sys, rusqlite, migrate-engine, migrate-core), as `--config` flags; in the "
      "release row, the same four under `[profile.release.package.*]`. A user's crate gets "
      "that speed only if it adds the same lines to its own workspace.\n")
    if comp:
        csizes = sorted({int(s) for per in comp.values() for s in per})
        w("| macro | profile | " + " | ".join(f"N = {s}" for s in csizes)
          + f" | × include_str (N = {big}) | × ours without verification, same profile (N = {big}) |")
        w("| --- | --- |" + " ---: |" * (len(csizes) + 2))
        for label, _, flags, _ in COMPILE:
            per = comp.get(label)
            if per is None:  # a row added since results.json was measured
                continue
            release = "--release" in flags
            name = "plain `include_str!` lines" if label == "include_str" else label
            name = name.replace(", release", "")
            if label.startswith("ours"):
                name = f"**{name}**"
            base = comp["ours (no verification, release)" if release else "ours (no verification)"]
            versus_plain = "–" if release else ratio(per[big], comp["include_str"][big])
            w(f"| {name} | {'release' if release else 'dev'} | "
              + " | ".join(f"{per[str(s)]:.2f} s" for s in csizes)
              + f" | {versus_plain} | {ratio(per[big], base[big])} |")
        w("")
        w("What verification adds to an incremental build (verification minus no verification, "
          "same run):\n")
        w("| N | dev profile | dev, with the opt-level lines | release profile | release, with "
          "the lines under `[profile.release.package.*]` |")
        w("| ---: | ---: | ---: | ---: | ---: |")
        for s in csizes:
            dev = comp["ours (no verification)"][str(s)]
            rel = comp["ours (no verification, release)"][str(s)]
            w(f"| {s} | {comp['ours (verification)'][str(s)] - dev:+.2f} s | "
              f"{comp['ours (verification, opt-level overrides)'][str(s)] - dev:+.2f} s | "
              f"{comp['ours (verification, release)'][str(s)] - rel:+.2f} s | "
              f"{comp['ours (verification, release, opt-level overrides)'][str(s)] - rel:+.2f} s |")
        w("")
    clean = results.get("clean_build_s")
    if clean:
        w("**One-time cost**: a clean build (empty target directory) of a crate embedding 10 "
          "migrations with `migrate-runtime`. In the dev profile the proc macro's rusqlite and "
          "SQLite are the program's own (cargo shares a dependency between host and target when "
          "no `--target` is given and the profiles agree), so verification compiles no second "
          "SQLite; the opt-level lines make SQLite's C compile at `-O3`, which costs once. In "
          "release, proc macros and their dependencies use the `build-override` profile "
          "(opt-level 0), so verification builds a second, unoptimised SQLite for the compiler "
          "and runs the migrations on it; the four lines under `[profile.release.package.*]` "
          "take precedence over `build-override`, so host and target share one optimised "
          "SQLite again:\n")
        w("| configuration | clean build, wall clock | extra | CPU time (all processes) | extra |")
        w("| --- | ---: | ---: | ---: | ---: |")
        for label, t in clean.items():
            base = clean["release, no verification" if label.startswith("release") else
                         "dev, no verification"]
            w(f"| {label} | {t['wall']:.1f} s | {t['wall'] - base['wall']:+.1f} s | "
              f"{t['cpu']:.1f} s | {t['cpu'] - base['cpu']:+.1f} s |")
        w("")
        w("\"extra\" is against no verification in the same profile. On 2 cores the second "
          "SQLite of a release build compiles beside the first, so it shows in CPU time more "
          "than on the wall clock.\n")

    # Size.
    w("## 4. Release binary size\n")
    w("A program that embeds 200 migrations and applies them to a file (`bench/*/size`), "
      "default release profile, `strip`ped copy.\n")
    w("| tool | stripped | × raw | × ours | unstripped |")
    w("| --- | ---: | ---: | ---: | ---: |")
    for project in PROJECTS:
        s = size[project]
        w(f"| {LABELS.get(project, project) if project != 'raw' else 'raw rusqlite + include_str'} | "
          f"{s['stripped'] / 1024:.0f} KiB | {ratio(s['stripped'], size['raw']['stripped'])} | "
          f"{ratio(s['stripped'], size['ours']['stripped'])} | {s['unstripped'] / 1024:.0f} KiB |")
    w("")

    w("## Dependencies\n")
    w("Packages the size program (a crate embedding 200 migrations) builds besides itself, "
      "from `cargo tree`: everything compiled (normal, build and proc-macro dependencies), and "
      "what is linked into the program (`-e normal,no-proc-macro`); \"third-party\" leaves out "
      "the tool's own crates. Ours with verification compiles the same packages as without: the "
      "verifier is `migrate-engine`, which the runtime links anyway.\n")
    w("| tool | compiled | third-party compiled | linked | third-party linked | "
      "third-party packages compiled |")
    w("| --- | ---: | ---: | ---: | ---: | --- |")
    for label, d in deps.items():
        w(f"| {label} | {len(d['compiled'])} | {len(d['compiled_third_party'])} | "
          f"{len(d['linked'])} | {len(d['linked_third_party'])} | "
          f"{', '.join(d['compiled_third_party'])} |")
    w("")

    notes = BENCH / "notes.md"
    if notes.exists():
        w(notes.read_text().rstrip() + "\n")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few repetitions: a smoke run")
    parser.add_argument("--report", action="store_true",
                        help="only rewrite BENCHMARKS.md and the plots from bench/results.json")
    parser.add_argument("--skip-compile", action="store_true", help="leave out compile times")
    parser.add_argument("--only-instructions", action="store_true",
                        help="run the CI guard's instruction counts, keep the rest of "
                             "bench/results.json")
    parser.add_argument("--only-compile", action="store_true",
                        help="measure compile times and clean builds again, keep the rest of "
                             "bench/results.json")
    args = parser.parse_args()
    if args.only_compile:
        started = time.monotonic()
        results = json.loads(RESULTS.read_text())
        if results["source"] != {"commit": sh(["git", "-C", str(ROOT), "rev-parse", "--short",
                                                "HEAD"]).strip(), "dirty": results["source"]["dirty"]}:
            raise SystemExit("results.json was measured at another commit: run the full benchmark")
        workload.generate(BENCH)
        measure_compile(results, args.quick)
        if not args.quick:
            measure_clean_builds(results)
        results["machine"]["total_s"] += time.monotonic() - started
        results["machine"]["command"] += " and python3 bench/run.py --only-compile"
        results["machine"]["date"] = datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC")
        RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    elif args.only_instructions:
        results = json.loads(RESULTS.read_text())
        measure_instructions(results)
        if "--only-instructions" not in results["machine"]["command"]:
            results["machine"]["command"] += " and python3 bench/run.py --only-instructions"
        RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    elif args.report:
        results = json.loads(RESULTS.read_text())
    else:
        started = time.monotonic()
        command = "python3 bench/run.py" + (" --quick" if args.quick else "")
        results = {"quick": args.quick}
        source_state(results)
        log("writing the workload")
        workload.generate(BENCH)
        build_all(results)
        versions(results)
        measure_runtime(results, args.quick)
        measure_sizes(results)
        measure_deps(results)
        measure_instructions(results)
        if not args.skip_compile:
            measure_compile(results, args.quick)
            if not args.quick:
                measure_clean_builds(results)
        machine(results, started, command)
        RESULTS.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    if not args.only_instructions:  # the plots show wall-clock figures, unchanged here
        plot(results)
    # The PostgreSQL section is bench/postgres.py's (its own server and run): kept as it is.
    path = ROOT / "BENCHMARKS.md"
    old = path.read_text() if path.exists() else ""
    begin, end = "<!-- postgres:begin -->", "<!-- postgres:end -->"
    postgres = old[old.find(begin) : old.find(end) + len(end)] if begin in old and end in old else ""
    path.write_text(report(results) + ("\n" + postgres + "\n" if postgres else ""))
    log(f"wrote BENCHMARKS.md and bench/apply_vs_n.png")


if __name__ == "__main__":
    main()
