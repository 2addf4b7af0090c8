"""The ABC trading system's Locust performance suite, driven by abcsim's scenario.

    locust -f tests/performance/locustfile.py --host http://127.0.0.1:8080
    locust -f tests/performance/locustfile.py --headless -u 100 -r 10 --run-time 5m

The users' tasks, weights, wait times, endpoints and payloads come from the
scenario in ``ABC_SCENARIO`` (abc_week by default): see ``abcsim.locust.suite``.
With ``ABC_SCHEDULE=week.parquet`` (and ``ABC_WINDOW``, ``ABC_SPEED``) the users
of each class follow the agents active in that simulated week, minute by minute.
"""

from __future__ import annotations

import os

from abcsim.locust.suite import BatchProcessingUser, HighFrequencyUser, TradingSystemUser

__all__ = ["BatchProcessingUser", "HighFrequencyUser", "TradingSystemUser"]

if os.environ.get("ABC_SCHEDULE"):
    from abcsim.locust.shape import WeekShape

    __all__ += ["WeekShape"]
