"""md5 against hmac-sha256 on the signed JWT `/v2/test`: CPU per request, alternated, in-process.

Each round runs bench/inproc.py once per method in a fresh process, md5 first then HMAC, then the
other way round in the next round, so that drift on a shared machine falls on both alike; the
figure is the median of the rounds and the ratio of the medians (issue 16: HMAC within 5% of md5).

    python bench/sign_methods.py --rounds 10 --requests 3000 [--tree /path/to/older/checkout]

CPU time rather than callgrind's instruction count: under valgrind OpenSSL cannot use the CPU's
SHA instructions (SHA-NI), so callgrind counts SHA-256 at several times its real cost.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

INPROC = Path(__file__).resolve().parent / "inproc.py"
METHODS = ("md5", "hmac-sha256")


def cpu_per_request(method: str, requests: int, settings: list[str], inproc: Path = INPROC, seed: int = 0) -> float:
    """µs of CPU per signed request, as one run of bench/inproc.py reports it (string hashing seeded:
    a process's hash seed moves its figure by several %, so both methods of a round get the same)."""
    command = [sys.executable, str(inproc), "--requests", str(requests), "--sign-method", method]
    for setting in settings:
        command += ["--setting", setting]
    env = {**os.environ, "PYTHONHASHSEED": str(seed)}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    found = re.search(r"([\d.]+) µs CPU each", done.stdout)
    if found is None:
        raise RuntimeError(f"no figure in bench/inproc.py's output:\n{done.stdout}{done.stderr}")
    return float(found.group(1))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--tree", type=Path, default=INPROC.parent.parent,
                        help="the checkout whose service is measured (default: this one), e.g. an older commit's")
    args = parser.parse_args(argv)
    figures: dict[str, list[float]] = {method: [] for method in METHODS}
    for round_number in range(args.rounds):
        order = METHODS if round_number % 2 == 0 else METHODS[::-1]
        for method in order:
            inproc = args.tree / "bench" / "inproc.py"
            figures[method].append(cpu_per_request(method, args.requests, args.setting, inproc, round_number))
        print(f"round {round_number + 1}: " + ", ".join(f"{m} {figures[m][-1]:.1f} µs" for m in METHODS), flush=True)
    medians = {method: statistics.median(values) for method, values in figures.items()}
    ratios = sorted(h / m for m, h in zip(figures["md5"], figures["hmac-sha256"], strict=True))
    print(f"median CPU per signed /v2/test: md5 {medians['md5']:.1f} µs, "
          f"hmac-sha256 {medians['hmac-sha256']:.1f} µs")
    print(f"hmac-sha256 / md5: {medians['hmac-sha256'] / medians['md5']:.3f} (ratio of medians); "
          f"per round min {ratios[0]:.3f}, median {statistics.median(ratios):.3f}, max {ratios[-1]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
