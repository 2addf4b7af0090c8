"""Locust's own tables for given requests: run as a subprocess by the console tests.

Reads a JSON list of jobs on stdin — each ``{"name_width": 80, "duration_s":
10.0, "records": [[method, name, response_time_ms or null, content_length,
error or null], ...]}`` — feeds each job's records to a fresh
``locust.stats.RequestStats`` in order, and prints a JSON list of Locust's
end-of-run tables, one per job. It runs in its own process because
importing locust monkey-patches the standard library with gevent.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from locust import stats


def tables(job: dict[str, Any]) -> dict[str, Any]:
    stats.STATS_NAME_WIDTH = job["name_width"]
    request_stats = stats.RequestStats()
    for method, name, response_time, size, error in job["records"]:
        request_stats.log_request(method, name, response_time, size)
        if error is not None:
            request_stats.log_error(method, name, error)
    # Locust's rates divide by (last request - start); pin both so ours can match.
    request_stats.total.start_time = 1_000_000.0
    request_stats.total.last_request_timestamp = 1_000_000.0 + job["duration_s"]
    entries = {
        f"{method} {name}": [
            entry.get_response_time_percentile(p) for p in stats.PERCENTILES_TO_REPORT
        ]
        for (name, method), entry in request_stats.entries.items()
    }
    return {
        "stats": stats.get_stats_summary(request_stats, current=False),
        "percentiles": stats.get_percentile_stats_summary(request_stats),
        "errors": stats.get_error_report_summary(request_stats),
        "entry_percentiles": entries,
    }


def main() -> None:
    json.dump([tables(job) for job in json.load(sys.stdin)], sys.stdout)


if __name__ == "__main__":
    main()
