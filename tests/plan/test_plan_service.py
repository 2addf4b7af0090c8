"""The shared service-time model: vectorised = one at a time = the target's draws; gamma times."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy import stats  # type: ignore[import-untyped]

from abcsim import ScenarioError, load_scenario, parse_scenario
from abcsim.plan.workload import ServiceDraws
from abcsim.scenario.gamma import gamma_parameters, regularized_lower
from abcsim.scenario.load import load_system
from abcsim.scenario.service import draw_ms, sample_ms, service_seed
from abcsim.scenario.spec import REQUEST_TYPES, ServiceTime
from abcsim.schedule.slicing import EventBlock
from abcsim.target.service import ServiceModel


@pytest.mark.parametrize(
    "service",
    [
        ServiceTime(40.0, 120.0, 0.02),
        ServiceTime(100.0, 100.0, 0.5),
        ServiceTime(300.0, 700.0, 0.5, "gamma"),
        ServiceTime(5.0, 500.0, 0.0, "gamma"),
    ],
)
def test_vectorised_draws_are_the_one_at_a_time_draws(service: ServiceTime) -> None:
    sizes = np.arange(1, 2001) % 37 + 1
    one = np.random.default_rng(11)
    many = np.random.default_rng(11)
    singles = [draw_ms(service, int(size), one) for size in sizes]
    np.testing.assert_array_equal(sample_ms(service, sizes, many), singles)


def test_the_plan_draws_each_request_the_time_the_target_drew() -> None:
    """Seed 7, 3,000 requests of every type in schedule order: identical stage times."""
    system = load_scenario("abc_week").system
    rng = np.random.default_rng(0)
    n = 3_000
    codes = rng.integers(0, len(REQUEST_TYPES), n).astype(np.int8)
    sizes = rng.integers(1, 1_000, n).astype(np.int32)
    block = EventBlock(
        np.arange(n, dtype=np.int64),
        np.arange(n, dtype=np.float64),
        np.zeros(n, np.int32),
        np.zeros(n, np.int8),
        codes,
        sizes,
    )
    work = ServiceDraws(system, seed=7).workload(block)
    target = ServiceModel(system, service_seed(7))
    later = iter(work.later.tolist())
    for i in range(n):
        stages = [s.seconds for s in target.stages(REQUEST_TYPES[codes[i]], int(sizes[i]))]
        expected = [work.first[i], *(next(later) if work.workflow[i] else [])]
        assert stages == pytest.approx(expected, rel=1e-15), i


def test_gamma_by_median_and_p95_matches_scipy() -> None:
    for median, p95 in ((40.0, 120.0), (300.0, 700.0), (10.0, 11.0), (5.0, 500.0)):
        shape, scale = gamma_parameters(median, p95)
        assert stats.gamma.ppf(0.5, shape, scale=scale) == pytest.approx(median, rel=1e-9)
        assert stats.gamma.ppf(0.95, shape, scale=scale) == pytest.approx(p95, rel=1e-9)
    for a, x in ((0.3, 0.01), (2.0, 1.5), (7.5, 20.0), (150.0, 140.0)):
        assert regularized_lower(a, x) == pytest.approx(stats.gamma.cdf(x, a), rel=1e-12)


def test_gamma_draws_have_the_median_and_p95() -> None:
    """200,000 draws, seed 4: median and P95 within 1% (standard errors ~0.3%)."""
    service = ServiceTime(300.0, 700.0, distribution="gamma")
    draws = sample_ms(service, np.ones(200_000, np.int32), np.random.default_rng(4))
    assert np.median(draws) == pytest.approx(300.0, rel=0.01)
    assert np.percentile(draws, 95) == pytest.approx(700.0, rel=0.01)
    shape, scale = service.gamma
    assert service.mean_ms == pytest.approx(shape * scale)
    assert draws.mean() == pytest.approx(service.mean_ms, rel=0.01)


SMOKE_SYSTEM = "\n[system]\n"


def _with_system(section: str) -> str:
    text = load_scenario("smoke").text
    return text[: text.index(SMOKE_SYSTEM) + 1] + section


def test_the_scenario_says_gamma_balancer_and_timeout() -> None:
    scenario = parse_scenario(
        _with_system(
            '[system]\nbalancer = "shortest_queue"\ntimeout_s = 2.5\n[system.service]\n'
            'risk_analysis = { median_ms = 200, p95_ms = 450, distribution = "gamma" }\n'
        ),
        "gamma.toml",
    )
    assert scenario.system.balancer == "shortest_queue"
    assert scenario.system.timeout_s == 2.5
    risk = scenario.system.service_time("risk_analysis")
    assert (risk.distribution, risk.median_ms, risk.p95_ms) == ("gamma", 200, 450)


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ('[system]\nbalancer = "random"\n', "system.balancer"),
        ("[system]\ntimeout_s = 0\n", "system.timeout_s"),
        (
            '[system.service]\nrisk_analysis = { median_ms = 1, p95_ms = 2, distribution = "x" }\n',
            "system.service.risk_analysis.distribution",
        ),
        (
            "[system.service]\nrisk_analysis = "
            '{ median_ms = 100, p95_ms = 100.0001, distribution = "gamma" }\n',
            "system.service.risk_analysis.p95_ms",
        ),
    ],
)
def test_bad_system_fields_name_the_field(section: str, field: str) -> None:
    with pytest.raises(ScenarioError) as error:
        parse_scenario(_with_system(section), "bad.toml")
    assert error.value.field == field


def test_a_system_file_alone_overrides_the_scenarios(tmp_path: Path) -> None:
    path = tmp_path / "system.toml"
    path.write_text(
        "[system]\nworkers = 6\n[system.service]\n"
        "data_collection = { median_ms = 30, p95_ms = 80 }\n"
    )
    base = replace(load_scenario("smoke").system, queue_limit=17)
    system = load_system(path, base)
    assert (system.workers, system.queue_limit) == (6, 17)
    assert system.service_time("data_collection") == ServiceTime(30.0, 80.0)
    assert system.service_time("risk_analysis") == base.service_time("risk_analysis")
    path.write_text("[scenario]\nname = 'x'\n")
    with pytest.raises(ScenarioError, match="no \\[system\\] section"):
        load_system(path)
