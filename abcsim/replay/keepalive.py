"""How long an idle keep-alive connection may be reused: learned from the server.

Servers close keep-alive connections left idle — gunicorn after 2 s, uvicorn
and Node after 5 s, nginx after 75 s — and most do not say when. A request
written onto a connection at the moment its server closes it is lost (reset,
or closed unanswered): a burst after a 2.5 s lull against gunicorn lost 4-6%
of its requests so, measured. Resending is safe only for idempotent requests;
a new order must not be placed twice. So the replayer *avoids* the moment:
an idle connection is reused only while it is younger than half the shortest
idle time at which this server has been seen to close one.

Until the server has closed one, the limit is 1 s (below every common
default). Connections idle past the limit are not used but kept open,
resting, so the server's own closing of them teaches the limit — the nginx
default shows itself after 75 s and the limit becomes 37.5 s — and one a
server keeps for 120 s is closed by the replayer, which then knows the server
keeps connections at least that long (limit 60 s). A ``Keep-Alive:
timeout=N`` header teaches it at once.
"""

from __future__ import annotations

import math
import re

FIRST_LIMIT_S = 1.0
"""The limit before this server has closed (or been seen to keep) an idle connection."""

SAFETY = 0.5
"""The limit as a share of the shortest idle time the server closed a connection at."""

KEEP_AT_MOST_S = 120.0
"""A connection resting this long is closed by the replayer, and teaches the limit."""

_TIMEOUT = re.compile(rb"timeout\s*=\s*(\d+)")


class IdleLimit:
    """What one client has learned of its server's idle timeout (see the module doc)."""

    def __init__(self) -> None:
        self.closed_s = math.inf  # the shortest idle time the server closed a connection at
        self.kept_s = 0.0  # the longest idle time it kept one through (the replayer closed it)

    @property
    def limit_s(self) -> float:
        """Reuse a connection idle for less than this."""
        if self.closed_s < math.inf:
            return SAFETY * self.closed_s
        return max(FIRST_LIMIT_S, SAFETY * self.kept_s)

    def server_closed(self, idle_s: float) -> None:
        self.closed_s = min(self.closed_s, idle_s)

    def server_kept(self, idle_s: float) -> None:
        self.kept_s = max(self.kept_s, idle_s)

    def server_says(self, keep_alive: bytes) -> None:
        """A ``Keep-Alive`` header's value: ``timeout=5, max=100``."""
        found = _TIMEOUT.search(keep_alive)
        if found:
            self.server_closed(float(found.group(1)))
