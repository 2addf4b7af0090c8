"""The stylized facts of traffic: does a schedule behave like a market?

``abcsim inspect --facts`` and the realism tests measure the same things with
the same functions: the week's shape (:mod:`~abcsim.facts.shape`), memory in
flat hours (:mod:`~abcsim.facts.memory`), releases and holidays
(:mod:`~abcsim.facts.events`), self-excitation of high-frequency users
(:mod:`~abcsim.facts.hawkes`), on schedules or on production counts
(:mod:`~abcsim.facts.counts`).
"""

from __future__ import annotations

from abcsim.facts.counts import Counts, read_counts_csv, schedule_counts
from abcsim.facts.measure import Facts, compare, measure_facts, source_facts

__all__ = [
    "Counts",
    "Facts",
    "compare",
    "measure_facts",
    "read_counts_csv",
    "schedule_counts",
    "source_facts",
]
