"""Draw bench/results/<date>.json as a PNG: wall time per workload and tool (lower is better).

Runs in the peers' venv (bench/.peers), which has matplotlib: `make bench` calls it.

    python bench/chart.py bench/results/2026-11-22.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main() -> None:
    source = Path(sys.argv[1])
    data = json.loads(source.read_text())
    results = data["results"]
    workloads = list(dict.fromkeys(r["workload"] for r in results))
    tools = list(dict.fromkeys(r["tool"] for r in results))
    wall = {(r["workload"], r["tool"]): r["wall"] for r in results}
    # Four workloads a row: with the durable and fault-injected rows there are a dozen or more.
    columns = min(4, len(workloads))
    rows = -(-len(workloads) // columns)
    figure, grid = plt.subplots(rows, columns, figsize=(4 * columns, 4 * rows), squeeze=False)
    axes = [axis for row in grid for axis in row]
    for axis in axes[len(workloads) :]:
        axis.set_visible(False)
    for axis, workload in zip(axes, workloads, strict=False):
        values = [wall.get((workload, tool), 0.0) for tool in tools]
        colors = ["#2a6f4e" if tool == "s3kit" else "#9aa5b1" for tool in tools]
        axis.bar(tools, values, color=colors)
        axis.set_title(workload)
        axis.set_ylabel("seconds (median)")
        axis.tick_params(axis="x", rotation=30)
        for index, value in enumerate(values):
            axis.annotate(f"{value:.2f}", (index, value), ha="center", va="bottom", fontsize=8)
    figure.suptitle(f"s3kit and peers, SeaweedFS on loopback, {data['date']}", fontsize=10)
    figure.tight_layout()
    target = source.with_suffix(".png")
    figure.savefig(target, dpi=100)
    print(f"saved {target}")


if __name__ == "__main__":
    main()
