"""Side-by-side: wall time of ``mmplug validate`` as a fresh process, checking only (no torch
imported) against ``--build`` (torch imported, the model built on the meta device, parameters
counted: what every validate did before).

    python benchmarks/validate_startup.py [--runs 5] [--config tiny-random]

Prints the median of ``--runs`` interleaved runs of each and their ratio.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "mmplug.core.cli.main", *args], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--config", default="tiny-random")
    options = parser.parse_args()
    plain, built = [], []
    for _ in range(options.runs):
        plain.append(timed(["validate", options.config]))
        built.append(timed(["validate", options.config, "--build"]))
    check, build = statistics.median(plain), statistics.median(built)
    print(f"| mmplug validate {options.config} | median of {options.runs} |")
    print("|---|---|")
    print(f"| checking only (no torch) | {check:.2f} s |")
    print(f"| --build (torch, meta build, counts) | {build:.2f} s |")
    print(f"| ratio | {check / build:.2f}x the time ({build / check:.1f}x faster) |")


if __name__ == "__main__":
    main()
