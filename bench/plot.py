"""Plots from bench/results.json: apply time against N (file and memory) and no-op `up`
against N, one line per tool. Run by run.py with the matplotlib of bench/.venv."""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ORDER = ["raw", "raw-per-migration", "ours", "rusqlite_migration", "diesel", "refinery", "sqlx"]
NAMES = {
    "raw": "raw rusqlite, one transaction",
    "raw-per-migration": "raw rusqlite, one transaction per migration",
    "ours": "migrate-runtime (ours)",
    "rusqlite_migration": "rusqlite_migration",
    "diesel": "diesel_migrations",
    "refinery": "refinery",
    "sqlx": "sqlx migrate!",
}
STYLE = {
    "raw": dict(color="black", linestyle="--", marker="o"),
    "raw-per-migration": dict(color="gray", linestyle=":", marker="o"),
    "ours": dict(color="tab:red", linewidth=2.5, marker="s"),
    "rusqlite_migration": dict(color="tab:green", marker="^"),
    "diesel": dict(color="tab:blue", marker="v"),
    "refinery": dict(color="tab:purple", marker="D"),
    "sqlx": dict(color="tab:orange", marker="P"),
}


def lines(ax, data, scale, unit, title, names=None):
    names = {**NAMES, **(names or {})}
    for tool in ORDER:
        if tool not in data:
            continue
        xs = sorted(int(n) for n in data[tool])
        ys = [data[tool][str(n)] / scale for n in xs]
        ax.plot(xs, ys, label=names[tool], **STYLE[tool])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N (migrations)")
    ax.set_ylabel(unit)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)


def main():
    results = json.loads(Path(sys.argv[1]).read_text())
    out = Path(sys.argv[2])
    rt = results["runtime_ns"]
    date = results["machine"]["date"]

    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    lines(axes[0], rt["apply-file"], 1e6, "ms (median)", "apply N migrations to a new file")
    lines(axes[1], rt["apply-memory"], 1e6, "ms (median)", "apply N migrations in memory")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Apply time against N, same run ({date}; python3 bench/run.py)")
    fig.tight_layout()
    fig.savefig(out / "apply_vs_n.png", dpi=110)

    fig, ax = plt.subplots(figsize=(7, 5))
    noop = {k: v for k, v in rt["noop"].items() if k != "raw-per-migration"}
    lines(ax, noop, 1e3, "µs (median)", "no-op up (everything applied) against N",
          {"raw": "raw rusqlite: one read of the version"})
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "noop_vs_n.png", dpi=110)


if __name__ == "__main__":
    main()
