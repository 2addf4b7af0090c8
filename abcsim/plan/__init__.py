"""Capacity planning without a live system: the schedule fed to a queueing model of the API.

``abcsim plan`` predicts what a replay would measure — a results file of the
same schema with ``source = plan`` — from the schedule and the scenario's
``[system]`` section alone:

* :mod:`~abcsim.plan.workload` draws each request's service time, as the
  reference target does;
* :mod:`~abcsim.plan.fcfs` decides every request with the exact FCFS
  multi-server recursion (the fast path), :mod:`~abcsim.plan.reference` with
  a plain SimPy model (the check);
* :mod:`~abcsim.plan.predict` turns decisions into results rows,
  :mod:`~abcsim.plan.figures` into utilisation, queue and CPU figures;
  :mod:`~abcsim.plan.setup` checks a plan's choices and
  :mod:`~abcsim.plan.session` runs it to a results file;
* :mod:`~abcsim.plan.capacity` finds the smallest system meeting every SLO in
  the busiest hour, :mod:`~abcsim.plan.sweep` tries a range;
* :mod:`~abcsim.plan.analytic` holds the closed forms (Erlang C, M/M/c,
  Pollaczek–Khinchine, Allen–Cunneen, Little) the model is tested against;
* :mod:`~abcsim.plan.calibrate` fits the service times from a light replay.

From Python, what ``abcsim plan week.parquet -w 'Tue 00:00..Wed 00:00'`` does::

    prepared = prepare_plan("week.parquet", window="Tue 00:00..Wed 00:00")
    run = run_plan(prepared, "tuesday.plan.parquet")
    summary = abcsim.report.report(run.results, prepared.scenario, planned=run)
    print("\\n".join(summary.lines))
"""

from __future__ import annotations

from abcsim.plan.calibrate import Calibration, calibrate, calibrate_file, system_toml
from abcsim.plan.capacity import Capacity, find_capacity, plan_capacity
from abcsim.plan.engine import Decided, decide
from abcsim.plan.fcfs import FcfsModel, Served
from abcsim.plan.reference import ReferenceModel
from abcsim.plan.session import PlanRun, run_plan
from abcsim.plan.setup import PreparedPlan, prepare_plan
from abcsim.plan.sweep import Sweep, SweepSpec, parse_sweep, plan_sweep
from abcsim.plan.trial import BusyWindow, Trial, busiest_window, run_trial
from abcsim.plan.workload import ServiceDraws, Workload, workload_from_arrays

__all__ = [
    "BusyWindow",
    "Calibration",
    "Capacity",
    "Decided",
    "FcfsModel",
    "PlanRun",
    "PreparedPlan",
    "ReferenceModel",
    "Served",
    "ServiceDraws",
    "Sweep",
    "SweepSpec",
    "Trial",
    "Workload",
    "busiest_window",
    "calibrate",
    "calibrate_file",
    "decide",
    "find_capacity",
    "parse_sweep",
    "plan_capacity",
    "plan_sweep",
    "prepare_plan",
    "run_plan",
    "run_trial",
    "system_toml",
    "workload_from_arrays",
]
