"""Locust as its users run it: real ``locust`` processes against a target on 127.0.0.1."""

from __future__ import annotations

import csv
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from abcsim.lifetime import stoppable_child_hook
from tests.helpers import REPO

SUITE = REPO / "tests" / "performance" / "locustfile.py"
RUN_TIMEOUT_S = 120.0


def locust_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without ``ABC_*``, importing abcsim from this checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ABC_")}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.update(extra or {})
    return env


@dataclass
class LocustRun:
    """A ``locust`` process and the file its output goes to."""

    process: subprocess.Popen[bytes]
    log: Path

    def finish(self, timeout_s: float = RUN_TIMEOUT_S) -> tuple[int, str]:
        """Wait for it to exit (killed past ``timeout_s``): its status and whole output."""
        try:
            self.process.wait(timeout_s)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
        return self.process.returncode, self.log.read_text()


def start_locust(
    locustfile: Path, *args: str, cwd: Path, env: Mapping[str, str] | None = None
) -> LocustRun:
    """``locust -f LOCUSTFILE ARGS`` in the background, output to a log file in ``cwd``."""
    log = cwd / f"locust-{time.monotonic_ns()}.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "locust", "-f", str(locustfile), *args],
            cwd=cwd,
            env=locust_env(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=stoppable_child_hook(),  # stopped with SIGINT, even from a background job
        )
    return LocustRun(process, log)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_page(url: str, timeout_s: float = 60.0) -> str:
    """The body of ``url`` once it answers 200."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2.0) as answer:
                return str(answer.read().decode("utf-8", "replace"))
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def request_counts(stats_csv: Path) -> dict[str, int]:
    """Requests per name from Locust's ``_stats.csv`` (the Aggregated row left out)."""
    with stats_csv.open(newline="") as handle:
        return {
            row["Name"]: int(row["Request Count"])
            for row in csv.DictReader(handle)
            if row["Name"] != "Aggregated"
        }


SPAWNED = re.compile(r"^\[([\d\- :,]+)\].*All users spawned: (\{.*\}) \(\d+ total users\)$")


def processes_with(variable: str, value: str) -> list[int]:
    """Processes whose environment sets ``variable=value`` (from /proc: no ps needed)."""
    wanted = f"{variable}={value}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if wanted in environ.read_bytes().split(b"\0"):
                found.append(int(environ.parent.name))
        except OSError:
            continue  # gone meanwhile, or not ours
    return found
