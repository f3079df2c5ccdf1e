"""Figures of an evaluation: what a proxy study shows as evidence, drawn with matplotlib.

Every function takes an :class:`~zsbench.engine.evaluation.EvaluationResult` (its per-architecture
``scores`` and per-proxy ``summary``, so nothing is recomputed) and returns a
:class:`matplotlib.figure.Figure`; :func:`save` writes it as PNG, SVG or PDF. Figures are
built on the object API (no ``pyplot`` state, no interactive backend), so they work in
batch jobs and threads.

Conventions, so that a figure can go into a paper as it is:

- sizes are print sizes: :data:`COLUMN_WIDTH` (one column) and :data:`PAGE_WIDTH` (two
  columns) inches, with 7 to 8 pt text, readable when printed at that size;
- proxies keep the names of ``zsbench proxies`` and the order of the summary; each proxy
  has one colour and marker (and line style) in every figure, whichever proxies are drawn
  beside it (:func:`proxy_styles`: fixed for the first-party proxies, hashed from the name
  for the others), from Paul Tol's colour-blind-safe *muted* palette; the oracle (the true
  accuracy) is black;
- axes say their units: accuracy in %, FLOPs in millions of multiply-accumulates, params in
  millions, depth in weight layers.

Nothing here names an index: budget figures find their entries through the roles each
:class:`~zsbench.Metric` declares (``group``, ``companions``).

Figures: :func:`scatter` (score against accuracy per proxy), :func:`budgets` (best rank
and picked accuracy at each budget level), :func:`costs` (accuracy against the costs),
:func:`indices` (every index with its bootstrap interval and the noise ceiling) and
:func:`picks` (the architecture each proxy picks, drawn as stage blocks).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsbench.errors import UsageError, ZsbenchError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from zsbench.engine.evaluation import EvaluationResult
    from zsbench.plugins import PluginHost

#: Width of one column of a two-column paper, inches.
COLUMN_WIDTH = 3.4
#: Width of a full page of a two-column paper, inches.
PAGE_WIDTH = 7.0
#: Paul Tol's "muted" qualitative palette: distinguishable under the common colour-vision deficiencies.
PALETTE = ("#332288", "#88CCEE", "#44AA99", "#117733", "#999933", "#DDCC77", "#CC6677", "#882255", "#AA4499")
#: Markers that, crossed with :data:`PALETTE`, give every proxy of a large study its own style
#: (each marker comes with the line style of the same position in :data:`LINESTYLES`).
MARKERS = ("o", "s", "^", "D")
LINESTYLES = ("-", "--", ":", "-.")
ORACLE_COLOR = "#000000"
#: File formats :func:`save` writes.
FORMATS = (".png", ".svg", ".pdf")
DEFAULT_DPI = 200

COST_UNITS = {
    "flops": ("FLOPs (M MACs)", 1e-6),
    "params": ("params (M)", 1e-6),
    "depth": ("depth (weight layers)", 1.0),
}

_STYLE = {
    "font.size": 7.5,
    "axes.titlesize": 7.5,
    "axes.labelsize": 7.5,
    "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5,
    "legend.fontsize": 6.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.0,
    "lines.markersize": 3.5,
    "savefig.facecolor": "white",
    "figure.facecolor": "white",
}


@dataclass(frozen=True)
class ProxyStyle:
    """How one proxy is drawn in every figure."""

    color: str
    marker: str
    linestyle: str


#: The first-party proxies' fixed (colour, marker) slots, as positions in :data:`PALETTE` and
#: :data:`MARKERS`: the same style in every figure of every study, whatever else is plotted.
#: The usual nine take a colour of their own with circles; the other six share a colour with
#: one of them, told apart by square markers and dashed lines.
FIXED_STYLES: dict[str, tuple[int, int]] = {
    "flops": (0, 0), "synflow": (1, 0), "snip": (2, 0), "grad_norm": (3, 0), "zen": (4, 0),
    "naswot": (5, 0), "jacob_cov": (6, 0), "zico": (7, 0), "ntk": (8, 0),
    "params": (3, 1), "depth": (6, 1), "l2_norm": (4, 1), "fisher": (1, 1), "plain": (7, 1), "grasp": (5, 1),
}  # fmt: skip


def style_slots() -> list[tuple[int, int]]:
    """Every (colour, marker) position pair, markers' first use first: ``len(PALETTE) *
    len(MARKERS)`` distinct styles (36)."""
    return [(colour, marker) for marker in range(len(MARKERS)) for colour in range(len(PALETTE))]


def _hashed_slot(name: str, count: int) -> int:
    """A position in ``range(count)`` from the proxy's name alone (not Python's per-process
    salted ``hash``), so a proxy lands on the same style in every run and on every machine."""
    import hashlib

    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big") % count


def proxy_styles(names: Sequence[str]) -> dict[str, ProxyStyle]:
    """One distinct (colour, marker, line style) per proxy, the same for a proxy in every
    figure whatever other proxies are drawn beside it.

    First-party proxies take their fixed slot (:data:`FIXED_STYLES`); any other proxy takes
    the free slot its name hashes to (:func:`_hashed_slot`). Two such proxies that hash to the
    same slot are resolved in the order of their names, the later one taking the next free
    slot, so a proxy's style can change only when a proxy whose name sorts before it and
    hashes to the same slot joins it. When more than the 21 pairs no first-party proxy owns are
    wanted, the pairs of absent first-party proxies are lent out in order: up to
    ``len(style_slots())`` (36) proxies every style is distinct, beyond that styles repeat
    (there are no more pairs), still deterministically.
    """
    slots = style_slots()
    taken = {FIXED_STYLES[name] for name in names if name in FIXED_STYLES}
    free = [slot for slot in slots if slot not in set(FIXED_STYLES.values())]
    chosen: dict[str, tuple[int, int]] = {name: FIXED_STYLES[name] for name in names if name in FIXED_STYLES}
    for name in sorted(n for n in set(names) if n not in FIXED_STYLES):
        start = _hashed_slot(name, len(free))
        for step in range(len(free)):  # linear probing over the slots no first-party proxy owns
            slot = free[(start + step) % len(free)]
            if slot not in taken:
                break
        else:  # every pair no first-party proxy owns is taken: an absent first-party proxy's, else a repeat
            slot = next((candidate for candidate in slots if candidate not in taken), free[start])
        taken.add(slot)
        chosen[name] = slot
    return {name: ProxyStyle(PALETTE[chosen[name][0]], MARKERS[chosen[name][1]], LINESTYLES[chosen[name][1]]) for name in names}


def new_figure(width: float, height: float) -> Figure:
    """A figure of the given print size (inches) in the house style, with constrained layout.

    The style holds while the figure is built and whenever it is drawn, by whoever draws it
    (``savefig`` of a caller, a notebook): tick labels are made at draw time from the rc
    settings of that moment, and without the style they would come out at 10 pt and be cut.
    """
    import matplotlib as mpl
    from matplotlib.figure import Figure

    class StyledFigure(Figure):
        def draw(self, renderer: Any) -> None:
            with mpl.rc_context(_STYLE):
                super().draw(renderer)

    with mpl.rc_context(_STYLE):
        return StyledFigure(figsize=(width, height), layout="constrained")


def _styled() -> Any:
    import matplotlib as mpl

    return mpl.rc_context(_STYLE)


def save(figure: Figure, path: str | Path, *, dpi: int = DEFAULT_DPI, compact: bool = False) -> Path:
    """Write ``figure`` to ``path``; the suffix (``.png``, ``.svg``, ``.pdf``) picks the format.

    The size is the figure's print size: a PNG is ``width * dpi`` by ``height * dpi`` pixels.
    ``compact`` stores a PNG with a 256-colour palette (a third of the bytes or less; line
    art and text look the same), for figures kept in a repository or sent by mail.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(f"figure file {target.name!r} must end in .png, .svg or .pdf")
    target.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"Software": None} if suffix == ".png" else {}
    with _styled():
        if suffix == ".png" and compact:
            import io

            from PIL import Image

            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=dpi, metadata=metadata)
            buffer.seek(0)
            with Image.open(buffer) as image:
                image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
        else:
            figure.savefig(target, dpi=dpi, metadata=metadata)
    return target


def _suptitle(figure: Figure, text: str) -> Any:
    """The figure's title, wrapped at spaces to the figure's width: constrained layout makes
    room for a title's height, not its width, and a long one (a long benchmark name, a count
    of candidates) would run off both edges. Lines of ``text`` are kept; each is wrapped
    on its own."""
    from matplotlib.backends.backend_agg import RendererAgg

    title = figure.suptitle(text)
    # measured as Agg draws it at 72 dpi (one pixel a point): hinting makes text widest at low resolutions
    measure = RendererAgg(8, 8, 72)
    properties = title.get_fontproperties()
    room = (figure.get_figwidth() - 0.25) * 72.0  # points, less a margin at each edge

    def width(line: str) -> float:
        return float(measure.get_text_width_height_descent(line, properties, ismath=False)[0])

    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            candidate = f"{current} {word}" if current else word
            if current and width(candidate) > room:
                lines.append(current)
                current = word
            else:
                current = candidate
        lines.append(current)
    title.set_text("\n".join(lines))
    return title


# -- helpers over a result ---------------------------------------------------------------------


def proxy_names(result: EvaluationResult, proxies: Sequence[str] | None = None) -> list[str]:
    """The proxies of ``result`` in its summary's order, or the chosen ones (checked)."""
    known = [str(p) for p in result.summary["proxy"]]
    if proxies is None:
        return known
    unknown = [p for p in proxies if p not in known]
    if unknown:
        raise UsageError(f"proxy {unknown[0]!r} is not in this result; it has {', '.join(known)}")
    return [p for p in known if p in proxies]


def score_values(result: EvaluationResult, proxy: str) -> np.ndarray:
    """A proxy's per-architecture scores (NaN where it failed)."""
    from zsbench.engine.evaluation import score_column

    return result.scores[score_column(proxy)].to_numpy(dtype=float)


def proxy_orientation(names: Sequence[str], host: PluginHost | None = None) -> dict[str, bool]:
    """``higher_is_better`` of each named proxy from the plugin registry (True when unknown,
    e.g. a proxy of a plugin that is no longer installed)."""
    from zsbench.plugins import get_host

    host = host if host is not None else get_host()
    orientation = {}
    for name in names:
        bare = name.split(":", 1)[-1]
        try:
            orientation[name] = bool(host.proxies.get(name if name in host.proxies else bare).higher_is_better)
        except (KeyError, ZsbenchError):
            orientation[name] = True
    return orientation


def _summary_row(result: EvaluationResult, proxy: str) -> dict[str, Any]:
    rows = result.summary[result.summary["proxy"] == proxy].to_dict(orient="records")
    return rows[0] if rows else {}


def _rank_correlation(result: EvaluationResult, proxy: str, higher_is_better: bool) -> float:
    """Spearman's rho of the proxy's oriented scores with accuracy (failed scores left out)."""
    import numpy as np
    from scipy import stats

    x = score_values(result, proxy) * (1.0 if higher_is_better else -1.0)
    y = result.scores["accuracy"].to_numpy(dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3 or np.ptp(x[keep]) == 0 or np.ptp(y[keep]) == 0:
        return float("nan")
    return float(stats.spearmanr(x[keep], y[keep]).statistic)


def _missing(value: Any) -> bool:
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def _grid(count: int, max_columns: int = 4) -> tuple[int, int]:
    columns = min(max_columns, max(1, count))
    return math.ceil(count / columns), columns


def _axis_scale(values: np.ndarray) -> str:
    """``log`` for positive scores spread over more than three decades (synflow-like
    products), ``symlog`` for such spreads of mixed sign, else ``linear``."""
    import numpy as np

    finite = values[np.isfinite(values)]
    if finite.size < 2:
        return "linear"
    magnitude = np.abs(finite[finite != 0])
    if magnitude.size < 2 or magnitude.max() / magnitude.min() < 1e3:
        return "linear"
    # a few extreme values must not squash the bulk: judge the spread on the central 98 %
    low, high = np.percentile(magnitude, [1, 99])
    if low <= 0 or high / low < 1e3:
        return "linear"
    return "log" if finite.min() > 0 else "symlog"


def _symlog_ticks(values: np.ndarray, linthresh: float, most: int = 2) -> list[float]:
    """At most ``most`` decades per sign, the largest first and evenly skipped, none within
    a decade of the linear region (their labels would run into 0's), plus 0: a symlog axis's
    default ticks (every decade) overlap over a wide range."""
    import numpy as np

    floor = int(np.floor(np.log10(linthresh))) + 1
    ticks: list[float] = []
    for sign in (-1.0, 1.0):
        side = values[values * sign > 0] * sign
        if side.size == 0:
            continue
        high = int(np.floor(np.log10(side.max())))
        low = max(int(np.floor(np.log10(side.min()))), floor)
        if high < low:
            continue
        step = max(1, int(np.ceil((high - low + 1) / most)))
        ticks += [sign * 10.0**k for k in range(high, low - 1, -step)]
    if values.min() <= 0 <= values.max():
        ticks.append(0.0)
    return sorted(ticks)


def _hide_unused(axes: Sequence[Axes], used: int) -> None:
    for ax in axes[used:]:
        ax.set_visible(False)


# -- scatter -------------------------------------------------------------------------------------


def scatter(
    result: EvaluationResult,
    proxies: Sequence[str] | None = None,
    *,
    host: PluginHost | None = None,
    max_columns: int = 4,
) -> Figure:
    """Score against true accuracy, one panel per proxy, Spearman's rho in each title
    (the paper's Figure 3). Scores spread over many decades get a log axis (said on the axis)."""
    import numpy as np
    from matplotlib.ticker import FixedLocator, LogFormatterSciNotation, LogLocator, MaxNLocator, NullLocator

    names = proxy_names(result, proxies)
    if not names:
        raise UsageError("no proxy to plot")
    orientation = proxy_orientation(names, host)
    styles = proxy_styles(proxy_names(result))
    rows, columns = _grid(len(names), max_columns)
    width = PAGE_WIDTH if columns > 2 else COLUMN_WIDTH
    figure = new_figure(width, 0.4 + 1.55 * rows)
    accuracy = result.scores["accuracy"].to_numpy(dtype=float)
    with _styled():
        axes = figure.subplots(rows, columns, squeeze=False).ravel()
        for position, (ax, name) in enumerate(zip(axes, names, strict=False)):
            x = score_values(result, name)
            keep = np.isfinite(x) & np.isfinite(accuracy)
            scale = _axis_scale(x[keep])
            ax.scatter(x[keep], accuracy[keep], s=3, alpha=0.45, linewidths=0, color=styles[name].color, rasterized=True)
            if scale == "symlog":
                magnitude = np.abs(x[keep][x[keep] != 0])
                linthresh = float(np.percentile(magnitude, 10))
                ax.set_xscale("symlog", linthresh=linthresh)
                ax.xaxis.set_major_locator(FixedLocator(_symlog_ticks(x[keep], linthresh)))
                ax.xaxis.set_major_formatter(LogFormatterSciNotation(labelOnlyBase=False, linthresh=linthresh))
                ax.xaxis.set_minor_locator(NullLocator())
            elif scale == "log":
                ax.set_xscale("log")
                ax.xaxis.set_major_locator(LogLocator(numticks=4))
            rho = _rank_correlation(result, name, orientation[name])
            arrow = "" if orientation[name] else " (lower is better)"
            ax.set_title(f"{name}: ρ = {_format(rho, 2)}{arrow}", loc="left")
            ax.set_xlabel("score" + ("" if scale == "linear" else f" ({scale} scale)"), labelpad=1)
            if position % columns == 0:
                ax.set_ylabel("accuracy (%)")
            ax.tick_params(axis="x", labelrotation=0)
            if scale == "linear":
                ax.xaxis.set_major_locator(MaxNLocator(3))
        _hide_unused(axes, len(names))
        _suptitle(figure, f"{result.benchmark}: proxy score against test accuracy ({result.archs} architectures)")
    return figure


def _format(value: float, digits: int) -> str:
    return "n/a" if _missing(value) else f"{float(value):.{digits}f}"


# -- costs ---------------------------------------------------------------------------------------


def costs(result: EvaluationResult, kinds: Sequence[str] = ("flops", "params", "depth")) -> Figure:
    """Test accuracy against each cost (the paper's Figure 2), so a space's range of FLOPs,
    params and depth and the accuracy it reaches are visible; the most accurate
    architecture is marked."""
    import numpy as np

    kinds = [k for k in kinds if k in result.scores.columns and np.isfinite(result.scores[k].to_numpy(float)).any()]
    if not kinds:
        raise ZsbenchError("this result has no cost column with values (flops, params, depth)")
    figure = new_figure(PAGE_WIDTH, 2.2)
    accuracy = result.scores["accuracy"].to_numpy(dtype=float)
    best = int(np.nanargmax(accuracy))
    with _styled():
        axes = figure.subplots(1, len(kinds), squeeze=False, sharey=True).ravel()
        for position, (ax, kind) in enumerate(zip(axes, kinds, strict=True)):
            label, factor = COST_UNITS.get(kind, (kind, 1.0))
            cost = result.scores[kind].to_numpy(dtype=float) * factor
            keep = np.isfinite(cost) & np.isfinite(accuracy)
            ax.scatter(cost[keep], accuracy[keep], s=3, alpha=0.4, linewidths=0, color=PALETTE[0], rasterized=True)
            ax.scatter(
                [cost[best]],
                [accuracy[best]],
                s=30,
                marker="*",
                color=PALETTE[6],
                zorder=3,
                label=f"most accurate ({accuracy[best]:.1f} %)",
            )
            ax.set_xlabel(label)
            unit = label.split("(", 1)[1].rstrip(")") if "(" in label else ""
            span = f"range {np.nanmin(cost[keep]):.3g} to {np.nanmax(cost[keep]):.3g} {unit}".rstrip()
            ax.set_title(span, loc="left")
            if position == 0:
                ax.set_ylabel("test accuracy (%)")
                ax.legend(loc="lower right", frameon=False)
        _suptitle(figure, f"{result.benchmark}: accuracy against cost ({result.archs} architectures)")
    return figure


# -- budgets -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetSeries:
    """What a budget index (one whose metric declares ``group = "budget"``) reports per
    budget level, found through the roles its metric declares (no key format is assumed).

    Attributes:
        index: the index's name.
        levels: the budget levels' labels, as the index names them (e.g. ``20%``).
        picks: summary column of the pick's accuracy at each level (role ``pick``).
        ranks: summary column of the pick's best rank at each level (the ``detail``
            companion that has one entry per level), or ``None``.
        cost: the cost the index constrains (the metric's ``cost_column``), when it says.
    """

    index: str
    levels: tuple[str, ...]
    picks: tuple[str, ...]
    ranks: tuple[str, ...] | None
    cost: str | None


def budget_series(result: EvaluationResult, host: PluginHost | None = None) -> list[BudgetSeries]:
    """The budget indices of ``result`` in its index order (see :class:`BudgetSeries`)."""
    from zsbench.plugins import get_host

    host = host if host is not None else get_host()
    labels = getattr(result, "entry_labels", {}) or {}
    found = []
    for name in result.index_names:
        if name not in host.metrics:
            continue
        metric = host.metrics.get(name)
        if getattr(metric, "group", "") != "budget":
            continue
        picks = [c for c, (index, role) in result.entry_roles.items() if index == name and role == "pick"]
        if not picks:
            continue
        levels = tuple(labels.get(c, c) for c in picks)
        # the per-level best rank: the detail companion labelled like the picks, one per level
        details = [c for c, (index, role) in result.entry_roles.items() if index == name and role == "detail"]
        by_label: dict[str, list[str]] = {}
        for column in details:
            by_label.setdefault(labels.get(column, ""), []).append(column)
        ranks = tuple(by_label[level][0] for level in levels) if all(len(by_label.get(lv, ())) == 1 for lv in levels) else None
        cost = getattr(metric, "cost_column", None)
        found.append(BudgetSeries(name, levels, tuple(picks), ranks, cost))
    return found


def oracle_picks(result: EvaluationResult, series: BudgetSeries, host: PluginHost | None = None) -> list[float]:
    """The oracle's accuracy at each budget level: the index computed with the true accuracy
    as the score (with the run's options for the index), so it picks the best architecture
    under every budget by the index's own rules."""
    import numpy as np

    from zsbench.interfaces import MetricInput
    from zsbench.plugins import get_host
    from zsbench.tables import COST_COLUMNS

    host = host if host is not None else get_host()
    metric = host.metrics.get(series.index)
    options = dict(result.settings.get("metric_options", {}).get(series.index) or metric.default_options())
    accuracy = result.scores["accuracy"].to_numpy(dtype=float)
    data = MetricInput(
        scores=accuracy,
        accuracy=accuracy,
        higher_is_better=True,
        costs=result.scores[list(COST_COLUMNS)].reset_index(drop=True),
        options=options,
    )
    values = metric.compute(data)
    return [float(values.get(column, np.nan)) for column in series.picks]


def budgets(
    result: EvaluationResult,
    proxies: Sequence[str] | None = None,
    *,
    indices: Sequence[str] | None = None,
    host: PluginHost | None = None,
) -> Figure:
    """For each budget index (mBR under FLOPs, params, depth): the best rank BR of each
    proxy's pick at each budget level as an annotated heat map (0 = it picked the best
    architecture under the budget), and the accuracy of its pick against the oracle's (the
    best accuracy under the budget) as the reference line (the paper's Figures 4 to 6)."""
    import numpy as np

    names = proxy_names(result, proxies)
    available = budget_series(result, host)
    chosen = [s for s in available if indices is None or s.index in indices]
    if not chosen:
        raise ZsbenchError(
            "this result has no budget index with per-budget picks (an index of group 'budget', e.g. mbr_flops); "
            "evaluate with --metrics 'mbr*'"
        )
    styles = proxy_styles(proxy_names(result))
    height_per_row = max(2.4, 0.6 + 0.14 * len(names))
    figure = new_figure(PAGE_WIDTH, 0.5 + height_per_row * len(chosen))
    with _styled():
        axes = figure.subplots(len(chosen), 2, squeeze=False, width_ratios=[1.0, 1.15])
        for row, series in enumerate(chosen):
            positions = np.arange(len(series.levels))
            cost_label = COST_UNITS[series.cost][0].split(" (")[0] if series.cost in COST_UNITS else None
            budget_label = f"budget (share of the pool's {cost_label} range)" if cost_label else "budget level"
            heat_ax, line_ax = axes[row]
            _budget_heat(heat_ax, result, series, names, budget_label)
            for name in names:
                style = styles[name]
                picked = [_summary_row(result, name).get(c, np.nan) for c in series.picks]
                line_ax.plot(positions, picked, color=style.color, marker=style.marker, linestyle=style.linestyle, label=name, markersize=3)
            try:
                oracle = oracle_picks(result, series, host)
            except Exception:  # an index that cannot score the oracle only loses the reference line
                oracle = None
            if oracle is not None:
                # dashed and on top: a proxy that picks as well as the oracle shows between the dashes
                line_ax.plot(
                    positions,
                    oracle,
                    color=ORACLE_COLOR,
                    linewidth=1.4,
                    linestyle=(0, (4, 2)),
                    label="oracle (best under budget)",
                    zorder=5,
                )
            line_ax.set_xticks(positions, series.levels)
            line_ax.set_xlabel(budget_label)
            line_ax.set_ylabel("accuracy of the pick (%)")
            line_ax.set_title(f"{cost_label or series.index} budgets: accuracy of the pick", loc="left")
            line_ax.grid(axis="y", linewidth=0.3, alpha=0.5)
            if row == 0:
                line_ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, handlelength=2.2)
        _suptitle(figure, f"{result.benchmark}: constrained search ({result.archs} architectures; BR 0 = the best under the budget)")
    return figure


def _budget_heat(heat_ax: Axes, result: EvaluationResult, series: Any, names: list[str], budget_label: str) -> None:
    """The heat map of each proxy's best rank BR at each budget level (hidden for an index without ranks)."""
    import numpy as np
    from matplotlib import colors

    if series.ranks is None:
        heat_ax.set_visible(False)
        return
    positions = np.arange(len(series.levels))
    br = np.array([[_summary_row(result, n).get(c, np.nan) for c in series.ranks] for n in names], dtype=float)
    top = max(0.05, float(np.nanmax(br))) if np.isfinite(br).any() else 1.0
    heat_ax.imshow(br, aspect="auto", cmap="viridis_r", norm=colors.Normalize(0, top))
    threshold = 0.5 * top
    for i in range(len(names)):
        for j in range(len(series.levels)):
            if np.isfinite(br[i, j]):
                heat_ax.text(
                    j,
                    i,
                    f"{br[i, j]:.2f}",
                    ha="center",
                    va="center",
                    fontsize=5.5,
                    color="white" if br[i, j] > threshold else "black",
                )
    heat_ax.set_xticks(positions, series.levels)
    heat_ax.set_yticks(range(len(names)), names)
    heat_ax.spines[:].set_visible(False)
    heat_ax.tick_params(length=0)
    heat_ax.set_title(f"{series.index}: BR of each pick", loc="left")
    heat_ax.set_xlabel(budget_label)


# -- indices -------------------------------------------------------------------------------------


def index_orientation(names: Sequence[str], host: PluginHost | None = None) -> dict[str, bool | None]:
    """``higher_is_better`` of each index from the plugin registry (None when unknown)."""
    from zsbench.plugins import get_host

    host = host if host is not None else get_host()
    return {n: (bool(host.metrics.get(n).higher_is_better) if n in host.metrics else None) for n in names}


def indices(
    result: EvaluationResult,
    proxies: Sequence[str] | None = None,
    *,
    names: Sequence[str] | None = None,
    host: PluginHost | None = None,
    sort_by: str | None = None,
    max_columns: int = 4,
) -> Figure:
    """Every proxy's value of each index with its bootstrap interval as an error bar, one
    panel per index; the benchmark's noise ceiling (the rank correlation between two
    trainings of the same networks) is drawn on the indices it is known for.

    Proxies are listed in the order of ``sort_by`` (default: the first headline index,
    see :attr:`zsbench.Metric.headline`, else the first index), best first, in every panel.
    """
    import numpy as np

    chosen = [n for n in (names or result.index_names) if n in result.summary.columns]
    if not chosen:
        raise ZsbenchError("this result has no index values to plot")
    proxy_list = proxy_names(result, proxies)
    orientation = index_orientation(chosen, host)
    key = sort_by or next((n for n in chosen if _headline(n, host)), chosen[0])
    if key not in result.summary.columns:
        raise UsageError(f"cannot sort by {key!r}: the result has {', '.join(chosen)}")
    values = {p: _summary_row(result, p).get(key, np.nan) for p in proxy_list}
    reverse = orientation.get(key) is not False
    ordered = sorted(proxy_list, key=lambda p: (_missing(values[p]), -values[p] if reverse else values[p]))
    styles = proxy_styles(proxy_names(result))
    rows, columns = _grid(len(chosen), max_columns)
    figure = new_figure(PAGE_WIDTH, 0.55 + max(1.8, 0.3 + 0.13 * len(ordered)) * rows)
    ceiling = result.noise_ceiling or {}
    with _styled():
        axes = figure.subplots(rows, columns, squeeze=False, sharey=True).ravel()
        positions = np.arange(len(ordered))[::-1]
        for ax, name in zip(axes, chosen, strict=False):
            for y, proxy in zip(positions, ordered, strict=True):
                record = _summary_row(result, proxy)
                value = record.get(name, np.nan)
                low, high = record.get(f"{name}/ci_low", np.nan), record.get(f"{name}/ci_high", np.nan)
                if _missing(value):
                    continue
                error = None
                if not (_missing(low) or _missing(high)):
                    error = [[max(0.0, value - low)], [max(0.0, high - value)]]
                ax.errorbar(
                    [value],
                    [y],
                    xerr=error,
                    fmt=styles[proxy].marker,
                    color=styles[proxy].color,
                    markersize=3.5,
                    elinewidth=0.9,
                    capsize=1.5,
                )
            limit = ceiling.get(name)
            if limit is not None and not _missing(limit):
                ax.axvline(float(limit), color=ORACLE_COLOR, linestyle="--", linewidth=0.9)
                # in a row of its own above the proxies, so it never covers a point
                ax.text(float(limit), len(ordered) - 0.35, "noise ceiling ", fontsize=5.5, va="center", ha="right")
            if _group(name, host) == "correlation":
                ax.axvline(0.0, color="#BBBBBB", linewidth=0.6, zorder=0)
            better = {True: "higher is better", False: "lower is better"}.get(orientation.get(name), "")
            ax.set_title(name + (f"\n({better})" if better else ""), loc="left")
            ax.grid(axis="x", linewidth=0.3, alpha=0.5)
            ax.set_yticks(positions, ordered)
            ax.set_ylim(-0.7, len(ordered) + (0.2 if ceiling else -0.3))
        _hide_unused(axes, len(chosen))
        _suptitle(figure, f"{result.benchmark}: indices with bootstrap intervals ({result.archs} architectures; proxies ordered by {key})")
    return figure


def _headline(name: str, host: PluginHost | None) -> bool:
    """Whether an index declares itself a headline one (see :attr:`zsbench.Metric.headline`)."""
    from zsbench.plugins import get_host

    host = host if host is not None else get_host()
    return bool(getattr(host.metrics.get(name), "headline", False)) if name in host.metrics else False


def _group(name: str, host: PluginHost | None) -> str:
    """The family an index declares (``correlation``, ``budget``, ...), empty when unknown."""
    from zsbench.plugins import get_host

    host = host if host is not None else get_host()
    return str(getattr(host.metrics.get(name), "group", "")) if name in host.metrics else ""


# -- picks ---------------------------------------------------------------------------------------


def stage_blocks(features: Mapping[str, float]) -> list[tuple[float, float]]:
    """``(output width, depth)`` of each stage from a space's features (``S<i>_out``,
    ``S<i>_depth``), skipping absent stages (depth 0)."""
    stages = []
    position = 1
    while f"S{position}_out" in features and f"S{position}_depth" in features:
        width, depth = float(features[f"S{position}_out"]), float(features[f"S{position}_depth"])
        if depth > 0 and width > 0:
            stages.append((width, depth))
        position += 1
    return stages


def best_picks(result: EvaluationResult, proxies: Sequence[str] | None = None, *, host: PluginHost | None = None) -> dict[str, int]:
    """Row of ``result.scores`` that each proxy ranks first (its oriented best score; ties:
    the first row), and ``oracle``: the most accurate architecture."""
    import numpy as np

    names = proxy_names(result, proxies)
    orientation = proxy_orientation(names, host)
    accuracy = result.scores["accuracy"].to_numpy(dtype=float)
    picks = {"oracle": int(np.nanargmax(accuracy))}
    for name in names:
        oriented = score_values(result, name) * (1.0 if orientation[name] else -1.0)
        if np.isfinite(oriented).any():
            picks[name] = int(np.nanargmax(np.where(np.isfinite(oriented), oriented, -np.inf)))
    return picks


def picks(
    result: EvaluationResult,
    proxies: Sequence[str] | None = None,
    *,
    host: PluginHost | None = None,
    max_columns: int = 4,
) -> Figure:
    """The architecture each proxy ranks first, and the oracle's (the most accurate), drawn
    as a row of blocks, one per stage: a block's height is the stage's output width
    (channels) and its length the stage's depth (the paper's Figure 8). Needs a space whose
    ``features`` give ``S<i>_out`` and ``S<i>_depth`` (the macro spaces)."""
    from matplotlib.patches import Rectangle

    from zsbench.plugins import get_host

    host = host if host is not None else get_host()
    if result.space not in host.spaces:
        raise ZsbenchError(f"space {result.space!r} is not installed; picks needs its features")
    space = host.spaces.get(result.space)
    chosen = best_picks(result, proxies, host=host)
    archs = result.scores["arch"].astype(str).to_numpy()
    drawn = {}
    for name, row in chosen.items():
        blocks = stage_blocks(space.features(space.canonical(archs[row])))
        if not blocks:
            raise ZsbenchError(
                f"space {result.space!r} has no per-stage widths and depths (features S<i>_out, S<i>_depth); "
                "the picks figure needs a macro space"
            )
        drawn[name] = blocks
    width_max = max(w for blocks in drawn.values() for w, _ in blocks)
    length_max = max(sum(d for _, d in blocks) for blocks in drawn.values())
    styles = proxy_styles(proxy_names(result))
    accuracy = result.scores["accuracy"].to_numpy(dtype=float)
    order = ["oracle", *[n for n in chosen if n != "oracle"]]
    rows, columns = _grid(len(order), max_columns)
    figure = new_figure(PAGE_WIDTH, 0.5 + 1.05 * rows)
    with _styled():
        axes = figure.subplots(rows, columns, squeeze=False).ravel()
        for ax, name in zip(axes, order, strict=False):
            color = ORACLE_COLOR if name == "oracle" else styles[name].color
            start = 0.0
            for width, depth in drawn[name]:
                ax.add_patch(Rectangle((start, -width / 2), depth, width, facecolor=color, alpha=0.75, edgecolor="white", linewidth=0.8))
                ax.text(start + depth / 2, width / 2 + width_max * 0.04, f"{int(width)}", ha="center", va="bottom", fontsize=5.5)
                start += depth
            ax.set_xlim(0, length_max * 1.02)
            ax.set_ylim(-width_max * 0.62, width_max * 0.72)
            ax.set_yticks([])
            ax.spines[["left"]].set_visible(False)
            ax.set_title(f"{name}: {accuracy[chosen[name]]:.1f} %", loc="left")
            ax.set_xlabel("depth (blocks)", labelpad=1)
        _hide_unused(axes, len(order))
        _suptitle(
            figure,
            f"{result.benchmark}: the architecture each proxy ranks first, and its test accuracy\n"
            "(one block per stage; height: output width in channels, labelled; length: depth)",
        )
    return figure


# -- analysis figures: agreement, importance, hybrid ----------------------------------------------


def score_table(result: EvaluationResult, proxies: Sequence[str] | None = None, *, host: PluginHost | None = None) -> Any:
    """The :class:`~zsbench.studies.scores.ScoreTable` of ``result`` (the analyses' input), each
    proxy with its declared direction (see :func:`proxy_orientation`)."""
    from zsbench.engine.evaluation import score_column
    from zsbench.studies.scores import ScoreTable

    names = proxy_names(result, proxies)
    orientation = proxy_orientation(names, host)
    directions = {score_column(name): orientation[name] for name in names}
    frame = result.scores.reset_index(drop=True)
    failures = {column: int(frame[column].isna().sum()) for column in directions}
    return ScoreTable(frame=frame, directions=directions, benchmark=result.benchmark, space=result.space, failures=failures)


def _judging_index(host: PluginHost | None, index: str | None) -> Any:
    """The index an analysis figure judges by: ``index``, else the analyses' default (the
    first headline index that picks, see :func:`zsbench.studies.analysis.default_index`)."""
    from zsbench.plugins import get_host
    from zsbench.studies.analysis import default_index

    host = host if host is not None else get_host()
    if index is not None:
        return host.metrics.get(index)
    return default_index(list(host.metrics.select("all")))


def agreement(
    result: EvaluationResult,
    proxies: Sequence[str] | None = None,
    *,
    index: str | None = None,
    host: PluginHost | None = None,
) -> Figure:
    """The paper's Figure 1: each proxy's picks judged by every other ranking, the oracle's
    included. Row A, column B: the index (default: mBR under FLOPs) of A's scores with B's
    oriented scores standing in for the accuracy, so the oracle column is A's own index and a
    low value means B would have been content with A's picks."""
    import numpy as np
    from matplotlib import colors

    from zsbench.studies.analysis import agreement as agreement_matrix

    metric = _judging_index(host, index)
    matrix = agreement_matrix(score_table(result, proxies, host=host), metric, options=_run_options(result, metric))
    names = list(matrix.index)
    values = matrix.to_numpy(dtype=float)
    width = min(PAGE_WIDTH, 2.5 + 0.3 * len(names))
    figure = new_figure(width, width - 0.9)
    with _styled():
        ax = figure.subplots()
        finite = values[np.isfinite(values)]
        top = float(finite.max()) if finite.size else 1.0
        image = ax.imshow(values, cmap="viridis_r", norm=colors.Normalize(0, max(top, 1e-9)))
        for i in range(len(names)):
            for j in range(len(names)):
                if np.isfinite(values[i, j]):
                    ax.text(
                        j, i, f"{values[i, j]:.2f}", ha="center", va="center", fontsize=5,
                        color="white" if values[i, j] > 0.5 * top else "black",
                    )  # fmt: skip
        ax.set_xticks(range(len(names)), names, rotation=90)
        ax.set_yticks(range(len(names)), names)
        ax.set_xlabel("judged by (its ranking stands in for the accuracy)")
        ax.set_ylabel("picks made by")
        ax.spines[:].set_visible(False)
        ax.tick_params(length=0)
        bar = figure.colorbar(image, ax=ax, shrink=0.6, pad=0.02)
        bar.set_label(f"{metric.name} (0 = the judge's own best picks)")
        _suptitle(figure, f"{result.benchmark}: agreement of the picks, {metric.name} ({result.archs} architectures)")
    return figure


def _run_options(result: EvaluationResult, metric: Any) -> dict[str, Any]:
    """The options ``metric`` ran with in ``result`` (its defaults when the result does not say)."""
    return dict((result.settings.get("metric_options") or {}).get(metric.name) or {})


def importance(
    result: EvaluationResult,
    proxies: Sequence[str] | None = None,
    *,
    host: PluginHost | None = None,
    folds: int = 5,
    seed: int = 0,
    max_columns: int = 9,
) -> Figure:
    """The paper's Figure 7 as small multiples: which architecture features drive each
    proxy's score, beside what drives the true accuracy. One panel per target (the oracle,
    i.e. the test accuracy, first), every feature of the space one bar in every panel in the
    space's order, XGBoost gain shares on one scale shared by all panels, so sizes compare
    across panels; each panel's title gives its model's out-of-fold R² (a model that
    explains nothing, R² at or below 0, is drawn pale: its shares mean nothing). Features
    constant over the table cannot be split on and are marked so, with no bar."""
    import numpy as np

    from zsbench.plugins import get_host
    from zsbench.studies.analysis import ORACLE, architecture_features
    from zsbench.studies.analysis import importance as importance_of

    host = host if host is not None else get_host()
    if result.space not in host.spaces:
        raise ZsbenchError(f"space {result.space!r} is not installed; importance needs its features")
    table = score_table(result, proxies, host=host)
    features = architecture_features(table, host.spaces.get(result.space))
    targets = {table.label(c): _oriented(table.frame[c].to_numpy(dtype=float), table.directions[c]) for c in table.proxies}
    targets[ORACLE] = table.accuracy
    found = importance_of(features, targets, folds=folds, seed=seed)
    weights = found.importance.reindex(list(features.columns)).fillna(0.0)  # every feature, constant ones at 0
    constant = set(found.dropped)
    order = [ORACLE, *[n for n in weights.columns if n != ORACLE]]
    labels = [f"{f} (constant)" if f in constant else f for f in features.columns]
    limit = max(0.05, float(np.nanmax(weights.to_numpy(dtype=float), initial=0.0))) * 1.05
    styles = proxy_styles(proxy_names(result))
    rows, columns = _grid(len(order), max_columns)
    height = 0.75 + rows * (0.45 + 0.085 * len(labels))
    figure = new_figure(PAGE_WIDTH, height)
    positions = np.arange(len(labels))[::-1]  # the space's first feature on top
    with _styled():
        axes = figure.subplots(rows, columns, squeeze=False, sharex=True, sharey=True).ravel()
        for position, (ax, name) in enumerate(zip(axes, order, strict=False)):
            r2 = found.r2.get(name, float("nan"))
            color = ORACLE_COLOR if name == ORACLE else styles.get(name, ProxyStyle(PALETTE[0], "o", "-")).color
            explains = not _missing(r2) and float(r2) > 0
            ax.barh(positions, weights[name].to_numpy(dtype=float), height=0.75, color=color, alpha=0.9 if explains else 0.3, linewidth=0)
            ax.set_title(f"{name}\nR² {_format(r2, 2)}", loc="left", fontsize=6, pad=2)
            ax.set_xlim(0, limit)
            ax.grid(axis="x", linewidth=0.3, alpha=0.5)
            ax.tick_params(axis="y", length=0)
            ax.tick_params(axis="x", labelsize=5.5)
            if position % columns == 0:
                ax.set_yticks(positions, labels, fontsize=5.5)
            if position >= len(order) - columns:  # the bottom panel of each column
                ax.set_xlabel("gain share", labelpad=1, fontsize=6)
                ax.xaxis.set_tick_params(labelbottom=True)
        _hide_unused(axes, len(order))
        ax_first = axes[0]
        ax_first.set_ylim(-0.6, len(labels) - 0.4)
        _suptitle(
            figure,
            f"{result.benchmark}: importance of the architecture features for each ranking "
            f"(XGBoost gain share, one scale; {result.archs} architectures; pale: R² ≤ 0)")
    return figure


def _oriented(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    return values if higher_is_better else -values


def hybrid(
    result: EvaluationResult,
    proxies: Sequence[str] | None = None,
    *,
    host: PluginHost | None = None,
    index: str | None = None,
    max_size: int = 4,
    transfer_to: Sequence[EvaluationResult] = (),
) -> Figure:
    """The paper's Figures 9 and 10: (a) the best index reached by a hybrid of each number of
    members (every subset of the proxies and the costs FLOPs and params, every sum rule; the
    winner's members are written beside it), with the best single member and the oracle as
    references; (b) with ``transfer_to``, the same winners judged on the other benchmarks
    (found here, applied there unchanged), else the accuracy each winner picks under each
    budget against the oracle's."""

    from zsbench.studies.hybrid import definition_of, evaluate_definitions, members_of, search

    metric = _judging_index(host, index)
    options = _run_options(result, metric)
    table = score_table(result, proxies, host=host)
    costs = [c for c in ("flops", "params") if c in table.frame.columns]
    # a proxy named like a cost member (the naive flops and params proxies) is that member already
    named = [table.label(c) for c in table.proxies if table.label(c) not in costs]
    found = search(table, [metric], members=members_of(table, named, costs), max_size=max_size, options=options)
    best = found.best_per_size(1).reset_index(drop=True)
    sizes = best["size"].to_numpy(dtype=int)
    values = best[metric.name].to_numpy(dtype=float)
    better = "lower" if not metric.higher_is_better else "higher"
    figure = new_figure(PAGE_WIDTH, 3.0)
    with _styled():
        left, right = figure.subplots(1, 2, width_ratios=[1.0, 1.1])
        left.plot(sizes, values, color=PALETTE[0], marker="o", label=f"best hybrid on {result.benchmark}")
        # each winner's members under its size, stacked: below the axis there is room for any number of names
        winners = [
            f"{size}\n" + "\n".join(members) + ("" if rule == "single" else f"\n({rule})")
            for size, members, rule in zip(sizes, best["members"], best["rule"], strict=True)
        ]
        left.set_xticks(sizes, winners, fontsize=5.5, linespacing=1.1)
        left.set_xlabel("members in the hybrid (the winner of each size)")
        left.set_ylabel(f"{metric.name} ({better} is better)")
        left.set_title(f"(a) best {metric.name} per number of members", loc="left")
        left.grid(axis="y", linewidth=0.3, alpha=0.5)
        left.margins(x=0.2, y=0.15)
        definitions = [definition_of(row, found.members) for row in best.to_dict(orient="records")]
        if transfer_to:
            for position, other in enumerate(transfer_to, start=1):
                other_table = score_table(other, host=host)
                rows = evaluate_definitions(other_table, definitions, [metric], options=options)
                right.plot(sizes, rows[metric.name].to_numpy(dtype=float), color=PALETTE[position % len(PALETTE)],
                           marker="s", linestyle="--", label=f"applied to {other.benchmark}")  # fmt: skip
            right.plot(sizes, values, color=PALETTE[0], marker="o", label=f"found on {result.benchmark}")
            right.set_xticks(sizes)
            right.set_xlabel("members in the hybrid (the winners of (a))")
            right.set_ylabel(f"{metric.name} ({better} is better)")
            right.set_title("(b) transfer of the winners", loc="left")
            right.legend(frameon=False)
        else:
            _winners_picks(right, result, table, best, metric, options)
        _suptitle(
            figure,
            f"{result.benchmark}: hybrid proxies ({len(found.candidates)} candidates of up to {max_size} members, "
            f"{len(found.members)} members; {result.archs} architectures)",
        )
    return figure


def _winners_picks(right: Axes, result: EvaluationResult, table: Any, best: pd.DataFrame, metric: Any, options: Any) -> None:
    """Panel (b) without transfer: the accuracy each size's winner picks under each budget, beside the oracle's."""
    import numpy as np

    from zsbench.studies.hybrid import evaluate_definitions

    sizes = best["size"].to_numpy(dtype=int)
    pick_columns = [c for c in best.columns if metric.entry_role(c) == "pick"]
    labels = getattr(result, "entry_labels", {}) or {}
    levels = [labels.get(c, c) for c in pick_columns]
    positions = np.arange(len(pick_columns))
    for row, size in enumerate(sizes):
        right.plot(positions, best.loc[row, pick_columns].to_numpy(dtype=float), color=PALETTE[row % len(PALETTE)],
                   marker=MARKERS[row % len(MARKERS)], label=f"best of {size} member{'s' if size > 1 else ''}")  # fmt: skip
    if pick_columns:
        oracle_rows = evaluate_definitions(table, [], [metric], options=options, oracle=True)
        right.plot(positions, oracle_rows.loc[0, pick_columns].to_numpy(dtype=float), color=ORACLE_COLOR,
                   linewidth=1.4, linestyle=(0, (4, 2)), label="oracle", zorder=5)  # fmt: skip
    right.set_xticks(positions, levels)
    right.set_xlabel("budget level")
    right.set_ylabel("accuracy of the pick (%)")
    right.set_title("(b) accuracy of the winners' picks", loc="left")
    right.legend(frameon=False, fontsize=5.5)
    right.grid(axis="y", linewidth=0.3, alpha=0.5)


#: The figure functions by the name ``zsbench plot`` uses.
FIGURES = {
    "scatter": scatter,
    "budgets": budgets,
    "costs": costs,
    "indices": indices,
    "picks": picks,
    "agreement": agreement,
    "importance": importance,
    "hybrid": hybrid,
}

__all__ = [
    "COLUMN_WIDTH",
    "FIGURES",
    "PAGE_WIDTH",
    "PALETTE",
    "BudgetSeries",
    "ProxyStyle",
    "agreement",
    "best_picks",
    "budget_series",
    "budgets",
    "costs",
    "hybrid",
    "importance",
    "indices",
    "oracle_picks",
    "picks",
    "proxy_styles",
    "save",
    "scatter",
    "score_table",
    "stage_blocks",
]
