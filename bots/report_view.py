"""The funnel report as Rich tables for the terminal."""

from __future__ import annotations

from datetime import timedelta

from rich.console import Console
from rich.table import Table

from core.durations import format_duration
from core.report import FunnelReport, Timing

BAR_WIDTH = 20


def _bar(percent: float) -> str:
    return "█" * round(percent / 100 * BAR_WIDTH)


def duration(seconds: float | None) -> str:
    """A compact duration such as 13h or 3d17h; "-" when there is none."""
    return "-" if seconds is None else format_duration(timedelta(seconds=seconds))


def _timing(t: Timing, what: str) -> str:
    if not t.count:
        return f"- (none {what})"
    return f"median {duration(t.median)} · p90 {duration(t.p90)} ({t.count} {what})"


def funnel_table(report: FunnelReport) -> Table:
    table = Table(title=f"Funnel · {report.title} ({report.script_id})", title_justify="left")
    table.add_column("stage")
    table.add_column("count", justify="right")
    table.add_column("% of invited", justify="right")
    table.add_column("", no_wrap=True)
    for stage in report.stages:
        table.add_row(stage.name, str(stage.count), f"{stage.percent:.1f}%", _bar(stage.percent))
    return table


def drop_off_table(report: FunnelReport) -> Table:
    table = Table(title="Where people stop (not completed)", title_justify="left")
    table.add_column("step", no_wrap=True, min_width=10)
    table.add_column("question", no_wrap=True, overflow="ellipsis", max_width=24)
    for name in ("stopped", "open", "expired", "withdrawn"):
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
    for d in report.drop_off:
        table.add_row(d.label, d.question, str(d.total), str(d.open), str(d.expired),
                      str(d.withdrawn))
    return table


def numbers_table(report: FunnelReport) -> Table:
    table = Table(title="Timings, reviews and experience", title_justify="left", show_header=False)
    table.add_column("metric")
    table.add_column("value")
    table.add_row("time to complete", _timing(report.time_to_complete, "completed"))
    per = report.reminders_per_completion
    table.add_row("reminders sent", f"{report.reminders_sent}" + (
        f" ({per:.2f} per completion)" if per is not None else ""))
    table.add_row("reviewer turnaround", _timing(report.reviewer_turnaround, "reviewed"))
    table.add_row("time to outcome", _timing(report.time_to_outcome, "told"))
    xp = report.experience
    if xp.mean is None:
        table.add_row("candidate experience", "- (no ratings)")
    else:
        spread = " · ".join(f"{k}★ {v}" for k, v in xp.distribution.items())
        table.add_row("candidate experience", f"{xp.mean:.2f} / 5 from {xp.count}: {spread}")
    agreement = report.agreement
    alpha = "-" if agreement.alpha is None else f"{agreement.alpha:.3f}"
    table.add_row("rater agreement",
                  f"Krippendorff α {alpha} (interval, {agreement.units} items, "
                  f"{agreement.ratings} ratings)")
    if len(report.languages) > 1 or any(lang != "en" for lang in report.languages):
        table.add_row("languages", " · ".join(f"{lang} {n}" for lang, n in
                                               report.languages.items()))
    if report.erased:
        table.add_row("erased", f"{report.erased} (counted in the funnel by their timestamps)")
    return table


def print_report(console: Console, report: FunnelReport) -> None:
    """Print the three tables."""
    console.print(funnel_table(report))
    console.print(drop_off_table(report))
    console.print(numbers_table(report))
