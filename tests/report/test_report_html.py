"""The HTML report and the PNGs: self-contained, the console's numbers, and real in a browser.

A real replay writes the results: smoke's Tuesday from 13:25 to 14:35 UTC (the
US CPI release at 13:30, the New York open at 14:30), thinned to 2% and played
at 1200x against the reference target on 127.0.0.1 (about 1,300 requests in
3.5 s), and the plan of the same slice is the ``against`` run. The page is then
opened from disk in headless Chromium (Debian's ``chromium``, driven by
Playwright): every section and chart must render, with no console error and no
request but the file itself, and a drag on the arrival chart must zoom it.
Without Chromium or Playwright that test is skipped — unless
``ABC_REQUIRE_BROWSER=1`` (CI), where it fails.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from abcsim.errors import ResultsError
from abcsim.monitor import MonitorSettings
from abcsim.plan import prepare_plan, run_plan
from abcsim.replay import prepare_replay, run_replay
from abcsim.report import write_html, write_pngs
from abcsim.report.html import SECTIONS
from abcsim.report.marks import CLOSED, OPEN, RELEASE, market_marks
from abcsim.report.timeline import binned_percentiles
from abcsim.results import ResultsMeta, read_results, read_results_meta
from abcsim.results.stats import exact_percentiles
from abcsim.scenario import load_scenario, resolve_run
from abcsim.simulate import write_schedule
from abcsim.target import serve_in_thread
from tests.helpers import REPO, error_line, run_cli

WINDOW = "Tue 13:25..Tue 14:35"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHARTS = ("arrivals", "mix", "latency", "resources", "send-lag", "outcomes", "comparison")


@dataclass(frozen=True)
class Runs:
    folder: Path
    replay: Path
    plan: Path
    page: Path  # write_html of the replay against the plan


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """A replay of smoke's CPI hour against the reference target (its /metrics monitored),
    its plan and its page."""
    folder = tmp_path_factory.mktemp("html")
    smoke = load_scenario("smoke")
    schedule = folder / "smoke.parquet"
    write_schedule(smoke, resolve_run(smoke, {}, hours=3), schedule)
    replay, plan = folder / "r.parquet", folder / "p.parquet"
    with serve_in_thread("smoke", host="127.0.0.1", port=0) as target:
        prepared = prepare_replay(
            schedule, target.url, env={}, window=WINDOW, speed=1200, scale=0.02
        )
        watch = MonitorSettings(urls=(f"{target.url}/metrics",), interval_s=0.2)
        run_replay(prepared, replay, monitor=watch)
    run_plan(prepare_plan(schedule, window=WINDOW, scale=0.02), plan)
    page = write_html(folder / "report.html", replay, against=plan)
    return Runs(folder, replay, plan, page)


# -- without a browser --------------------------------------------------------------


def test_the_page_is_self_contained_with_every_section(runs: Runs) -> None:
    text = runs.page.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=", text, re.I)
    markup = re.sub(r"<script>.*?</script>", "", text, flags=re.S)  # the page, not plotly.js
    assert not re.search(r"""\b(src|href|url)\s*[=(]\s*["']?(https?:)?//""", markup, re.I)
    for key, _ in SECTIONS:
        assert f'<section id="{key}">' in text
    for key in CHARTS:
        assert f'id="{key}-chart"' in text
    assert text.count("Plotly.newPlot(") == len(CHARTS)
    scripts = re.findall(r"<script\b[^>]*>", text)
    assert len(scripts) == 1 + len(CHARTS)  # plotly.js once, then each chart's call
    assert "answered requests" in text  # the convention, stated
    assert runs.page.stat().st_size < 6_000_000  # plotly.js (4.8 MB) and the bins
    assert not [p.name for p in runs.folder.iterdir() if p.name.startswith(".")]


def _cells(row: str) -> list[str]:
    return [html.unescape(re.sub("<[^>]+>", "", c)) for c in re.findall("<td>(.*?)</td>", row)]


def test_cli_writes_the_page_and_pngs_with_the_consoles_numbers(runs: Runs) -> None:
    (runs.folder / "out").mkdir()
    flags = ("--against", "p.parquet", "--html", "out/r.html", "--png", "charts")
    result = run_cli("report", "r.parquet", *flags, cwd=runs.folder)
    assert result.returncode in (0, 1), result.stderr  # the SLO verdict's status
    assert "HTML report in out/r.html" in result.stderr
    assert "6 charts in charts" in result.stderr
    pngs = sorted((runs.folder / "charts").glob("*.png"))
    assert [p.stem for p in pngs] == sorted(
        ["arrivals", "mix", "latency", "outcomes", "send_lag", "comparison"]
    )
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    page = (runs.folder / "out" / "r.html").read_text(encoding="utf-8")
    console = next(
        line for line in result.stdout.splitlines() if line.split()[:1] == ["Aggregated"]
    )
    footer = re.search("<tfoot>(.*?)</tfoot>", page)
    assert footer is not None
    ours = [c for c in _cells(footer.group(1)) if c]
    theirs = [c for c in console.split() if c != "|"]
    assert ours == theirs  # Aggregated, # reqs, # fails, Avg, Min, Max, Med, req/s, failures/s


def test_bad_output_paths_are_one_line_and_exit_2(runs: Runs, tmp_path: Path) -> None:
    replay = str(runs.replay)
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-folder").mkdir()
    for flags, named in (
        (("--html", "missing/r.html"), "missing/r.html"),
        (("--html", "a-folder"), "a-folder"),
        (("--png", "a-file"), "a-file"),
    ):
        line = error_line(run_cli("report", replay, *flags, cwd=tmp_path))
        assert named in line
    # A bad results file: one line, and no folder made for charts that never came.
    line = error_line(run_cli("report", "nope.parquet", "--png", "charts", cwd=tmp_path))
    assert "nope.parquet" in line
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a-file", "a-folder"]


def test_a_frame_with_its_metadata_makes_the_same_sections(runs: Runs, tmp_path: Path) -> None:
    frame, meta = read_results(runs.plan), read_results_meta(runs.plan)
    page = write_html(tmp_path / "plan.html", frame, meta=meta).read_text(encoding="utf-8")
    assert "a model sends every request on time" in page  # a plan has no send lag
    assert 'id="send-lag-chart"' not in page and 'id="comparison"' not in page
    with pytest.raises(ResultsError, match="metadata or a scenario"):
        write_html(tmp_path / "bare.html", frame)
    with pytest.raises(ResultsError, match="latency"):  # fails while computing: nothing written
        write_html(tmp_path / "broken.html", frame.drop(columns="latency"), meta=meta)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.html"]


def test_a_long_run_gives_a_page_of_bounded_size(tmp_path: Path) -> None:
    """8 days of 400,000 synthetic results (seed 3) from Saturday: bins, not rows, so the page
    stays a few MB (plotly.js is 4.8 of them) and the closure of the market is marked."""
    smoke = load_scenario("smoke")
    start = dt.datetime(2026, 1, 10, tzinfo=dt.UTC)  # a Saturday: closed from 22:00
    rng = np.random.default_rng(3)
    n, span = 400_000, 8 * 86400.0
    t = np.sort(rng.uniform(0.0, span, n))
    ok = rng.random(n) < 0.99
    latency = rng.lognormal(np.log(0.05), 0.6, n)
    frame = pd.DataFrame(
        {
            "event_id": np.arange(n),
            "t": t,
            "agent_type": pd.Categorical(rng.choice(["trading", "hft", "batch"], n)),
            "request": pd.Categorical(rng.choice(["data_collection", "trade_execution"], n)),
            "sent": t + rng.exponential(0.002, n),
            "latency": latency,
            "service": latency,
            "status": np.where(ok, 200, 503).astype(np.int16),
            "outcome": pd.Categorical(np.where(ok, "ok", "http_error")),
            "bytes": np.full(n, 100, np.int32),
            "error": np.where(ok, "", "HTTP 503"),
        }
    )
    meta = ResultsMeta(
        "replay", "http://127.0.0.1:1", "smoke", smoke.text, 1, start, start, (0, span)
    )
    page = write_html(tmp_path / "week.html", frame, meta=meta, scenario=smoke)
    assert page.stat().st_size < 8_000_000
    text = page.read_text(encoding="utf-8")
    assert "closed (maintenance)" in text and "US CPI (Dec 2025)" in text
    pngs = write_pngs(tmp_path / "pngs", frame, meta=meta, scenario=smoke)
    assert len(pngs) == 5  # no comparison


def test_binned_percentiles_are_the_exact_percentiles_of_each_cell() -> None:
    """Seed 5: 20,000 values in 3 groups × 7 bins against results.stats' exact percentiles."""
    rng = np.random.default_rng(5)
    n = 20_000
    values = rng.lognormal(0.0, 1.0, n)
    values[rng.random(n) < 0.05] = np.nan  # not answered: not ranked
    groups = rng.integers(-1, 3, n)  # -1: a request type the chart does not draw
    bins = rng.integers(0, 7, n)
    fractions = (0.5, 0.95, 0.99, 1.0)
    got = binned_percentiles(values, groups, bins, ("a", "b", "c"), 7, fractions)
    for g in range(3):
        for b in range(7):
            cell = values[(groups == g) & (bins == b)]
            cell = cell[~np.isnan(cell)]
            assert got.counts[g, b] == cell.size
            want = exact_percentiles(cell, fractions)
            for j, p in enumerate(fractions):
                drawn = cell.size > (1 / (1 - p) if p < 1 else 0)
                assert got.values[g, j, b] == want[j] if drawn else np.isnan(got.values[g, j, b])


def test_marks_are_the_markets_closure_opens_and_releases() -> None:
    smoke = load_scenario("smoke")  # Tue 13 Jan 2026 from 12:00 UTC
    marks = market_marks(smoke, smoke.start, (0.0, 6 * 3600.0))
    seen = [(m.kind, m.label, dt.datetime.fromtimestamp(m.start_s, dt.UTC)) for m in marks]
    assert (RELEASE, "US CPI (Dec 2025)", dt.datetime(2026, 1, 13, 13, 30, tzinfo=dt.UTC)) in seen
    assert (OPEN, "XNYS open", dt.datetime(2026, 1, 13, 14, 30, tzinfo=dt.UTC)) in seen
    week = load_scenario("abc_week")
    saturday = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)
    (closed,) = [m for m in market_marks(week, saturday, (0.0, 86400.0)) if m.kind == CLOSED]
    assert closed.start_s == dt.datetime(2026, 1, 10, 22, tzinfo=dt.UTC).timestamp()
    assert closed.end_s == saturday.timestamp() + 86400.0  # the window's end cuts it


# -- in a browser ---------------------------------------------------------------------


@pytest.fixture
def browser() -> Iterator[Any]:
    """Debian's headless Chromium under Playwright, or a skip (a failure in CI) saying why."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing.append("playwright (pip install playwright)")
    if missing:
        reason = "no browser to render the HTML report: missing " + ", ".join(missing)
        if os.environ.get("ABC_REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (ABC_REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _artifacts() -> Path:
    folder = Path(os.environ.get("ABC_ARTIFACTS") or REPO / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


RENDERED = """ids => ids.map(id => {
  const chart = document.getElementById(id + '-chart');
  if (!chart || !chart._fullData) return [id, 0, 0];
  const drawn = chart.querySelectorAll(
    '.scatterlayer path.js-line, .scatterlayer path.js-fill, .scatterlayer .point, .barlayer path');
  return [id, chart._fullData.length, drawn.length];
})"""

X_RANGE = """() => {
  const axis = document.getElementById('arrivals-chart')._fullLayout.xaxis;
  return axis.range.map(axis.r2l);
}"""
"""The arrival chart's time axis shown, in milliseconds since the epoch."""


def test_the_page_renders_offline_and_zooms_in_headless_chromium(runs: Runs, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on(
        "console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.set_default_timeout(15_000)
    page.goto(runs.page.as_uri(), wait_until="load")
    page.wait_for_function(f"document.querySelectorAll('.js-plotly-plot').length == {len(CHARTS)}")

    for key, _ in SECTIONS:
        assert page.locator(f"section#{key}").is_visible(), key
    for key, traces, drawn in page.evaluate(RENDERED, list(CHARTS)):
        assert traces > 0 and drawn > 0, f"{key}: {traces} traces, {drawn} shapes drawn"
    page.screenshot(path=str(_artifacts() / "report_html.png"), full_page=True)

    before = page.evaluate(X_RANGE)
    chart = page.locator("#arrivals-chart .nsewdrag").first
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 0.3 * box["width"], y)
    page.mouse.down()
    page.mouse.move(box["x"] + 0.5 * box["width"], y, steps=12)
    page.mouse.up()
    page.wait_for_function(f"({X_RANGE})()[1] - ({X_RANGE})()[0] < {0.5 * (before[1] - before[0])}")
    after = page.evaluate(X_RANGE)
    assert before[0] < after[0] < after[1] < before[1]  # a slice of the hour and ten minutes
    page.locator("#arrivals").screenshot(path=str(_artifacts() / "report_html_zoomed.png"))

    assert problems == []
    assert requests == [runs.page.as_uri()]
