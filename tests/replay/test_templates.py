"""Request templates and the payload model: what each event's request carries.

Statistical checks use fixed seeds and state their tolerance; each would fail
by far if the model were wrong (a uniform instrument pick, a thin tail, no
release concentration).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

import numpy as np
import pytest

from abcsim.errors import ScenarioError
from abcsim.replay.payloads import Draws, PayloadModel
from abcsim.replay.templates import Templates
from abcsim.scenario import REQUEST_TYPES, load_scenario, parse_scenario
from abcsim.scenario.spec import DEFAULT_PAYLOADS, Release
from abcsim.schedule.slicing import EventBlock

TRADE = REQUEST_TYPES.index("trade_execution")
HEALTH = REQUEST_TYPES.index("health_check")
START = dt.datetime(2026, 1, 13, tzinfo=dt.UTC)


def builtin_text(name: str) -> str:
    return load_scenario(name).text


def _block(n: int, first_id: int = 0, request: int = TRADE) -> EventBlock:
    return EventBlock(
        event_id=np.arange(first_id, first_id + n, dtype=np.int64),
        t=np.linspace(0.0, 3600.0, n),
        agent_id=(np.arange(n) % 7).astype(np.int32),
        agent_type=(np.arange(n) % 2).astype(np.int8),
        request=np.full(n, request, np.int8),
        size=(np.arange(n) % 50 + 1).astype(np.int32),
    )


def _templates(scenario_name: str = "abc_week", seed: int | None = None) -> Templates:
    spec = load_scenario(scenario_name)
    return Templates(
        spec.endpoints,
        ("trading", "hft"),
        seed=spec.seed if seed is None else seed,
        schedule_start=spec.start,
        payloads=spec.payloads,
        releases=spec.market.releases,
    )


def _bodies(templates: Templates, block: EventBlock, request: int = TRADE) -> list[bytes]:
    route = templates.routes[request]
    assert route.body is not None
    return [route.body.render(row) for row in templates.rows(block)]


def test_abc_week_orders_are_valid_json_with_typed_fields() -> None:
    """Every templated field lands with its JSON type; literal text stays as written."""
    templates = _templates()
    block = _block(2000)
    for body, event_id, size in zip(
        _bodies(templates, block), block.event_id, block.size, strict=True
    ):
        order = json.loads(body)
        assert order["size"] == size  # the reference target reads it
        assert order["client_order_id"].endswith(f"-{event_id}")
        assert order["side"] in ("buy", "sell")
        assert isinstance(order["quantity"], int) and order["quantity"] >= 1
        assert isinstance(order["limit_price"], float | int)
        assert order["order_type"] == "limit" and order["time_in_force"] == "IOC"
        assert order["account"].startswith("desk-")


def test_rendering_depends_only_on_seed_and_event_id() -> None:
    """However the events are cut into blocks, event i's request is the same bytes."""
    templates = _templates()
    whole = _bodies(templates, _block(1000))
    halves = _bodies(templates, _sub(_block(1000), 0, 400))
    halves += _bodies(templates, _sub(_block(1000), 400, 1000))
    assert whole == halves
    again = _bodies(_templates(), _block(1000))
    assert again == whole  # a second compile: byte-identical
    other_seed = _bodies(_templates(seed=12345), _block(1000))
    assert sum(a != b for a, b in zip(whole, other_seed, strict=True)) > 900


def _sub(block: EventBlock, start: int, stop: int) -> EventBlock:
    return block.take(np.arange(start, stop))


def test_literal_text_is_escaped_where_it_stands() -> None:
    """Quotes, percent signs and non-ASCII in a template; spaces in a query value."""
    text = builtin_text("smoke").replace(
        'trade_execution = { method = "POST", path = "/api/v1/agents/trade-execution" }',
        'trade_execution = { method = "POST", path = "/api/v1/agents/trade-execution", '
        'body = { note = "100% \\"sure\\" ünïcode ${side}", n = 3, ok = true, '
        'xs = ["${instrument}", 1.5], q = "${quantity}" }, '
        'query = { account = "A 1&2", at = "${time}" }, '
        'headers = { X-Order = "${client_order_id}" } }',
    )
    spec = parse_scenario(text)
    templates = Templates(
        spec.endpoints, ("trading",), seed=1, schedule_start=START, payloads=spec.payloads
    )
    row = templates.row(7, TRADE, size=3)
    method, target, headers, body = templates.parts(TRADE, row)
    assert body is not None
    doc = json.loads(body)
    assert doc["note"] in ('100% "sure" ünïcode buy', '100% "sure" ünïcode sell')
    assert doc["n"] == 3 and doc["ok"] is True and doc["xs"][1] == 1.5
    assert isinstance(doc["q"], int)
    assert target == "/api/v1/agents/trade-execution?account=A%201%262&at=2026-01-13T00:00:00.000Z"
    assert headers["X-Order"].startswith("abc-") and headers["X-Order"].endswith("-7")
    assert headers["X-ABC-Event-Id"] == "7" and method == "POST"


def test_an_unknown_field_is_an_error_naming_it() -> None:
    bad = builtin_text("smoke").replace(
        'trade_execution = { method = "POST", path = "/api/v1/agents/trade-execution" }',
        'trade_execution = { method = "POST", path = "/api/v1/agents/trade-execution", '
        'body = { order = { px = "${prize}" } } }',
    )
    with pytest.raises(ScenarioError, match=r"endpoints\.trade_execution\.body\.order\.px: "):
        parse_scenario(bad)
    get_with_body = builtin_text("smoke").replace(
        'health_check = { method = "GET", path = "/api/v1/health" }',
        'health_check = { method = "GET", path = "/api/v1/health", body = { a = 1 } }',
    )
    with pytest.raises(ScenarioError, match=r"endpoints\.health_check\.body: a GET"):
        parse_scenario(get_with_body)
    smuggle = builtin_text("smoke").replace(
        'health_check = { method = "GET", path = "/api/v1/health" }',
        'health_check = { method = "GET", path = "/api/v1/health", '
        'headers = { X-A = "1\\r\\nX-Evil: 1" } }',
    )
    with pytest.raises(ScenarioError, match=r"endpoints\.health_check\.headers\.X-A: "):
        parse_scenario(smuggle)


def test_without_templates_requests_are_as_before() -> None:
    """smoke has none: {"size":N,"event_id":ID} for a POST, ?size=N for a GET."""
    templates = _templates("smoke")
    row = templates.row(41, TRADE, size=20)
    assert templates.parts(TRADE, row)[3] == b'{"size":20,"event_id":41}'
    get = templates.parts(HEALTH, templates.row(42, HEALTH, size=3))
    assert get[1] == "/api/v1/health?size=3" and get[3] is None


# -- the payload model ----------------------------------------------------------------


def _draws(n: int, seed: int = 1, t: float = 0.0, releases: tuple[Release, ...] = ()) -> Draws:
    model = PayloadModel(DEFAULT_PAYLOADS, seed, START, releases)
    return model.draw(np.arange(n, dtype=np.int64), np.full(n, t))


def test_instruments_follow_zipf_popularity() -> None:
    """Seed 1, 200,000 events: each instrument's share within 0.005 of (k+1)^-1.1 / H."""
    draws = _draws(200_000)
    k = len(DEFAULT_PAYLOADS.instruments)
    weights = np.arange(1, k + 1) ** -DEFAULT_PAYLOADS.zipf
    expected = weights / weights.sum()
    observed = np.bincount(draws.instrument, minlength=k) / 200_000
    assert np.abs(observed - expected).max() < 0.005
    assert observed[0] > 3 * observed[-1]  # a uniform pick would fail this


def test_quantities_are_whole_lots_with_a_power_law_tail() -> None:
    """Seed 1, 200,000 events: P(lots >= k) within 10% (relative) of k^-1.5 for k = 2..50."""
    draws = _draws(200_000)
    lot = np.array([i.lot for i in DEFAULT_PAYLOADS.instruments])[draws.instrument]
    assert np.all(draws.quantity % lot == 0)
    lots = draws.quantity // lot
    for k in (2, 5, 10, 50):
        share = float(np.mean(lots >= k))
        assert share == pytest.approx(k**-1.5, rel=0.10), k
    assert lots.max() <= DEFAULT_PAYLOADS.max_lots


def test_prices_sit_on_the_tick_near_the_reference() -> None:
    """Seed 1: every price on its tick; the spread's sd within 10% of 5 bp (liquid names)."""
    draws = _draws(100_000)
    spec = DEFAULT_PAYLOADS
    tick = np.array([i.tick for i in spec.instruments])[draws.instrument]
    reference = np.array([i.price for i in spec.instruments])[draws.instrument]
    assert np.allclose(np.round(draws.price / tick) * tick, draws.price)
    fine = tick / reference < 1e-5  # where the tick is far finer than a basis point
    moves = draws.price[fine] / reference[fine] - 1.0
    assert np.std(moves) == pytest.approx(spec.spread_bps * 1e-4, rel=0.10)
    assert np.mean(draws.buy) == pytest.approx(spec.buy_share, abs=0.01)


def test_a_release_concentrates_orders_on_what_it_moves() -> None:
    """Seed 1, a Bank of England decision at 12:00 UTC with a 10-minute decay: a second
    after it, 60% of picks (plus the movers' usual share of the rest) are on what it moves
    (GBPUSD, VOD.L); an hour on, the usual share (within 0.01 each, 100,000 events)."""
    boe = Release("boe", "BoE rate decision", START + dt.timedelta(hours=12), 2.0, 10.0)
    at = boe.at.timestamp() - START.timestamp()
    movers = np.array(["boe" in i.moves_on for i in DEFAULT_PAYLOADS.instruments])
    usual = float(np.mean(movers[_draws(100_000).instrument]))
    right_after = float(np.mean(movers[_draws(100_000, t=at + 1.0, releases=(boe,)).instrument]))
    an_hour_on = float(np.mean(movers[_draws(100_000, t=at + 3600, releases=(boe,)).instrument]))
    before = float(np.mean(movers[_draws(100_000, t=at - 1.0, releases=(boe,)).instrument]))
    share = DEFAULT_PAYLOADS.release_share * np.exp(-1.0 / 600.0)
    assert right_after == pytest.approx(share + (1 - share) * usual, abs=0.01)
    assert an_hour_on == pytest.approx(usual, abs=0.01)
    assert before == pytest.approx(usual, abs=0.01)
    assert right_after > usual + 0.4


def test_payloads_with_one_instrument_and_no_tail() -> None:
    """Edge: one instrument is always picked; lots_tail huge means one lot each."""
    spec = replace(DEFAULT_PAYLOADS, instruments=DEFAULT_PAYLOADS.instruments[:1], lots_tail=1e6)
    draws = PayloadModel(spec, 3, START).draw(np.arange(1000, dtype=np.int64), np.zeros(1000))
    assert set(draws.instrument.tolist()) == {0}
    assert set(draws.quantity.tolist()) == {spec.instruments[0].lot}
