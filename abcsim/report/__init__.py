"""The last stage of the flow: what a results file says, printed and gated.

Replay and plan write results files of one schema; :func:`report` reads one
back (or takes its frame) and gives Locust's console summary, the same by
agent type, Locust's CSVs if asked, the SLO breaches and the exit status
(0 every target holds, 1 one is breached). ``abcsim report RESULTS`` runs it on a
file that already exists: a replay on Locust's master, yesterday's CI run;
``--against OTHER`` sets two runs side by side (:mod:`~abcsim.report.compare`).
"""

from __future__ import annotations

from abcsim.report.compare import Difference, compare, comparison_lines
from abcsim.report.summary import Report, report

__all__ = ["Difference", "Report", "compare", "comparison_lines", "report"]
