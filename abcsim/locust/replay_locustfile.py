"""abcsim's replay locustfile: open-loop replay of a schedule on Locust's master and workers.

    ABC_SCHEDULE=week.parquet ABC_WINDOW='Tue 13:00..Tue 14:00' ABC_SPEED=60 \\
        locust -f "$(abcsim locustfile replay)" --master --headless --expect-workers 2 \\
        --host http://127.0.0.1:8080
    ABC_SCHEDULE=week.parquet locust -f "$(abcsim locustfile replay)" --worker \\
        --master-host 10.0.0.5          # on each load machine, as many as it has cores

Each worker replays its shard of the schedule (the file must be on every
machine, at ``ABC_SCHEDULE``); the master writes one abcsim results file
(``ABC_RESULTS``). See :mod:`abcsim.locust.master` and :mod:`abcsim.locust.worker`.
"""

from __future__ import annotations

from abcsim.locust.master import ReplayShape
from abcsim.locust.worker import ReplayUser

__all__ = ["ReplayShape", "ReplayUser"]
