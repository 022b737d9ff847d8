"""Starting and stopping the benchmarks' server processes, and reading their CPU time from /proc.

The one helper every script under bench/ starts a server with: a `Server` takes a free port on
127.0.0.1, logs to a file, is ready once it answers HTTP, and is stopped by its own PID (and its
workers' PIDs, each checked against its start time), never by a name. `stop_all()` stops whatever
a script started and has not stopped yet, wrk processes included.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> list[int]:
    """Every descendant PID of `pid` (uvicorn's worker processes and whatever they start)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def start_time(pid: int) -> int | None:
    """The process's start time in ticks since boot: with the PID, it names one process for sure."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime
        except (OSError, IndexError, ValueError):
            pass
    return total


def busy_ticks() -> int:
    """Non-idle CPU ticks of the whole machine (all cores)."""
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in parts[:8])
    return user + nice + system + irq + softirq + steal


HZ = os.sysconf("SC_CLK_TCK")
RUNNING: list[Server] = []          # servers this script started and has not stopped yet
LOADS: list[subprocess.Popen] = []    # wrk processes this script started


class Server:
    """A server process this script started; stopped by its own PID (and its workers' PIDs)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path, cwd: Path = ROOT):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen([*argv, "--port", str(self.port)], cwd=cwd, env=env,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        # Every PID of this server (uvicorn's workers too), with its start time, so that a PID is
        # only ever signalled while it still names the process this script started.
        self.pids: dict[int, int | None] = {self.process.pid: start_time(self.process.pid)}
        RUNNING.append(self)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                urllib.request.urlopen(self.url + "/", timeout=2).read()
                break
            except urllib.error.HTTPError:
                break  # any HTTP answer means it serves
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{self.name} did not answer within {timeout:.0f} s:\n{self.log_tail()}")
        time.sleep(0.3)  # let every worker of --workers N finish its start-up
        self.tree()

    def tree(self) -> list[int]:
        pids = [self.process.pid, *children_of(self.process.pid)]
        for pid in pids:
            self.pids.setdefault(pid, start_time(pid))
        return pids

    def cpu(self) -> int:
        return cpu_ticks(self.tree())

    def log_tail(self, lines: int = 30) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, grace: float = 20) -> None:
        """SIGTERM, and SIGKILL after `grace` seconds; then any worker left behind."""
        if self.process.poll() is None:
            self.tree()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid, started in self.pids.items():  # a worker left behind: by its own PID only
            if pid != self.process.pid and started is not None and start_time(pid) == started:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self._log.close()
        if self in RUNNING:
            RUNNING.remove(self)


def stop_all() -> None:
    for load in LOADS:  # a wrk still running (the run was interrupted): by its own PID
        if load.poll() is None:
            load.terminate()
            try:
                load.wait(5)
            except subprocess.TimeoutExpired:
                load.kill()
    for server in list(RUNNING):
        try:
            server.stop()
        except Exception as exc:  # noqa: BLE001 - best effort at exit
            print(f"warning: could not stop {server.name}: {exc}", file=sys.stderr)
