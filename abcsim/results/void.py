"""A void verdict: the generator, not the system, was the bottleneck.

An SLO verdict is a statement about the system under the scheduled load. If
the replayer itself fell behind — a starved CPU, too small an in-flight cap —
the system never saw that load: requests went out late, bunched up, or not
at all. Such a run proves nothing either way, and says so with its own exit
status (:data:`EXIT_VOID`, 3), apart from "met" (0), "breached" (1), bad input
(2) and stopped (130).

Two symptoms, from the results alone (:class:`~abcsim.results.digest.Digest`):

* **send lag** — the P99 of how late requests went out (wall time) above
  :data:`LAG_FLOOR_S` or the schedule's mean gap between requests, whichever
  is longer: later than that, a request is no longer where the schedule put it
  (at 250 requests/s, 100 ms late is 25 requests' worth of bunching);
* **drops by the generator's own limits** (lateness, the in-flight cap) above
  :data:`CLIENT_DROP_SHARE` of the requests: load that was never offered.

A plan has neither: a model sends every request on time.
"""

from __future__ import annotations

from abcsim.results.columns import ResultsMeta
from abcsim.results.digest import Digest

EXIT_VOID = 3
LAG_FLOOR_S = 0.1
LAG_FRACTION = 0.99
CLIENT_DROP_SHARE = 0.001


def void_reason(digest: Digest, meta: ResultsMeta) -> str | None:
    """Why a replay's verdict is void, or None when the load went out as scheduled."""
    if meta.source != "replay" or not digest.rows:
        return None
    wall_s = (meta.window[1] - meta.window[0]) / meta.speed
    limit = max(LAG_FLOOR_S, wall_s / digest.rows)
    reasons = []
    lag = digest.lag_percentile(LAG_FRACTION)
    if lag > limit:
        reasons.append(f"send lag P99 {1000 * lag:,.0f} ms > {1000 * limit:,.0f} ms")
    share = digest.client_drops / digest.rows
    if share > CLIENT_DROP_SHARE:
        reasons.append(
            f"{digest.client_drops:,} requests ({100 * share:.2f}%) never sent: the "
            "generator's own lateness or in-flight limit"
        )
    return "; ".join(reasons) or None
