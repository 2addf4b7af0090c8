"""The SLO verdict as CI logs print it: one line per target a run missed.

:func:`~abcsim.results.slo.check_slos` gives the numbers (a :class:`Breach`
per missed or unverifiable target); this is how they read, e.g. for a replay
of the ABC week's busiest hour against a slow staging system::

    SLO breached: data_collection P95 612 ms > 500 ms
    SLO breached: error rate 2.35% > 1.00%
    SLO unverified: risk_analysis P95: no samples (target 2000 ms)

A figure just over its target gets the decimals that tell the two apart
(``500.2 ms > 500.0 ms``), never a line claiming ``500 ms > 500 ms``.
"""

from __future__ import annotations

from collections.abc import Sequence

from abcsim.results.slo import Breach


def _pair(figure: float, threshold: float, least: int) -> tuple[str, str]:
    """The two numbers with the fewest decimals (from ``least``) that tell them apart."""
    for digits in range(least, least + 3):
        a, b = f"{figure:.{digits}f}", f"{threshold:.{digits}f}"
        if a != b:
            return a, b
    return f"{figure:.{least + 3}f}", f"{threshold:.{least + 3}f}"


def format_breaches(breaches: Sequence[Breach]) -> list[str]:
    """One line per breach, e.g. ``SLO breached: data_collection P95 612 ms > 500 ms``."""
    lines = []
    for b in breaches:
        unit = "%" if b.unit == "%" else f" {b.unit}"
        least = 2 if b.unit == "%" else 0
        if b.unverified:
            target = f"{b.threshold:.{least}f}"
            lines.append(f"SLO unverified: {b.what}: no samples (target {target}{unit})")
        else:
            figure, threshold = _pair(b.figure, b.threshold, least)
            lines.append(f"SLO breached: {b.what} {figure}{unit} > {threshold}{unit}")
    return lines
