"""The error hierarchy: every failure a user can cause is an :class:`AbcsimError`.

The CLI turns any of them into one line on stderr and exit status 2, so each
message names the file and the field at fault, e.g.
``scenarios/abc_week.toml: agents.hft.rate: must be >= 0, got -1``.

A message about a setting names it by its library name, as a :class:`Setting`,
never by how one front end takes it: ``prepare_replay(speed=0)`` fails with
``speed: must be a finite number > 0``, and each front end renders the same
error in its own terms with :meth:`AbcsimError.render` — ``abcsim replay``
says ``--speed: ...``, a Locust process ``ABC_SPEED: ...``. Settings read from
the environment are named by their variable (``ABC_SEED``) everywhere: the
library read the variable itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Spelling = Callable[[str], str]
"""How a front end spells a setting's library name: ``max_in_flight`` → ``--max-in-flight``."""


@dataclass(frozen=True)
class Setting:
    """A setting in an error message, by its name in the library's API (``max_in_flight``)."""

    name: str


def library_name(name: str) -> str:
    """The library's own spelling: the keyword argument's name."""
    return name


def _render(parts: tuple[str | Setting, ...], spell: Spelling) -> str:
    return "".join(spell(p.name) if isinstance(p, Setting) else p for p in parts)


class AbcsimError(Exception):
    """Base of all errors abcsim reports to its user (exit status 2).

    The message is text and :class:`Setting` parts, e.g.
    ``ReplayError(Setting("speed"), ": must be a finite number > 0")``;
    ``str()`` gives it with the library's names.
    """

    def __init__(self, *parts: str | Setting) -> None:
        self.parts: tuple[str | Setting, ...] = parts
        super().__init__(self.render())

    @property
    def settings(self) -> tuple[str, ...]:
        """The library names of the settings the message names, in order."""
        return tuple(p.name for p in self.parts if isinstance(p, Setting))

    def render(self, spell: Spelling = library_name) -> str:
        """The message with each setting spelled by ``spell``."""
        return _render(self.parts, spell)


class ScenarioError(AbcsimError):
    """A scenario file, an ``ABC_*`` variable or a setting holds a bad value.

    ``source`` is the file, the variable or the :class:`Setting`; ``problem`` the
    problem's text with the library's names.
    """

    def __init__(self, source: str | Setting, field: str, *problem: str | Setting) -> None:
        self.source = source
        self.field = field
        where: tuple[str | Setting, ...] = (source, f": {field}") if field else (source,)
        super().__init__(*where, ": ", *problem)
        self.problem = _render(problem, library_name)


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
