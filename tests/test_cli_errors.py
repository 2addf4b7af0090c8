"""Bad input through the real ``abcsim`` command: one line, exit status 2, nothing left behind.

Every case runs ``python -m abcsim`` in a subprocess (no mocks) inside a fresh
``tmp_path``. A bad scenario is ``scenarios/smoke.toml`` with one exact text
edit; each edit must match exactly once, so a drifting smoke file fails the test
rather than silently testing nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.helpers import REPO, error_line, run_cli

SMOKE = REPO / "scenarios" / "smoke.toml"
OUT = "out/schedule.parquet"  # relative to the subprocess's cwd (tmp_path)


# -- helpers --------------------------------------------------------------------


def left_behind(root: Path) -> list[str]:
    """Every file under ``root`` (hidden ones too) except the scenarios a test wrote."""
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] != "scenarios"
    )


def edited_smoke(edits: tuple[tuple[str, str], ...]) -> str:
    """smoke.toml with each ``(old, new)`` applied; ``old`` must occur exactly once."""
    text = SMOKE.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, f"smoke.toml no longer holds {old!r} exactly once"
        text = text.replace(old, new)
    assert text != SMOKE.read_text(encoding="utf-8")
    return text


def write_scenario(root: Path, name: str, text: str) -> str:
    """Write ``scenarios/NAME.toml`` under ``root``; returns the path relative to ``root``."""
    folder = root / "scenarios"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.toml").write_text(text, encoding="utf-8")
    return f"scenarios/{name}.toml"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A cwd with an empty ``out/`` folder for the schedule that must not appear."""
    (tmp_path / "out").mkdir()
    return tmp_path


# -- bad scenario files ------------------------------------------------------------


@dataclass(frozen=True)
class BadScenario:
    edits: tuple[tuple[str, str], ...]
    field: str  # the dotted field the error must name
    hint: str  # a fragment of the problem, usually the bad value itself


HFT_MIX = (
    "mix = { data_collection = 60, trade_execution = 25, risk_analysis = 10, health_check = 5 }"
)

BAD_SCENARIOS = {
    "endpoint-path-with-a-space": BadScenario(
        (('path = "/api/v1/agents/data-collection"', 'path = "/api/v1/agents/data collection"'),),
        "endpoints.data_collection.path",
        "no spaces",
    ),
    "endpoint-path-smuggling-a-header": BadScenario(
        (
            (
                'path = "/api/v1/agents/risk-analysis"',
                'path = "/api/v1/agents/risk\\r\\nX-Evil: 1"',
            ),
        ),
        "endpoints.risk_analysis.path",
        "control characters",
    ),
    "unknown-field": BadScenario(
        (("rate = 7.0 ", "rat = 10\nrate = 7.0 "),), "agents.hft.rat", "unknown field"
    ),
    "typo-leaves-required-field-missing": BadScenario(
        (("rate = 7.0 ", "rat = 10 "),), "agents.hft.rate", "required"
    ),
    "negative-rate": BadScenario((("rate = 7.0 ", "rate = -1 "),), "agents.hft.rate", "-1"),
    "mix-weights-all-zero": BadScenario(
        (
            (
                HFT_MIX,
                "mix = { data_collection = 0, trade_execution = 0, risk_analysis = 0, "
                "health_check = 0 }",
            ),
        ),
        "agents.hft.mix",
        "zero",
    ),
    "region-weights-all-zero": BadScenario(
        (("regions = { new_york = 1.0 }", "regions = { new_york = 0.0 }"),),
        "agents.hft.regions",
        "zero",
    ),
    "unknown-agent-type": BadScenario(
        (('kind = "hft"', 'kind = "robot"'),), "agents.hft.kind", "'robot'"
    ),
    "unknown-exchange-code": BadScenario(
        (('exchange = "XLON"', 'exchange = "XXXX"'),), "market.sessions[2].exchange", "'XXXX'"
    ),
    "session-closes-before-it-opens": BadScenario(
        (
            (
                'name = "london"\ntz = "Europe/London"\nopen = "07:00"\nclose = "17:00"',
                'name = "london"\ntz = "Europe/London"\nopen = "07:00"\nclose = "06:00"',
            ),
        ),
        "market.sessions[2].close",
        "06:00",
    ),
    "roll-ends-before-it-starts": BadScenario(
        (('start = "21:00"\nend = "22:00"', 'start = "21:00"\nend = "20:00"'),),
        "market.roll.end",
        "20:00",
    ),
    "roll-ends-when-it-starts": BadScenario(
        (('start = "21:00"\nend = "22:00"', 'start = "21:00"\nend = "21:00"'),),
        "market.roll.end",
        "21:00",
    ),
    "activity-sigmas-and-time-scales-differ": BadScenario(
        (("sigmas = [0.03, 0.05, 0.05, 0.04, 0.05, 0.04]", "sigmas = [0.09, 0.07]"),),
        "market.activity.sigmas",
        "one per time scale",
    ),
    "activity-negative-sigma": BadScenario(
        (("sigmas = [0.03, 0.05, 0.05, 0.04, 0.05, 0.04]", "sigmas = [0.09, -0.07, 0, 0, 0, 0]"),),
        "market.activity.sigmas[1]",
        "-0.07",
    ),
    "release-calendar-missing": BadScenario(
        (('calendar = "builtin"', 'calendar = "no_such_calendar.csv"'),),
        "market.releases.calendar",
        "no_such_calendar.csv",
    ),
    "release-kind-unknown": BadScenario(
        (('calendar = "builtin"', 'calendar = "builtin"\nkinds = ["payrolls", "gdp"]'),),
        "market.releases.kinds",
        "'gdp'",
    ),
    "holiday-factor-above-one": BadScenario(
        (("holiday_factor = 0.3      #", "holiday_factor = 1.5      #"),),
        "market.sessions[0].holiday_factor",
        "1.5",
    ),
    "branching-of-one": BadScenario(
        (("branching = 0.8 ", "branching = 1.0 "),), "agents.hft.branching", "0.95"
    ),
    "kernel-longest-below-shortest": BadScenario(
        (("longest_s = 300", "longest_s = 0.001"),), "agents.hft.kernel.longest_s", "shortest_s"
    ),
    "size-tail-missing-median": BadScenario(
        (("{ median = 2, tail = 1.8, max = 500, round = 0.3 }", "{ tail = 1.8, max = 500 }"),),
        "agents.hft.sizes.data_collection.median",
        "required",
    ),
    "size-max-below-median": BadScenario(
        (
            (
                "{ median = 2, tail = 1.8, max = 500, round = 0.3 }",
                "{ median = 20, tail = 1.8, max = 5 }",
            ),
        ),
        "agents.hft.sizes.data_collection.max",
        "median",
    ),
    "monitor-jitter-over-half-the-interval": BadScenario(
        (("jitter_s = 1.0", "jitter_s = 6.0"),), "agents.monitor.jitter_s", "half"
    ),
    "monitor-with-regions": BadScenario(
        (('kind = "monitor"', 'kind = "monitor"\nregions = { london = 1.0 }'),),
        "agents.monitor.regions",
        "unknown field",
    ),
    "old-hft-burst-share": BadScenario(
        (("shared = 0.3 ", "burst_share = 0.25\nshared = 0.3 "),),
        "agents.hft.burst_share",
        "branching, kernel and shared",
    ),
    "kernel-with-too-many-terms": BadScenario(
        (("terms = 8", "terms = 100000"),), "agents.hft.kernel.terms", "64"
    ),
    "size-above-the-int32-column": BadScenario(
        (("max = 500, round = 0.3", "max = 5000000000, round = 0.3"),),
        "agents.hft.sizes.data_collection.max",
        "2,147,483,647",
    ),
}


@pytest.mark.parametrize("case", BAD_SCENARIOS.values(), ids=BAD_SCENARIOS.keys())
def test_bad_scenario_is_one_line_naming_file_and_field(workdir: Path, case: BadScenario) -> None:
    scenario = write_scenario(workdir, "bad", edited_smoke(case.edits))
    line = error_line(
        run_cli("simulate", scenario, "--hours", "1", "--out", OUT, "-q", cwd=workdir)
    )
    assert line.startswith(f"error: {scenario}: {case.field}: "), line
    assert case.hint in line.removeprefix(f"error: {scenario}: {case.field}: "), line
    assert left_behind(workdir) == []


def test_missing_scenario_file(workdir: Path) -> None:
    result = run_cli("simulate", "scenarios/nope.toml", "--out", OUT, "-q", cwd=workdir)
    line = error_line(result)
    assert line.startswith("error: scenarios/nope.toml: "), line
    assert "no such file" in line
    assert left_behind(workdir) == []


def test_toml_syntax_error_names_file_and_line(workdir: Path) -> None:
    text = edited_smoke((("[agents.hft]\n", "[agents.hft\n"),))
    broken_line = text.splitlines().index("[agents.hft") + 1
    scenario = write_scenario(workdir, "broken", text)
    line = error_line(run_cli("simulate", scenario, "--out", OUT, "-q", cwd=workdir))
    assert line.startswith(f"error: {scenario}: "), line
    assert "TOML" in line
    assert f"line {broken_line}" in line
    assert left_behind(workdir) == []


def test_default_output_name_not_left_behind(workdir: Path) -> None:
    """Without ``--out`` the schedule would be ``smoke.parquet`` in the cwd: it must not appear."""
    scenario = write_scenario(workdir, "bad", edited_smoke((("rate = 7.0 ", "rate = -1 "),)))
    line = error_line(run_cli("simulate", scenario, "-q", cwd=workdir))
    assert line.startswith(f"error: {scenario}: agents.hft.rate: "), line
    assert left_behind(workdir) == []


# -- bad run settings ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [("ABC_SEED", "abc"), ("ABC_START", "next monday"), ("ABC_DAYS", "-1")],
    ids=["seed-not-a-number", "start-not-a-date", "days-negative"],
)
def test_bad_environment_variable_is_named(workdir: Path, name: str, value: str) -> None:
    result = run_cli("simulate", str(SMOKE), "--out", OUT, "-q", cwd=workdir, env={name: value})
    line = error_line(result)
    assert line.startswith(f"error: {name}: "), line
    assert left_behind(workdir) == []


def test_days_and_hours_together(workdir: Path) -> None:
    result = run_cli(
        "simulate", str(SMOKE), "--days", "1", "--hours", "2", "--out", OUT, "-q", cwd=workdir
    )
    line = error_line(result)
    assert "--days" in line and "--hours" in line, line
    assert left_behind(workdir) == []


def test_start_outside_exchange_calendar_range(workdir: Path) -> None:
    args = ("simulate", str(SMOKE), "--start", "1950-01-02T12:00", "--hours", "1", "--out", OUT)
    result = run_cli(*args, "-q", cwd=workdir)
    error_line(result)
    assert left_behind(workdir) == []


# -- inspect -------------------------------------------------------------------------------


def test_inspect_missing_file(tmp_path: Path) -> None:
    line = error_line(run_cli("inspect", "missing.parquet", cwd=tmp_path))
    assert line.startswith("error: missing.parquet: "), line
    assert "no such file" in line


def test_inspect_file_that_is_not_parquet(tmp_path: Path) -> None:
    (tmp_path / "notes.parquet").write_text("these are not the columns you are looking for\n")
    line = error_line(run_cli("inspect", "notes.parquet", cwd=tmp_path))
    assert line.startswith("error: notes.parquet: "), line
    assert "Parquet" in line


def test_inspect_parquet_that_is_not_a_schedule(tmp_path: Path) -> None:
    pq.write_table(pa.table({"a": [1, 2, 3]}), tmp_path / "other.parquet")
    line = error_line(run_cli("inspect", "other.parquet", cwd=tmp_path))
    assert line.startswith("error: other.parquet: "), line


# -- and the good path -----------------------------------------------------------------------


def test_simulate_smoke_hour_writes_only_the_schedule(tmp_path: Path) -> None:
    result = run_cli(
        "simulate", str(SMOKE), "--hours", "1", "--out", "x.parquet", "-q", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # -q: no summary
    assert left_behind(tmp_path) == ["x.parquet"]
    meta = pq.read_metadata(tmp_path / "x.parquet")
    assert meta.num_rows > 0
    assert meta.metadata[b"abcsim.scenario_name"] == b"smoke"
