"""Child processes that die with their parent, however the parent dies.

A replay that is ``kill -9``'d (the OOM killer, a CI job's hard timeout) must
not leave its sending processes behind: they would go on sending the rest of
the window to staging with no one recording it. On Linux the kernel can send
a child a signal when its parent dies (``prctl(PR_SET_PDEATHSIG)``), armed by
the parent for a child it starts with :mod:`subprocess`
(:func:`die_with_parent_hook`; elsewhere it does nothing). It fires again as
each of a dying parent's threads exits, so it suits a child that dies of the
signal (a Locust process), not one that must clean up after it: the replay's
own worker processes watch their parent's sentinel pipe instead
(:mod:`abcsim.replay.shards`).
"""

from __future__ import annotations

import ctypes
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def die_with_parent_hook(signum: int = signal.SIGTERM) -> Callable[[], None] | None:
    """A ``preexec_fn`` for :class:`subprocess.Popen`: the child gets ``signum`` when we die."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def arm() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signum)

    return arm


def stoppable_child_hook() -> Callable[[], None]:
    """A ``preexec_fn`` for a child stopped with SIGINT (a Locust process: its clean stop).

    SIGINT goes back to its default in the child: a parent started in the background
    has it ignored, and an ignored signal stays ignored across ``exec`` — the child could
    then never be stopped cleanly. On Linux the child also dies with its parent.
    """
    arm = die_with_parent_hook()

    def hook() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if arm is not None:
            arm()

    return hook
