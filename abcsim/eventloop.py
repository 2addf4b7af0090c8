"""The event loop the reference target runs on: uvloop where it is installed, else asyncio's.

The target spends much of its CPU in the event loop and its socket
transports; uvloop (libuv underneath) does that work in C, about 10 µs less
per request, so a load generator on the same machine meets the target's
ceiling later. It is a dependency wherever it builds (not on Windows);
elsewhere, or with ``ABC_EVENT_LOOP=asyncio``, the standard loop runs the
same code unchanged. uvloop's timers count whole milliseconds, as asyncio's
effectively do (epoll waits in ms), so service times keep their ms fidelity;
code that *measures* reads ``time.monotonic()``, not the cached ``loop.time()``.

The replayer keeps asyncio's loop: see :func:`abcsim.replay.runner.replay`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """A constructor for the best event loop available here."""
    if os.environ.get("ABC_EVENT_LOOP", "").lower() != "asyncio":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop
    return asyncio.new_event_loop


def loop_name() -> str:
    """``uvloop`` or ``asyncio``: which loop :func:`run` uses."""
    return "asyncio" if loop_factory() is asyncio.new_event_loop else "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` to completion in a new loop from :func:`loop_factory` (like ``asyncio.run``)."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)
