"""Facts as a picture: the hour-of-day shape, one busy day minute by minute, and memory.

One PNG, four panels, one line per source (a simulated week beside another,
or beside production counts):

1. the share of each UTC hour in Monday–Thursday traffic;
2. the busiest weekday of the first source, requests per minute, with its
   releases marked — what a day of the simulated market looks like;
3. the autocorrelation of 1-minute counts in flat hours, lags 1 to 60 minutes;
4. DFA's fluctuation F(s) against the box size s, log-log: the slope is the
   Hurst exponent (0.5 for independent minutes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from abcsim.facts.counts import Counts
from abcsim.facts.measure import Facts
from abcsim.facts.memory import autocorrelation, dfa_fluctuations, flat_windows, relative


def plot_facts(sources: Sequence[tuple[Facts, Counts]], out: str | Path) -> None:
    """Write the four panels for ``sources`` (facts and the counts they came from) to ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(13, 8.5))
    hours, day, acf, dfa = axes.ravel()
    for facts, counts in sources:
        hours.plot(
            range(24), [100 * s for s in facts.shape.hour_shares], marker="o", label=facts.label
        )
        windows = relative(
            flat_windows(counts.per(60) if counts.step_s < 60 else counts, facts.memory.hours)
        )
        if windows:
            lags = list(range(1, 61))
            acf.plot(lags, list(autocorrelation(windows, lags).values()), label=facts.label)
            scales, fluctuation = dfa_fluctuations(windows)
            dfa.loglog(
                scales,
                fluctuation,
                marker="o",
                label=f"{facts.label}: H = {facts.memory.hurst:.2f}",
            )
    hours.set(title="Share of each UTC hour, Mon-Thu", xlabel="hour (UTC)", ylabel="% of the day")
    hours.set_xticks(range(0, 24, 2))
    acf.axhline(0, color="grey", lw=0.5)
    acf.set(title="Autocorrelation of 1-min counts, flat hours", xlabel="lag (min)")
    dfa.set(title="DFA: fluctuation F(s), flat hours", xlabel="box s (min)", ylabel="F(s)")
    _day(day, *sources[0])
    for panel in (hours, acf, dfa):
        panel.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    plt.close(figure)


def _day(panel, facts: Facts, counts: Counts) -> None:  # type: ignore[no-untyped-def]
    """Requests per minute over the first source's busiest weekday, releases marked."""
    minutes = counts.per(60) if counts.step_s < 60 else counts
    if facts.shape.busiest_hour is None:
        panel.set_title("no full weekday")
        return
    begin = dt.datetime.combine(facts.shape.busiest_hour[0].date(), dt.time(), dt.UTC)
    values = minutes.window(begin, begin + dt.timedelta(days=1))
    if values is None:
        return
    x = np.arange(values.size) / 60.0
    panel.plot(x, values / 60.0, lw=0.6, color="tab:blue")
    for release in facts.releases:
        if begin <= release.at < begin + dt.timedelta(days=1):
            hour = (release.at - begin).total_seconds() / 3600.0
            panel.axvline(hour, color="tab:red", lw=0.8, alpha=0.6)
            panel.annotate(
                release.names.split(" + ")[0],
                (hour, panel.get_ylim()[1]),
                rotation=90,
                va="top",
                ha="right",
                fontsize=7,
                color="tab:red",
            )
    panel.set(
        title=f"{facts.label}: {begin:%a %d %b %Y}, requests/s per minute (UTC)",
        xlabel="hour (UTC)",
        ylabel="requests/s",
        xlim=(0, 24),
    )
    panel.set_xticks(range(0, 25, 2))
