"""The adverse-impact report for the terminal (Rich tables) and as a PNG (matplotlib, Agg)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from bots.report_chart import ChartUnavailable
from core.fairness import FOUR_FIFTHS, CategoryReport, FairnessReport, GroupRow, Standing

if TYPE_CHECKING:
    from bots.app import App

WIDTH = 110  # the tables need this much; a narrower terminal wraps them
COLOURS = {"reference": "#2f6f9f", "judged": "#6fa8dc", "flagged": "#cc4125",
           "unjudged": "#cccccc"}


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _ratio(row: GroupRow) -> str:
    if row.standing is Standing.TOO_FEW:
        return "too few to judge"
    if row.standing in (Standing.PREFER_NOT, Standing.NO_ANSWER):
        return "not judged"
    if row.ratio is None:
        return "-"
    if row.standing is Standing.REFERENCE:
        return f"{row.ratio:.2f} reference"
    return f"{row.ratio:.2f}" + (" ⚑ < 0.80" if row.flagged else "")


def _p(row: GroupRow) -> str:
    return "-" if row.p_value is None else f"{row.p_value:.3g}"


def category_table(report: FairnessReport, category: CategoryReport) -> Table:
    table = Table(title=category.label, title_justify="left")
    table.add_column("group", no_wrap=True)
    stages = ["invited", "started", "completed", "advanced"]
    if report.has_knockouts:
        stages.insert(3, "screened_out")
    for name in stages:
        header = name.replace("_", " ")
        table.add_column(header, justify="right", min_width=len(header))
    table.add_column("rate", justify="right", min_width=6)
    table.add_column("impact ratio", justify="right", no_wrap=True)
    table.add_column("p", justify="right", no_wrap=True)
    for row in category.rows:
        counts = [str(getattr(row, name)) for name in stages]
        style = "bold red" if row.flagged else "dim" if row.standing in (
            Standing.PREFER_NOT, Standing.NO_ANSWER) else None
        table.add_row(row.group, *counts, _rate(row.rate), _ratio(row), _p(row), style=style)
    return table


def print_fairness(console: Console, report: FairnessReport) -> None:
    """One table per category, then how to read them."""
    console.print(f"[bold]Adverse impact · {report.title} ({report.script_id})[/]")
    if not report.categories:
        console.print("This script has no self_id block: there are no groups to compare.")
    for category in report.categories:
        console.print(category_table(report, category))
    console.print(
        f"{report.respondents} candidates answered the voluntary survey. Rate: advanced / "
        f"completed. Impact ratio: a group's "
        f"selection rate over the highest rate among groups with at least {report.min_group} "
        f"completed interviews; under {FOUR_FIFTHS:.2f} is flagged (four-fifths rule). "
        f"p: {report.test}. \"Prefer not to say\" and \"No answer\" are counted, not judged.",
        highlight=False)
    console.print(f"Adjustments on request: {report.accommodation_requests} requested, "
                  f"{report.accommodations_approved} approved.", highlight=False)


def _colour(row: GroupRow) -> str:
    if row.standing is Standing.REFERENCE:
        return COLOURS["reference"]
    if row.flagged:
        return COLOURS["flagged"]
    return COLOURS["judged"] if row.standing is Standing.JUDGED else COLOURS["unjudged"]


def draw_fairness_chart(report: FairnessReport, path: Path) -> None:
    """Selection rate per group, one panel per category, with the four-fifths line of each."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ChartUnavailable("--chart needs matplotlib: pip install matplotlib") from exc

    panels = max(1, len(report.categories))
    figure = Figure(figsize=(6 * panels, 4.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes_list = figure.subplots(1, panels, squeeze=False)[0]
    figure.suptitle(f"Selection rate by group · {report.title} ({report.script_id})",
                    fontsize=13, fontweight="bold")
    for axes, category in zip(axes_list, report.categories, strict=False):
        rows = list(category.rows)
        labels = [r.group for r in rows]
        rates = [100 * (r.rate or 0.0) for r in rows]
        axes.barh(labels, rates, color=[_colour(r) for r in rows])
        axes.invert_yaxis()
        axes.set_title(category.label)
        axes.set_xlabel("advanced / completed (%)")
        axes.set_xlim(0, 110)
        reference = next((r for r in rows if r.standing is Standing.REFERENCE), None)
        if reference is not None and reference.rate:
            line = 100 * reference.rate * FOUR_FIFTHS
            axes.axvline(line, color="#444444", linestyle="--", linewidth=1,
                         label="4/5 of the reference rate")
            axes.legend(loc="lower right", frameon=False, fontsize=8)
        for y, row in enumerate(rows):
            note = _ratio(row) if row.standing is not Standing.JUDGED else (
                f"ratio {row.ratio:.2f}, p {_p(row)}" if row.ratio is not None else "-")
            axes.text(rates[y] + 1, y, f"{row.advanced}/{row.completed} · {note}",
                      va="center", fontsize=8)
        axes.spines[["top", "right"]].set_visible(False)
    if not report.categories:
        axes_list[0].text(0.5, 0.5, "no self_id block: no groups", ha="center")
    figure.savefig(path, format="png")


def fairness_command(app: App, script_id: str, fmt: str, chart: Path | None,
                     min_group: int) -> None:
    """`interviewbot report SCRIPT --fairness`: read, then print a table or JSON, and draw."""
    from bots.cli import emit_report, fail, out, script_or_fail
    from core.fairness import read_fairness

    try:
        if min_group < 1:
            raise fail(f"--min-group must be at least 1, not {min_group}")
        script = script_or_fail(app, script_id)  # retired scripts too, like `report`
        with app.services.uow() as uow:
            report = read_fairness(script, uow, min_group=min_group)
    finally:
        app.db.dispose()
    emit_report(report, fmt, chart, draw_fairness_chart,
                partial(print_fairness, Console(width=max(out.width, WIDTH))))
