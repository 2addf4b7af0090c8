"""Small builders for test scenarios: variants of the built-in ones, run to arrays."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from abcsim.scenario import AgentType, Scenario, load_scenario, resolve_run
from abcsim.scenario.spec import NO_ACTIVITY
from abcsim.schedule import synthetic
from abcsim.simulate import simulate
from abcsim.target import RunningTarget


def variant(base: str, agents: dict[str, dict[str, Any]]) -> Scenario:
    """``base`` keeping only the agent types named, each with fields (and behaviour) changed."""
    scenario = load_scenario(base)
    kept: list[AgentType] = []
    for name, changes in agents.items():
        spec = scenario.agent_type(name)
        behaviour = changes.pop("behaviour", {})
        kept.append(replace(spec, behaviour=replace(spec.behaviour, **behaviour), **changes))
    return replace(scenario, agents=tuple(kept))


def clock_only(scenario: Scenario) -> Scenario:
    """``scenario`` with the market's activity switched off: λ(t) of the clock alone."""
    return replace(scenario, market=replace(scenario.market, activity=NO_ACTIVITY))


def run_arrays(
    scenario: Scenario, *, start: str, hours: float, seed: int = 1, chunk_s: float = 3600.0
) -> dict[str, npt.NDArray[Any]]:
    """Simulate and concatenate every column of the schedule."""
    run = resolve_run(scenario, {}, seed=seed, start=start, hours=hours)
    chunks = list(simulate(scenario, run, chunk_s))
    names = ("event_id", "t", "agent_id", "agent_type", "request", "size")
    return {n: np.concatenate([getattr(c, n) for c in chunks]) for n in names}


def week_counts(seed: int) -> npt.NDArray[np.int64]:
    """Requests per second of abc_week's default week with ``seed`` (for a process pool)."""
    scenario = load_scenario("abc_week")
    run = resolve_run(scenario, {}, seed=seed)
    per_second = np.zeros(int(np.ceil(run.duration_s)), dtype=np.int64)
    for chunk in simulate(scenario, run):
        if len(chunk):
            first = int(chunk.t[0])
            counts = np.bincount(chunk.t.astype(np.int64) - first)
            per_second[first : first + counts.size] += counts
    return per_second


def uniform_schedule(
    path: Path, *, rate: float, seconds: float, request: str = "data_collection", agents: int = 4
) -> Path:
    """A schedule of ``rate`` evenly spaced requests/s for ``seconds``, smoke's scenario inside."""
    return synthetic.uniform_schedule(
        path, load_scenario("smoke"), rate=rate, seconds=seconds, request=request, agents=agents
    )


REPO = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m abcsim ARGS`` in ``cwd``, with no ``ABC_*`` inherited from the caller."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ABC_")}
    # Import abcsim from this checkout whatever the venv's editable install points at.
    environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), environ.get("PYTHONPATH", "")) if p
    )
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "abcsim", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single ``error: ...`` line of a failed run (asserting status 2 and no traceback)."""
    report = f"status {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert result.returncode == 2, report
    assert "Traceback" not in result.stderr, report
    lines = result.stderr.splitlines()
    assert len(lines) == 1, report
    assert lines[0].strip(), report
    assert lines[0].startswith("error: "), report
    return lines[0]


def requests_received(target: RunningTarget) -> float:
    """Requests a reference target has received so far, every type (its Prometheus counter)."""
    registry = target.state.metrics.registry
    return sum(
        sample.value
        for metric in registry.collect()
        if metric.name == "abc_target_requests"
        for sample in metric.samples
        if sample.name == "abc_target_requests_total"
    )
