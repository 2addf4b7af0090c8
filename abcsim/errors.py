"""The error hierarchy: every failure a user can cause is an :class:`AbcsimError`.

The CLI turns any of them into one line on stderr and exit status 2, so each
message names the file and the field at fault, e.g.
``scenarios/abc_week.toml: agents.hft.rate: must be >= 0, got -1``.
"""

from __future__ import annotations


class AbcsimError(Exception):
    """Base of all errors abcsim reports to its user (exit status 2)."""


class ScenarioError(AbcsimError):
    """A scenario file, an ``ABC_*`` variable or a flag holds a bad value."""

    def __init__(self, source: str, field: str, problem: str) -> None:
        self.source = source
        self.field = field
        self.problem = problem
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {problem}")


class ScheduleError(AbcsimError):
    """A schedule file cannot be read, or is not a schedule."""


class TargetError(AbcsimError):
    """The reference target cannot start: a port in use, an unknown fault, a bad setting."""


class ResultsError(AbcsimError):
    """A results file cannot be read, or is not a results file."""


class ReplayError(AbcsimError):
    """A replay cannot start: a refused target, a bad window, a rate over the ceiling."""


class PlanError(AbcsimError):
    """A plan cannot run: a bad size, sweep or window, or a calibration without enough data."""
