"""The monitor file: one row per series per sample, on the results' schedule clock.

Beside ``tue.results.parquet`` a monitored replay writes ``tue.monitor.parquet``:

========  =======  ===========================================================
column    type     meaning
========  =======  ===========================================================
t         float64  schedule time of the sample, as the results' ``t`` (seconds
                   since the schedule's start): the 14:30:00 open is one ``t``
                   in both files
wall      float64  when it was taken, epoch seconds
source    string   the ``/metrics`` URL, or ``pid:4242`` for a watched process
metric    string   ``process_resident_memory_bytes``, ``abc_target_in_flight``, ...
labels    string   Prometheus labels as written: ``request="trade_execution"``
value     float64  the sample's value
========  =======  ===========================================================

Every attempt writes ``up`` (1, or 0 when the scrape failed): a failed scrape
is a gap in every other series, never a stopped replay. A watched process
writes ``process_cpu_seconds_total`` and ``process_resident_memory_bytes``
(itself and its children), the names a Prometheus client gives its own, and
``abcsim_cpu_cores``, the cores it may run on (what its CPU share is of).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from abcsim.errors import AbcsimError

MONITOR_COLUMNS: tuple[str, ...] = ("t", "wall", "source", "metric", "labels", "value")

MONITOR_SCHEMA = pa.schema(
    [
        ("t", pa.float64()),
        ("wall", pa.float64()),
        ("source", pa.dictionary(pa.int32(), pa.string())),
        ("metric", pa.dictionary(pa.int32(), pa.string())),
        ("labels", pa.dictionary(pa.int32(), pa.string())),
        ("value", pa.float64()),
    ]
)

UP = "up"
CPU_SECONDS = "process_cpu_seconds_total"
RESIDENT_BYTES = "process_resident_memory_bytes"
CPU_CORES = "abcsim_cpu_cores"  # a watched pid's: the cores it may run on (its affinity)


def monitor_path(results: str | Path) -> Path:
    """``tue.results.parquet`` → ``tue.monitor.parquet`` (else ``NAME.monitor.parquet``)."""
    path = Path(results)
    stem = path.name.removesuffix(".parquet").removesuffix(".results")
    return path.with_name(f"{stem}.monitor.parquet")


def read_monitor(path: str | Path) -> pd.DataFrame:
    """A monitor file as a DataFrame; ``source``, ``metric``, ``labels`` categorical."""
    try:
        table = pq.read_table(path, columns=list(MONITOR_COLUMNS))
    except (OSError, pa.ArrowInvalid, KeyError) as exc:
        raise AbcsimError(f"{path}: not an abcsim monitor file ({exc})") from None
    frame: pd.DataFrame = table.to_pandas()
    return frame
