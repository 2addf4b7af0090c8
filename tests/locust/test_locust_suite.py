"""The ABC team's suite commands, as their README writes them, in short form.

Every command runs as a real ``locust`` process against a reference target on
127.0.0.1 (smoke's endpoints, every request 1 ms, room for all): the web-UI
ones until their page answers, the headless ones for a few seconds, all at
once. Mix checks compare the requests per type in Locust's own stats with the
scenario's task weights: each share must lie within 4.5 standard errors of
its weight (binomial; a false alarm about once in 150,000 per type), since
Locust picks tasks with an unseeded ``random``.
"""

from __future__ import annotations

import math
import signal
from pathlib import Path

import pytest

from abcsim.scenario import REQUEST_TYPES, load_scenario
from abcsim.target import RunningTarget
from tests.conftest import Serve, fixed_scenario
from tests.locust.runs import (
    SUITE,
    free_port,
    request_counts,
    start_locust,
    wait_for_page,
)

Z = 4.5
RUN = "6s"

pytestmark = pytest.mark.locust  # a CI step of its own: make test-locust


@pytest.fixture
def roomy_target(serve: Serve) -> RunningTarget:
    return serve(fixed_scenario(1.0, workers=512, queue_limit=10_000))


def assert_mix(counts: dict[str, int], weights: tuple[float, ...], *, at_least: int) -> None:
    """Shares per request type within Z standard errors of the weights."""
    total = sum(counts.values())
    assert total >= at_least, counts
    expected = {r: w / sum(weights) for r, w in zip(REQUEST_TYPES, weights, strict=True)}
    for request, p in expected.items():
        share = counts.get(request, 0) / total
        tolerance = Z * math.sqrt(p * (1 - p) / total) + 1 / total
        assert abs(share - p) <= tolerance, (request, share, p, tolerance, counts)


def assert_exit_0(finished: dict[str, tuple[int, str]]) -> None:
    for name, (status, output) in finished.items():
        assert status == 0, f"{name}:\n{output[-3000:]}"


def test_the_suites_headless_commands_run_and_send_the_scenarios_mix(
    roomy_target: RunningTarget, tmp_path: Path
) -> None:
    host = ("--host", roomy_target.url)
    abc_week = load_scenario("abc_week")
    # the standard user's mix, from a scenario whose users think for ~30 ms (ABC_SCENARIO)
    fast = tmp_path / "fast_users.toml"
    fast.write_text(
        abc_week.text.replace(
            "think_time = { min_s = 1.0, mean_s = 8.0 }",
            "think_time = { min_s = 0.01, mean_s = 0.05 }",
        )
    )
    # in two waves, two or three processes on the machine's two cores at a time
    mixes = {
        "hft": start_locust(SUITE, "--headless", "-u", "50", "-r", "50", "--run-time", RUN,
                            "--class-picker", "HighFrequencyUser", *host, "--csv", "hft",
                            cwd=tmp_path),
        "trading": start_locust(SUITE, "--headless", "-u", "20", "-r", "20", "--run-time", RUN,
                                "TradingSystemUser", *host, "--csv", "trading", cwd=tmp_path,
                                env={"ABC_SCENARIO": str(fast)}),
    }  # fmt: skip
    assert_exit_0({name: run.finish() for name, run in mixes.items()})
    others = {
        "all": start_locust(SUITE, "--headless", "-u", "100", "-r", "10", "--run-time", RUN,
                            *host, "--csv", "all", cwd=tmp_path),
        "batch": start_locust(SUITE, "--headless", "-u", "20", "-r", "2", "--run-time", RUN,
                              "--class-picker", "BatchProcessingUser", *host, "--csv", "batch",
                              cwd=tmp_path),
        "results": start_locust(SUITE, "--headless", "-u", "50", "-r", "5", "--run-time", RUN,
                                "--csv", "results", *host, cwd=tmp_path),
    }  # fmt: skip
    assert_exit_0({name: run.finish() for name, run in others.items()})
    for suffix in ("stats", "stats_history", "failures", "exceptions"):
        assert (tmp_path / f"results_{suffix}.csv").stat().st_size > 0
    agents = {a.kind: a for a in abc_week.agents}
    # all 50 at once: ~10/s each; under a CPU hog Locust's start-up eats most of the 6 s,
    # so at least 200 (the tolerance widens with fewer: 4.5 standard errors of the total)
    assert_mix(request_counts(tmp_path / "hft_stats.csv"), agents["hft"].mix, at_least=200)
    assert_mix(request_counts(tmp_path / "trading_stats.csv"), agents["trading"].mix, at_least=500)
    batch = request_counts(tmp_path / "batch_stats.csv")
    assert sum(batch.values()) >= 1 and set(batch) <= {
        r for r, w in zip(REQUEST_TYPES, agents["batch"].mix, strict=True) if w > 0
    }
    everyone = request_counts(tmp_path / "all_stats.csv")
    assert len(everyone) >= 4 and set(everyone) <= set(REQUEST_TYPES), everyone  # named by type


@pytest.mark.parametrize("flags", [(), ("--loglevel", "DEBUG")], ids=["web", "debug"])
def test_the_suites_web_ui_commands_serve_their_page(
    roomy_target: RunningTarget, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    port = free_port()
    run = start_locust(
        SUITE, *flags, "--web-host", "127.0.0.1", "--web-port", str(port),
        "--host", roomy_target.url, cwd=tmp_path,
    )  # fmt: skip
    try:
        page = wait_for_page(f"http://127.0.0.1:{port}/")
    finally:
        run.process.send_signal(signal.SIGINT)
    status, output = run.finish(30.0)
    assert "locust" in page.lower()
    assert status == 0, output[-3000:]
    if flags:
        assert "/DEBUG/" in output


def test_a_bad_variable_stops_the_suite_with_one_line(tmp_path: Path) -> None:
    run = start_locust(SUITE, "--headless", "-u", "1", "--run-time", "1s", cwd=tmp_path,
                       env={"ABC_SCENARIO": "no_such_week"})  # fmt: skip
    status, output = run.finish(60.0)
    assert status == 2, output
    assert "Traceback" not in output
    assert output.strip().splitlines()[-1].startswith("error: no_such_week"), output


def test_no_orders_to_a_system_not_in_performance_mode(tmp_path: Path) -> None:
    """A non-loopback --host without ABC_PERFORMANCE_MODE=true: refused before anything is
    sent (10.255.0.1 is never contacted: the run stops at start)."""
    run = start_locust(SUITE, "--headless", "-u", "1", "--run-time", "5s",
                       "--host", "http://10.255.0.1:9", cwd=tmp_path)  # fmt: skip
    status, output = run.finish(60.0)
    assert status == 2, output
    assert "Traceback" not in output
    last = output.strip().splitlines()[-1]
    assert last.startswith("error: ABC_PERFORMANCE_MODE") and "trade_execution" in last, output
