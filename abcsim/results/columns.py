"""The results table: one row per scheduled event, measured (replay) or predicted (plan).

Columns as docs/architecture.md fixes them. ``latency`` runs from the *scheduled* time to
the end of the response — what a user felt, free of coordinated omission —
and ``service`` from the actual send; a request never sent has ``sent``,
``latency`` and ``service`` NaN and outcome ``dropped``. So an order scheduled
at t = 100.000 s, sent at 100.004 s (the replayer was 4 ms late) and answered
at 100.250 s has ``latency`` 0.250 and ``service`` 0.246.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from abcsim.errors import ResultsError
from abcsim.parquet_stream import decode_metadata, encode_metadata
from abcsim.scenario.spec import REQUEST_TYPES

OUTCOMES: tuple[str, ...] = ("ok", "http_error", "timeout", "connection_error", "dropped")
"""Every way a scheduled event can end; outcome codes index this tuple."""

ENDED_COMPLETE = "complete"
ENDED_STOPPED = "stopped"
ENDED_RECOVERED = "recovered after the writer died"
ENDINGS: tuple[str, ...] = (ENDED_COMPLETE, ENDED_STOPPED, ENDED_RECOVERED)
"""How a results file's run ended (its ``ended`` metadata): played to its end; stopped
(Ctrl-C, a signal, an error: the events it never got to are ``dropped`` rows); or cut
off with its writer (``kill -9``, the OOM killer), the file rebuilt from what had
reached the disk, the events after that with no row at all."""

REPLAY_SETTING_KEYS = ("header_names", "tls_verify", "orders_without_performance_mode")
"""A replay's settings its results record, when they were used (see ``PreparedReplay``)."""

RESULTS_COLUMNS: tuple[str, ...] = (
    "event_id",
    "t",
    "agent_type",
    "request",
    "sent",
    "latency",
    "service",
    "status",
    "outcome",
    "bytes",
    "error",
)

_CATEGORY = pa.dictionary(pa.int8(), pa.string())

RESULTS_SCHEMA = pa.schema(
    [
        ("event_id", pa.int64()),
        ("t", pa.float64()),
        ("agent_type", _CATEGORY),
        ("request", _CATEGORY),
        ("sent", pa.float64()),
        ("latency", pa.float64()),
        ("service", pa.float64()),
        ("status", pa.int16()),
        ("outcome", _CATEGORY),
        ("bytes", pa.int32()),
        ("error", pa.string()),
    ]
)
"""Arrow types of :data:`RESULTS_COLUMNS`; categories are dictionary-encoded."""


def results_batch(
    *,
    event_id: npt.NDArray[np.int64],
    t: npt.NDArray[np.float64],
    agent_type: npt.NDArray[np.int8],
    agent_types: Sequence[str],
    request: npt.NDArray[np.int8],
    sent: npt.NDArray[np.float64],
    latency: npt.NDArray[np.float64],
    service: npt.NDArray[np.float64],
    status: npt.NDArray[np.int16],
    outcome: npt.NDArray[np.int8],
    bytes_: npt.NDArray[np.int32],
    error: Sequence[str],
) -> pa.RecordBatch:
    """One batch of results rows from numpy columns and category codes."""
    return pa.record_batch(
        [
            pa.array(event_id, pa.int64()),
            pa.array(t, pa.float64()),
            pa.DictionaryArray.from_arrays(pa.array(agent_type, pa.int8()), list(agent_types)),
            pa.DictionaryArray.from_arrays(pa.array(request, pa.int8()), list(REQUEST_TYPES)),
            pa.array(sent, pa.float64()),
            pa.array(latency, pa.float64()),
            pa.array(service, pa.float64()),
            pa.array(status, pa.int16()),
            pa.DictionaryArray.from_arrays(pa.array(outcome, pa.int8()), list(OUTCOMES)),
            pa.array(bytes_, pa.int32()),
            pa.array(error, pa.string()),
        ],
        schema=RESULTS_SCHEMA,
    )


@dataclass(frozen=True)
class ResultsMeta:
    """What a results file says about itself: where the numbers come from."""

    source: str  # "replay" or "plan"
    target: str  # URL replayed against, or the system model's name
    scenario_name: str
    scenario_text: str
    seed: int
    schedule_start: dt.datetime  # the schedule's t = 0 (UTC)
    wall_start: dt.datetime  # when the replay (or plan) began (UTC)
    window: tuple[float, float]  # the schedule slice [start, end) in schedule seconds
    speed: float = 1.0
    scale: float = 1.0
    ended: str = ENDED_COMPLETE  # one of ENDINGS; files from before it was kept say nothing
    # a replay's own settings, by REPLAY_SETTING_KEYS: header names (never values),
    # tls_verify, the orders override; only those that were used
    replay_settings: tuple[tuple[str, str], ...] = ()

    def to_metadata(self) -> dict[bytes, bytes]:
        fields = {
            "source": self.source,
            "target": self.target,
            "scenario_name": self.scenario_name,
            "scenario": self.scenario_text,
            "seed": str(self.seed),
            "schedule_start": _iso(self.schedule_start),
            "wall_start": _iso(self.wall_start),
            "window": f"{self.window[0]!r},{self.window[1]!r}",
            "speed": repr(self.speed),
            "scale": repr(self.scale),
            "ended": self.ended,
            **dict(self.replay_settings),
        }
        return encode_metadata(fields)

    @classmethod
    def from_metadata(cls, metadata: dict[bytes, bytes], source: str) -> ResultsMeta:
        fields = decode_metadata(metadata)
        try:
            low, high = fields["window"].split(",")
            return cls(
                source=fields["source"],
                target=fields["target"],
                scenario_name=fields["scenario_name"],
                scenario_text=fields["scenario"],
                seed=int(fields["seed"]),
                schedule_start=_parse_iso(fields["schedule_start"]),
                wall_start=_parse_iso(fields["wall_start"]),
                window=(float(low), float(high)),
                speed=float(fields["speed"]),
                scale=float(fields["scale"]),
                ended=fields.get("ended", ENDED_COMPLETE),
                replay_settings=tuple(
                    (key, fields[key]) for key in REPLAY_SETTING_KEYS if key in fields
                ),
            )
        except (KeyError, ValueError) as exc:
            raise ResultsError(f"{source}: metadata: not an abcsim results file ({exc})") from None


def ended_lines(meta: ResultsMeta) -> list[str]:
    """What a report says about how the run ended, when it was cut off: one line, or none."""
    if meta.ended != ENDED_RECOVERED:
        return []
    return [
        "Run cut short: its process died (kill -9, out of memory?) or its disk filled; these "
        "results were recovered from what had reached the disk, and later events have no row"
    ]


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _parse_iso(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
