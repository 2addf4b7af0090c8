"""Running the reference target: from the command line, in a test's thread, or in a loop.

``abcsim target --port 0`` serves the ABC API on a free loopback port and
prints its URL until Ctrl-C or SIGTERM. Tests and notebooks start one in the
background instead::

    with serve_in_thread("abc_week", workers=4) as target:
        replay(schedule, target.url)       # the target stops when the block ends

and asyncio code can ``async with start_target(scenario) as target:`` in its
own loop. Each target has its own registry, pool and faults, so several can run
in one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import queue
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from abcsim import eventloop
from abcsim.errors import TargetError
from abcsim.scenario.load import load_scenario
from abcsim.scenario.spec import Scenario
from abcsim.target.app import TargetState, build_app
from abcsim.target.http import BACKLOG, HttpServer
from abcsim.target.settings import TargetSettings, resolve_target


@dataclass(frozen=True)
class RunningTarget:
    """A target that is serving: where, what and how."""

    url: str  # e.g. http://127.0.0.1:41234
    host: str
    port: int
    scenario: Scenario
    settings: TargetSettings
    state: TargetState

    def endpoint(self, request: str) -> tuple[str, str]:
        """``(method, full URL)`` of a request type, e.g. ``("POST", ".../risk-analysis")``."""
        found = dict(self.scenario.endpoints)[request]
        return found.method, self.url + found.path

    def describe(self) -> str:
        return f"abcsim target: {self.scenario.name} on {self.url}; {self.settings.describe()}"


def _bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves, so 'port in use' is one clear error."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET  # "::1", IPv6 loopback
        return socket.create_server((host, port), family=family, backlog=BACKLOG)
    except OSError as exc:
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            raise TargetError(f"cannot serve on {where}: address already in use") from None
        raise TargetError(f"cannot serve on {where}: {exc.strerror or exc}") from None


@contextlib.asynccontextmanager
async def start_target(
    scenario: Scenario,
    settings: TargetSettings | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    grace_s: float = 2.0,
) -> AsyncIterator[RunningTarget]:
    """Serve ``scenario`` in the running loop until the block ends.

    ``settings`` defaults to the scenario's ``[system]`` with no faults; ``port=0``
    picks a free port. On exit, requests still in service get ``grace_s`` to finish.
    """
    settings = settings or resolve_target(scenario, {})
    sock = _bind(host, port)
    try:
        app = build_app(scenario, settings, started=time.monotonic())
    except BaseException:
        sock.close()
        raise
    server = HttpServer(app.router)
    try:
        await server.start(sock)
        state = app.state
        state.faults.started = time.monotonic()  # stall windows count from when it listens
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        yield RunningTarget(f"http://{shown}:{bound}", host, bound, scenario, settings, state)
    finally:
        await server.close(grace_s)
        sock.close()


@contextlib.contextmanager
def serve_in_thread(
    scenario: Scenario | str = "abc_week",
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    workers: int | None = None,
    queue_limit: int | None = None,
    faults: Sequence[str] = (),
    seed: int | None = None,
    env: Mapping[str, str] | None = None,
    grace_s: float = 1.0,
) -> Iterator[RunningTarget]:
    """Serve in a background thread (its own event loop) for the ``with`` block.

    Settings resolve as on the command line, from ``env`` (default: none) and
    the keyword flags. Start-up errors (a port in use) are raised here.
    """
    spec = load_scenario(scenario) if isinstance(scenario, str) else scenario
    settings = resolve_target(
        spec, env or {}, workers=workers, queue_limit=queue_limit, faults=faults, seed=seed
    )
    # The thread hands back its target, loop and stop event — or None if it failed to start.
    started: queue.Queue[tuple[RunningTarget, asyncio.AbstractEventLoop, asyncio.Event] | None]
    started = queue.Queue()
    failed: list[BaseException] = []

    async def main() -> None:
        stop = asyncio.Event()
        async with start_target(spec, settings, host=host, port=port, grace_s=grace_s) as target:
            started.put((target, asyncio.get_running_loop(), stop))
            await stop.wait()

    def run() -> None:
        try:
            eventloop.run(main())
        except BaseException as exc:  # handed to the caller's thread
            failed.append(exc)
        finally:
            started.put(None)  # wakes the caller if main failed before serving

    thread = threading.Thread(target=run, name=f"abcsim-target-{spec.name}", daemon=True)
    thread.start()
    item = started.get()
    if item is None:
        thread.join()
        raise failed[0]
    target, loop, stop = item
    try:
        yield target
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join()
        if failed:
            raise failed[0]


def run_target(
    scenario: Scenario,
    env: Mapping[str, str],
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    workers: int | None = None,
    queue_limit: int | None = None,
    faults: Sequence[str] = (),
    on_ready: Callable[[RunningTarget], None] = lambda target: None,
) -> None:
    """Serve until SIGINT (Ctrl-C) or SIGTERM, then stop cleanly (``abcsim target``)."""
    settings = resolve_target(
        scenario, env, workers=workers, queue_limit=queue_limit, faults=faults
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C still interrupts
                loop.add_signal_handler(signum, stop.set)
        async with start_target(scenario, settings, host=host, port=port, grace_s=5.0) as target:
            on_ready(target)
            await stop.wait()

    eventloop.run(main())
