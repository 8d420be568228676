"""The funnel report as a chart (PNG, SVG or PDF by the file's suffix): funnel bars and
per-step drop-off (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

from core.report import FunnelReport

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
COLOURS = {"funnel": "#2f6f9f", "open": "#9fc5e8", "expired": "#e69138", "withdrawn": "#cc4125"}


class ChartUnavailable(RuntimeError):
    """matplotlib is not installed."""


def _step_label(label: str, question: str, width: int = 30) -> str:
    if not question:
        return label
    short = question if len(question) <= width else question[:width - 1].rstrip() + "…"
    return f"{label}: {short}"


def chart_format(path: Path) -> str:
    """The chart format a file name asks for; ValueError for any other suffix."""
    found = FORMATS.get(path.suffix.lower())
    if found is None:
        raise ValueError(f"--chart {path}: the file name must end in .png, .svg or .pdf")
    return found


def draw_chart(report: FunnelReport, path: Path) -> None:
    """Write the funnel (left) and where people stop (right) to `path`, in the format its
    suffix names (.png, .svg, .pdf)."""
    fmt = chart_format(path)
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ChartUnavailable("--chart needs matplotlib, which is not installed: "
                               "pip install 'interviewbot[charts]'") from exc

    figure = Figure(figsize=(11, 4.8), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    funnel, drop = figure.subplots(1, 2, width_ratios=(1, 1.15))
    figure.suptitle(f"{report.title} ({report.script_id})", fontsize=13, fontweight="bold")

    names = [s.name for s in report.stages]
    counts = [s.count for s in report.stages]
    bars = funnel.barh(names, counts, color=COLOURS["funnel"])
    funnel.invert_yaxis()
    funnel.set_title("Funnel")
    funnel.set_xlabel("interviews")
    top = max(counts, default=0) or 1
    funnel.set_xlim(0, top * 1.3)
    for bar, stage in zip(bars, report.stages, strict=True):
        funnel.text(bar.get_width() + top * 0.02, bar.get_y() + bar.get_height() / 2,
                    f"{stage.count} ({stage.percent:.0f}%)", va="center", fontsize=10)

    labels = [_step_label(d.label, d.question) for d in report.drop_off]
    left = [0] * len(labels)
    for part in ("open", "expired", "withdrawn"):
        values = [getattr(d, part) for d in report.drop_off]
        drop.barh(labels, values, left=left, color=COLOURS[part], label=part)
        left = [a + b for a, b in zip(left, values, strict=True)]
    drop.invert_yaxis()
    drop.set_title("Where people stop")
    drop.set_xlabel("interviews not completed")
    widest = max(left, default=0) or 1
    drop.set_xlim(0, widest * 1.25)
    for y, total in enumerate(left):
        if total:
            drop.text(total + widest * 0.02, y, str(total), va="center", fontsize=10)
    drop.xaxis.get_major_locator().set_params(integer=True)
    funnel.xaxis.get_major_locator().set_params(integer=True)
    drop.legend(loc="best", frameon=False)
    for axes in (funnel, drop):
        axes.spines[["top", "right"]].set_visible(False)
    figure.savefig(path, format=fmt)
