"""The suite's users as the scenario describes them; the ``ABC_*`` variables; active agents.

Plain Python: nothing here imports Locust (whose gevent would patch pytest's process).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from abcsim.cli import flag
from abcsim.errors import ReplayError, ScenarioError, Setting
from abcsim.locust.active import active_agents
from abcsim.locust.profiles import Jobs, Think, Throughput, suite_profiles
from abcsim.locust.settings import in_locust_terms, locust_settings
from abcsim.replay.safety import check_orders, check_rate, performance_mode
from abcsim.scenario import load_scenario, resolve_run
from abcsim.schedule.parquet import read_meta, read_schedule
from abcsim.schedule.slicing import Window
from abcsim.simulate import write_schedule
from tests.helpers import error_line, run_cli, uniform_schedule, variant


def test_the_suites_users_come_from_the_scenario() -> None:
    scenario = load_scenario("abc_week")
    profiles = suite_profiles(scenario)
    agents = {a.kind: a for a in scenario.agents}
    assert set(profiles) == {"TradingSystemUser", "HighFrequencyUser", "BatchProcessingUser"}
    trading, hft = profiles["TradingSystemUser"], profiles["HighFrequencyUser"]
    assert trading.task_weights == agents["trading"].mix  # data 30, strategy 20, ... health 20
    assert [p.weight for p in profiles.values()] == [100, 20, 10]  # the agents' counts
    # at its desk, where λ averages 1-2, the algorithm of rate 7 at λ = 1 sends about 10/s
    assert isinstance(hft.pace, Throughput) and 9.0 < hft.pace.per_s < 11.0
    assert isinstance(trading.pace, Think)
    desk = agents["trading"].behaviour.think_mean_s / trading.pace.mean_s  # type: ignore[union-attr]
    assert 1.0 < desk < 2.0
    assert isinstance(profiles["BatchProcessingUser"].pace, Jobs)


def test_a_different_mix_or_count_in_the_scenario_changes_the_users() -> None:
    scenario = variant("abc_week", {"trading": {"count": 7, "mix": (1.0, 0, 0, 0, 0, 3.0)}})
    trading = suite_profiles(scenario)["TradingSystemUser"]
    assert trading.weight == 7
    assert trading.task_weights == (1.0, 0.0, 0.0, 0.0, 0.0, 3.0)


def test_a_scenario_without_a_kind_has_no_class_for_it() -> None:
    assert set(suite_profiles(load_scenario("hft_stress"))) == {"HighFrequencyUser"}


def test_a_batch_job_sends_its_items_in_rate_limited_chunks() -> None:
    jobs = Jobs(items_median=20_000, items_sigma=0.8, items_per_request=1000, request_rate=2.0,
                pause_max_s=120.0)  # fmt: skip
    rng = np.random.default_rng(7)
    for _ in range(50):
        sizes = list(jobs.requests(rng))
        assert all(0 < s <= 1000 for s in sizes) and sizes[:-1] == [1000] * (len(sizes) - 1)


def test_the_suites_variables_are_read_and_checked() -> None:
    settings = locust_settings(
        {"ABC_MEMORY_LIMIT": "2G", "ABC_MAX_CONCURRENT_REQUESTS": "100", "ABC_SPEED": "60",
         "ABC_SCHEDULE": "w/week.parquet", "ABC_ALLOW_HOSTS": "a.internal, b.internal"}
    )  # fmt: skip
    assert settings.memory_limit_bytes == 2 * 2**30 and settings.max_concurrent == 100
    assert settings.speed == 60.0 and settings.scenario == "abc_week"
    assert settings.results_path == "w/week.results.parquet"
    assert settings.allow_hosts == ("a.internal", "b.internal")
    for name, bad in (("ABC_SPEED", "0"), ("ABC_TIMEOUT", "soon"), ("ABC_MEMORY_LIMIT", "lots")):
        with pytest.raises(ScenarioError, match=name):
            locust_settings({name: bad})


def test_orders_go_only_to_loopback_or_a_system_in_performance_mode() -> None:
    orders = ("data_collection", "trade_execution")
    check_orders("http://127.0.0.1:8080", orders, {})
    check_orders("https://staging.abc.internal", ("health_check",), {})
    check_orders("https://staging.abc.internal", orders, {"ABC_PERFORMANCE_MODE": "true"})
    with pytest.raises(ReplayError, match=r"ABC_PERFORMANCE_MODE.*trade_execution"):
        check_orders("https://staging.abc.internal", orders, {"ABC_PERFORMANCE_MODE": "false"})
    with pytest.raises(ScenarioError, match=r"^ABC_PERFORMANCE_MODE: must be true or false"):
        performance_mode({"ABC_PERFORMANCE_MODE": "maybe"})
    assert not performance_mode({"ABC_PERFORMANCE_MODE": " "})


def test_replay_refuses_orders_to_a_system_not_in_performance_mode(tmp_path: Path) -> None:
    schedule = uniform_schedule(tmp_path / "s.parquet", rate=10, seconds=1)
    args = ("replay", str(schedule), "-t", "http://10.255.0.1:9", "--allow-host", "10.255.0.1")
    line = error_line(run_cli(*args, cwd=tmp_path))
    assert "ABC_PERFORMANCE_MODE" in line and "trade_execution" in line
    assert not (tmp_path / "s.results.parquet").exists()


def test_active_agents_are_the_distinct_senders_of_each_minute(tmp_path: Path) -> None:
    scenario = load_scenario("smoke")
    run = resolve_run(replace(scenario, days=0.05), {})
    path = tmp_path / "smoke.parquet"
    write_schedule(scenario, run, path)
    meta = read_meta(path)
    window = Window(600.0, 3000.0)
    active = active_agents(path, window, meta.agent_types)
    frame = read_schedule(path)
    inside = frame[(frame.t >= window.start) & (frame.t < window.end)]
    minute = ((inside.t - window.start) // 60).astype(int)
    truth = (
        inside.assign(minute=minute)
        .groupby(["minute", "agent_type"], observed=False)
        .agent_id.nunique()
        .unstack(fill_value=0)
        .reindex(index=range(40), columns=list(meta.agent_types), fill_value=0)
    )
    assert np.array_equal(active.counts, truth.to_numpy())
    assert active.at(41 * 60.0) is None and active.at(0.0) == dict(truth.iloc[0])


def test_abcsim_locustfile_names_the_replay_locustfile(tmp_path: Path) -> None:
    result = run_cli("locustfile", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path.name == "replay_locustfile.py" and "ReplayUser" in path.read_text()


def test_replay_checks_name_the_variables_a_locust_user_sets() -> None:
    with pytest.raises(ReplayError) as caught:
        check_rate(360.0, 100.0, speed=360.0, scale=1.0)
    assert caught.value.settings == ("speed", "scale", "max_rate")
    assert in_locust_terms(caught.value) == (
        "ABC_SPEED 360 ABC_SCALE 1: the busiest second would send 360 requests, "
        "over the ceiling of 100/s (raise ABC_MAX_RATE if that is really meant)"
    )
    assert caught.value.render(flag).startswith("--speed 360 --scale 1: ")
    exc = ReplayError(Setting("max_in_flight"), ": must be >= 1, got 0")
    assert in_locust_terms(exc) == "ABC_MAX_CONCURRENT_REQUESTS: must be >= 1, got 0"
    assert in_locust_terms(ReplayError(Setting("target"), ": bad port")) == "--host: bad port"
