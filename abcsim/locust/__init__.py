"""abcsim on Locust: the ABC team's suite, driven by the scenario, and replay on Locust workers.

Three things, each a locustfile away:

* **the suite** (:mod:`~abcsim.locust.suite`): ``TradingSystemUser``,
  ``HighFrequencyUser`` and ``BatchProcessingUser`` whose tasks, weights,
  wait times, endpoints and payloads come from the scenario that abcsim's
  agent models run (``ABC_SCENARIO``, abc_week by default);
* **the week inside Locust** (:mod:`~abcsim.locust.shape`): with
  ``ABC_SCHEDULE`` set, a load shape makes each class's user count follow the
  agents of its type active in the schedule, minute by minute;
* **open-loop replay on Locust's master and workers**
  (:mod:`~abcsim.locust.worker`, :mod:`~abcsim.locust.master`): each worker
  replays its shard of a schedule at the scheduled times; the master writes
  one abcsim results file.

Only the modules named above import Locust (and so gevent, which patches the
standard library): abcsim's own commands never import them. Install with
``pip install 'abcsim[locust]'``. :mod:`~abcsim.locust.settings`,
:mod:`~abcsim.locust.profiles`, :mod:`~abcsim.locust.active` and
:mod:`~abcsim.locust.launch` are plain Python.
"""

from __future__ import annotations

from pathlib import Path

LOCUSTFILES = {"replay": Path(__file__).with_name("replay_locustfile.py")}
"""Locustfiles shipped inside the package (the suite's own lives in tests/performance/)."""
