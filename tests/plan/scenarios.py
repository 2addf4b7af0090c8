"""Scenario files for plan tests: smoke with its ``[system]`` section replaced."""

from __future__ import annotations

from pathlib import Path

from abcsim.scenario import load_scenario
from abcsim.scenario.spec import DEFAULT_SERVICE

SYSTEM_HEADER = "\n[system]\n"


def scenario_file(path: Path, system: str) -> Path:
    """smoke with its ``[system]`` section (the end of the file) replaced by ``system``."""
    text = load_scenario("smoke").text
    path.write_text(text[: text.index(SYSTEM_HEADER) + 1] + system)
    return path


def fixed_system(ms: float, workers: int, queue_limit: int = 100) -> str:
    """A ``[system]`` where every request type takes exactly ``ms`` (as ``fixed_scenario``)."""
    services = "\n".join(
        f"{request} = {{ median_ms = {ms}, p95_ms = {ms} }}" for request, _ in DEFAULT_SERVICE
    )
    head = f"[system]\nworkers = {workers}\nqueue_limit = {queue_limit}\n"
    return f"{head}[system.service]\n{services}\n"
