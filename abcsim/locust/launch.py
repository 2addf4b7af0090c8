"""``abcsim replay --engine locust``: a local Locust master and N workers, started for you.

The same replay as ``abcsim replay`` (same checks, same results file, same
summary, SLO verdict and exit status), but sent by Locust's distributed
engine: a master (``--headless --expect-workers N``, bound to loopback) and N
``--worker`` processes running abcsim's replay locustfile
(:mod:`~abcsim.locust.master`, :mod:`~abcsim.locust.worker`). It is the
one-machine rehearsal of a run spread over many machines, where the user
starts the same master and workers by hand.

The replay's choices reach the processes as ``ABC_*`` variables. Their
output goes to ``RESULTS.locust.log``. They run in their own session, so a
Ctrl-C reaches only this process, which passes it on to the master: the
master stops the workers, collects their last rows and closes the file with
one row per event. And they die with this process (Linux ``PR_SET_PDEATHSIG``):
a replay killed with ``kill -9`` leaves no workers sending load behind it.

Plain Python: it starts Locust, it never imports it.
"""

from __future__ import annotations

import importlib.util
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from abcsim.errors import ReplayError
from abcsim.lifetime import stoppable_child_hook
from abcsim.locust import LOCUSTFILES
from abcsim.replay.runner import ReplayRun
from abcsim.replay.safety import target_host
from abcsim.replay.setup import PreparedReplay
from abcsim.results.void import EXIT_VOID

WORKER_EXIT_S = 30.0
"""How long workers may take to quit after the master has."""


def replay_on_locust(
    prepared: PreparedReplay,
    out: str | Path,
    *,
    processes: int,
    env: Mapping[str, str],
    scenario: str | None = None,
) -> ReplayRun:
    """Replay ``prepared`` on a local Locust master and ``processes`` workers; see the module."""
    if importlib.util.find_spec("locust") is None:
        raise ReplayError("Locust is not installed: pip install 'abcsim[locust]'")
    out = Path(out)
    log_path = locust_log(out)
    began = time.perf_counter()
    port = _free_port()
    # the schedule's own scenario unless --scenario named one (never a stray ABC_SCENARIO)
    child_env = {k: v for k, v in env.items() if k != "ABC_SCENARIO"}
    child_env.update(replay_env(prepared, out), **({"ABC_SCENARIO": scenario} if scenario else {}))
    locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILES["replay"])]
    master_args = ["--master", "--headless", "--expect-workers", str(processes)]
    master_args += ["--master-bind-host", "127.0.0.1", "--master-bind-port", str(port)]
    master_args += ["--host", prepared.plan.target, "--only-summary"]
    worker_args = ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
    with log_path.open("w") as log:
        master = _start([*locust, *master_args], child_env, log)
        workers = [_start([*locust, *worker_args], child_env, log) for _ in range(processes)]
        stopped = _wait(master, workers)
    if master.returncode not in (0, 1, EXIT_VOID) or not out.exists():  # a verdict, any verdict
        tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
        raise ReplayError(
            f"the Locust master exited with status {master.returncode}; "
            f"see {log_path}" + (f" ({tail[-1].strip()})" if tail else "")
        )
    return ReplayRun(events=_rows(out), interrupted=stopped, wall_s=time.perf_counter() - began)


def locust_log(out: str | Path) -> Path:
    """Where the master's and workers' output goes: ``week.results.locust.log`` beside
    ``week.results.parquet``."""
    out = Path(out)
    return out.with_name(out.name.removesuffix(".parquet") + ".locust.log")


def replay_env(prepared: PreparedReplay, out: Path) -> dict[str, str]:
    """The ``ABC_*`` variables that carry a checked replay to Locust's processes."""
    plan = prepared.plan
    return {
        "ABC_SCHEDULE": str(plan.schedule),
        "ABC_WINDOW": f"{plan.window.start!r}..{plan.window.end!r}",
        "ABC_SPEED": repr(plan.speed),
        "ABC_SCALE": repr(plan.scale),
        "ABC_RESULTS": str(out),
        "ABC_TIMEOUT": repr(plan.timeout_s),
        "ABC_LATENESS": repr(plan.lateness_s),
        "ABC_MAX_CONCURRENT_REQUESTS": str(plan.max_in_flight),
        "ABC_MAX_RATE": repr(prepared.max_rate),
        "ABC_ALLOW_HOSTS": target_host(plan.target),  # allowed here already
        # as given: each process takes ${VAR} from its own environment
        "ABC_HEADERS": "\n".join(prepared.header_lines),
        "ABC_CA_FILE": plan.tls.ca_file or "",
        "ABC_CLIENT_CERT": plan.tls.client_cert or "",
        "ABC_CLIENT_KEY": plan.tls.client_key or "",
        "ABC_INSECURE": "true" if plan.tls.insecure else "",
        "ABC_ALLOW_ORDERS_WITHOUT_PERFORMANCE_MODE": "true" if prepared.orders_unguarded else "",
    }


def _start(command: list[str], env: Mapping[str, str], log: IO[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # a terminal's Ctrl-C reaches us; we stop the master
        preexec_fn=stoppable_child_hook(),
    )


def _wait(master: subprocess.Popen[bytes], workers: list[subprocess.Popen[bytes]]) -> bool:
    """Wait for the master; a Ctrl-C or SIGTERM here is passed to it as SIGINT. Returns
    whether the run was stopped. Workers that outlive the master are ended."""
    stopped = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopped
        stopped = True
        if master.poll() is None:
            master.send_signal(signal.SIGINT)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while master.poll() is None:
            time.sleep(0.1)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        deadline = time.monotonic() + WORKER_EXIT_S
        for worker in workers:
            try:
                worker.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    return stopped


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(path).metadata.num_rows)
