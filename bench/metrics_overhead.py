"""What /metrics costs the hot path: signed POST /v2/test with METRICS_ENABLED=1 vs 0, alternated.

    python bench/metrics_overhead.py                 # 6 rounds of 4 s per side, 1 worker (~60 s)
    python bench/metrics_overhead.py --rounds 4 --seconds 3 --workers 2

Two services on the same settings but METRICS_ENABLED (each its own RUNTIME_DIR, user and JWT),
measured in turns with wrk (bench/run.py's Server, Load and Wrk, from processes.py and loadgen.py:
pre-signed requests, each sent once), on first, then off first, and so on, so the VM's drift
favours neither; reports each round's ratio and their median. Needs wrk.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_calls import login_jwt  # noqa: E402
from loadgen import Load, Wrk  # noqa: E402
from processes import ROOT, Server, stop_all  # noqa: E402
from service_setup import create_user, server_env  # noqa: E402

TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="login-api-metrics-bench-"))
    servers: dict[str, Server] = {}
    tokens: dict[str, str] = {}
    try:
        for side, enabled in (("on", "1"), ("off", "0")):
            runtime = work / side
            runtime.mkdir()
            create_user(runtime)
            servers[side] = Server(f"metrics {side}", [sys.executable, str(ROOT / "server.py"), "--workers",
                                                       str(args.workers)],
                                   server_env(runtime, METRICS_ENABLED=enabled), work / f"{side}.log")
            servers[side].wait_ready()
            tokens[side] = login_jwt(servers[side].url, True)
        ratios: list[float] = []
        cpu_ratios: list[float] = []
        for k in range(args.rounds):
            order = ("on", "off") if k % 2 == 0 else ("off", "on")
            rps: dict[str, float] = {}
            cpu_us: dict[str, float] = {}
            for side in order:
                ticks = servers[side].cpu()
                load = Load("/v2/test", params=lambda _: {}, token=tokens[side])
                wrk = Wrk(servers[side].url, load, args.seconds, threads=2, connections=args.connections,
                          count=int(30_000 * args.seconds * args.workers), work=work).start()
                wrk.wait_ready(2)
                result = wrk.result()
                if any(result.get(key, 0) for key in ("non2xx", "status_err", "sockerr", "timeouts", "exhausted")):
                    raise RuntimeError(f"round {k + 1} ({side}): non-2xx or errors: {result}")
                rps[side] = result["rps"]
                # The server's CPU per request: far less moved than req/s by other load on the machine.
                cpu_us[side] = (servers[side].cpu() - ticks) * TICK_US / result["reqs"]
            ratios.append(rps["on"] / rps["off"])
            cpu_ratios.append(cpu_us["on"] / cpu_us["off"])
            print(f"round {k + 1}: metrics on {rps['on']:,.0f} req/s ({cpu_us['on']:.0f} µs CPU/request), "
                  f"off {rps['off']:,.0f} req/s ({cpu_us['off']:.0f} µs), on/off {ratios[-1]:.1%} req/s, "
                  f"{cpu_ratios[-1]:.1%} CPU", flush=True)
        print(f"median over {args.rounds} rounds: req/s on/off {statistics.median(ratios):.1%}, "
              f"CPU per request on/off {statistics.median(cpu_ratios):.1%}")
        return 0
    finally:
        stop_all()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
