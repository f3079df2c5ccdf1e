"""A self-contained HTML report of one or more evaluations: run settings, the summary table and
every figure of :mod:`zsbench.reporting.figures`, and across several benchmarks the transfer tables.

The page is one ``index.html`` with its PNG figures beside it (one folder per benchmark): no
script, no web font, no link outside the folder, so it opens offline and can be archived or
attached as it is.

Also here, shared with the terminal table of ``zsbench evaluate``: which indices are the
headline ones (:func:`headline_indices`) and how rows are ordered (:func:`sort_rows`).
"""

from __future__ import annotations

import datetime as _dt
import html
import math
import re
import warnings
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zsbench.errors import UsageError, ZsbenchError, describe_error

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from zsbench.engine.evaluation import EvaluationResult
    from zsbench.plugins import PluginHost

#: Resolution of the report's PNGs: a page-wide figure is 1,050 pixels wide.
REPORT_DPI = 150

#: What each figure shows, in the page's order: (kind, caption).
FIGURE_CAPTIONS: dict[str, str] = {
    "indices": "Every index of every proxy with its bootstrap interval; the dashed line is the benchmark's noise "
    "ceiling (the agreement of two trainings of the same networks).",
    "scatter": "Proxy score against test accuracy, one panel per proxy; the title gives Spearman's rank correlation "
    "of the proxy's oriented score with accuracy.",
    "budgets": "Constrained search: the best rank (BR) of each proxy's pick under each budget (0: it picked the best "
    "architecture within the budget) and the accuracy of the pick, with the oracle's as the reference line.",
    "costs": "Test accuracy against FLOPs, params and depth: the range of the space and the accuracy it reaches.",
    "picks": "The architecture each proxy ranks first, drawn as one block per stage (height: output width, "
    "length: depth), beside the most accurate one.",
    "agreement": "Agreement of the picks: row A, column B is the index (mBR under FLOPs unless told) of A's scores "
    "with B's ranking standing in for the accuracy; the oracle column is each proxy's own index.",
    "importance": "Which architecture features drive each proxy's ranking and the true accuracy (the oracle panel): "
    "XGBoost gain shares, one panel per ranking, every feature of the space a bar, all panels on one scale; each "
    "model's out-of-fold R² in its title (at or below 0, drawn pale: the model explains nothing, nor do its shares).",
    "hybrid": "Hybrid proxies: the best index reached with each number of members (proxies and the costs FLOPs and "
    "params, every sum rule), and the winners applied to the other benchmarks of the report, or their picks "
    "under each budget.",
}


# -- the summary table, shared with the terminal ---------------------------------------------------


def headline_indices(result: EvaluationResult, host: PluginHost | None = None) -> list[str]:
    """The indices of the narrow table: those whose metric declares ``headline`` (in the
    result's order), or the first three when none does."""
    from zsbench.plugins import get_host

    host = host if host is not None else get_host()
    present = [name for name in result.index_names if name in result.summary.columns]
    chosen = [n for n in present if n in host.metrics and getattr(host.metrics.get(n), "headline", False)]
    return chosen or present[:3]


def sort_rows(result: EvaluationResult, key: str, host: PluginHost | None = None) -> pd.DataFrame:
    """The summary with its rows ordered by ``key``, best first: an index (or a further value
    of one, ``br_at_k/5%``) in its own direction, ``failures`` and ``seconds`` ascending,
    ``proxy`` by name; missing values last.

    Raises:
        UsageError: ``key`` is none of these (the message lists them).
    """
    from zsbench.plugins import get_host

    host = host if host is not None else get_host()
    summary = result.summary
    sortable = [c for c, (_, role) in result.entry_roles.items() if role in ("index", "estimate")]
    if key in ("seconds", "s/arch"):
        key = "seconds_per_arch"
    if key == "proxy":
        return summary.sort_values("proxy", kind="stable").reset_index(drop=True)
    if key in ("failures", "seconds_per_arch"):
        ascending = True
    elif key in sortable:
        index = result.entry_roles[key][0]
        ascending = index in host.metrics and not host.metrics.get(index).higher_is_better
    else:
        choices = ", ".join([*sortable, "failures", "seconds", "proxy"])
        raise UsageError(f"--sort {key!r} is not a column of this result; choose one of: {choices}")
    return summary.sort_values(key, ascending=ascending, na_position="last", kind="stable").reset_index(drop=True)


@dataclass(frozen=True)
class TableColumn:
    """One column of the summary table: its heading, the summary column of its value, and
    how a cell is written."""

    heading: str
    value: str | None = None
    picks: tuple[str, ...] = ()


def table_columns(result: EvaluationResult, *, wide: bool, host: PluginHost | None = None) -> list[TableColumn]:
    """The summary table's value columns (proxy, failures and seconds aside): the headline
    indices (every index with ``wide``), the further values of an index with ``wide``
    (``br_at_k`` at a second K), then the picked accuracies of the indices that pick.
    Headings use the labels the indices give their entries (``@5%``, ``20/40/60/80/100 %``)."""
    shown = set(result.index_names if wide else headline_indices(result, host))
    roles = result.entry_roles
    values: list[TableColumn] = []
    picks: list[TableColumn] = []
    for name in result.index_names:
        if name not in result.summary.columns or name not in shown:
            continue
        mine = [c for c in result.summary.columns if roles.get(c, ("", ""))[0] == name]
        settings = [c for c in mine if roles[c][1] == "setting"]
        values.append(TableColumn(_heading(result, name, name, settings), name))
        if wide:
            values += [TableColumn(_heading(result, c, name, settings), c) for c in mine if roles[c][1] == "estimate"]
        chosen = tuple(c for c in mine if roles[c][1] == "pick")
        if chosen:
            picks.append(TableColumn(f"picked acc, {name}\nat {_joined_labels(result, chosen)}", None, chosen))
    return values + picks


def _heading(result: EvaluationResult, column: str, name: str, settings: list[str]) -> str:
    """An index's further value says what it is for (``br_at_k/5%`` -> ``@5%``); the index
    itself takes the label of its first setting (``br_at_k/K@0.1%`` -> ``@0.1%``). The value
    of the setting that goes with it follows (``@0.1%, K=1``): at the same label, one value
    for every proxy, since it depends on the pool only."""
    labels = getattr(result, "entry_labels", {}) or {}
    label = labels.get(column, "") if column != name else ""
    if not label and settings:
        label = labels.get(settings[0], "")
    if not label:
        return name
    shown = [f"{symbol}={number(value, 0)}" for symbol, value in _settings_at(result, name, label)]
    return f"{name}\n@{', '.join([label, *shown])}"


def _settings_at(result: EvaluationResult, name: str, label: str) -> list[tuple[str, float]]:
    """``[("K", 1.0)]``: the settings of index ``name`` at ``label`` (``br_at_k/K@0.1%``), their
    symbol (the key's prefix) and value (the first proxy's; the same for every proxy)."""
    labels = getattr(result, "entry_labels", {}) or {}
    found = []
    for column, (index, role) in (getattr(result, "entry_roles", {}) or {}).items():
        if index != name or role != "setting" or labels.get(column) != label or column not in result.summary.columns:
            continue
        values = result.summary[column].dropna()
        if len(values):
            symbol = column[len(name) + 1 :][: -len(label)].rstrip("@=") or column
            found.append((symbol, float(values.iloc[0])))
    return found


#: A top-K value over fewer architectures than this rests on too few to mean anything.
MIN_MEANINGFUL_K = 5


def small_k_note(result: EvaluationResult, indices: Collection[str] | None = None) -> str | None:
    """One line when a setting called ``K`` (the top-K indices') is below :data:`MIN_MEANINGFUL_K`:
    such a value counts hits among 1 to 4 architectures, so its interval spans nearly the whole
    range; ``None`` otherwise. ``indices``: only these indices (those a table shows)."""
    small: dict[tuple[str, float], list[str]] = {}
    labels = getattr(result, "entry_labels", {}) or {}
    for column, (index, role) in (getattr(result, "entry_roles", {}) or {}).items():
        label = labels.get(column, "")
        if role != "setting" or not label or (indices is not None and index not in indices):
            continue
        for symbol, value in _settings_at(result, index, label):
            if symbol == "K" and value < MIN_MEANINGFUL_K:
                small.setdefault((label, value), [])
                if index not in small[(label, value)]:
                    small[(label, value)].append(index)
    if not small:
        return None
    parts = [f"K={number(value, 0)} at {label} ({', '.join(names)})" for (label, value), names in small.items()]
    return (
        f"{'; '.join(parts)} of {result.archs} architectures: fewer than {MIN_MEANINGFUL_K} in the top-K, too few "
        "for those values to mean anything (read them only with their interval; a larger --top-k or more networks helps)"
    )


def _joined_labels(result: EvaluationResult, columns: Sequence[str]) -> str:
    """``20%, 40%, 100%`` as ``20/40/100 %``; other labels joined by ``/``."""
    labels = [(getattr(result, "entry_labels", {}) or {}).get(c, c) for c in columns]
    if labels and all(label.endswith("%") for label in labels):
        return "/".join(label[:-1] for label in labels) + " %"
    return "/".join(labels)


def number(value: Any, digits: int) -> str:
    """``value`` with ``digits`` decimals, ``-`` when missing."""
    if value is None or missing(value):
        return "-"
    return f"{float(value):.{digits}f}"


def missing(value: Any) -> bool:
    """None, NaN or not a number."""
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def interval(record: Mapping[str, Any], column: str) -> str | None:
    """``[low,high]`` of a column's bootstrap interval, or None."""
    low, high = record.get(f"{column}/ci_low"), record.get(f"{column}/ci_high")
    if low is None or high is None or missing(low) or missing(high):
        return None
    return f"[{number(low, 2)},{number(high, 2)}]"


def ceiling_note(result: EvaluationResult) -> str | None:
    """One line on the benchmark's noise ceiling, or None when it is unknown: how well two
    trainings of the same networks agree (with its interval), and the bound that sets on a
    proxy's correlation with the benchmark's accuracy (about the square root of that
    accuracy's reliability: attenuation), not the test-retest value itself."""
    from zsbench.builds import MIN_PAIRS_FOR_INTERVAL

    ceiling = result.noise_ceiling
    if not ceiling or ceiling.get("spearman") is None or missing(ceiling.get("spearman")):
        return None
    shown = f"Spearman {number(ceiling.get('spearman'), 3)}"
    span = ceiling.get("spearman_ci")
    if span and None not in span:
        shown += f" [{number(span[0], 3)}, {number(span[1], 3)}]"
    elif ceiling.get("pairs") is not None and int(ceiling["pairs"]) < MIN_PAIRS_FOR_INTERVAL:
        shown += " (too few networks for an interval)"
    if ceiling.get("kendall") is not None:
        shown += f", Kendall {number(ceiling.get('kendall'), 3)}"
    basis = ceiling.get("note") or (f"{ceiling.get('pairs')} networks" if ceiling.get("pairs") else "")
    per_side = int(ceiling.get("trainings_per_side") or 1)  # a benchmark whose accuracy is a mean of trainings
    compared = "two trainings" if per_side == 1 else f"two independent means of {per_side} trainings"
    line = f"noise ceiling of {result.benchmark}: {compared} of the same networks agree with {shown}"
    line += f" ({basis})" if basis else ""
    bound = ceiling.get("bound")
    if bound is not None:
        shown_bound = number(bound, 3)
        span = ceiling.get("bound_ci")
        if span and None not in span:
            shown_bound += f" [{number(span[0], 3)}, {number(span[1], 3)}]"
        line += (
            f"; a proxy is compared with one noisy measurement, so its |Spearman| can reach about {shown_bound} "
            "(the square root of the accuracy's reliability), not more"
        )
    return line


def caveat_note(result: EvaluationResult) -> str | None:
    """The benchmark's own caveat (e.g. a partial build), as recorded in the run's settings."""
    line = result.settings.get("benchmark_caveat")
    return f"caveat: {line}" if line else None


def input_note(result: EvaluationResult) -> str | None:
    """One line when the proxies scored Gaussian inputs instead of images, else None."""
    source = str(result.settings.get("input") or "")
    if not source.startswith("gaussian"):
        return None
    from zsbench.data import fetch_hint

    dataset = str(result.settings.get("dataset") or "")
    return (
        f"inputs: Gaussian N(0,1) noise, not images (no {dataset or 'dataset'} images under the data root): "
        f"data-dependent proxies are not scored as published; {fetch_hint(dataset) if dataset else 'see zsbench/data.py'}"
    )


def sources_note(result: EvaluationResult) -> str:
    """Where the run's scores came from: computed here, the user's cache, each score pack."""
    parts = [f"{result.computed} scores computed", f"{result.cached} from the cache"]
    if result.from_packs:
        named = ", ".join(f"{count} from pack {name}" for name, count in result.from_packs.items())
        parts.append(f"{named} (--no-packs computes them)")
    return ", ".join(parts)


# -- figures --------------------------------------------------------------------------------------


@dataclass
class FigureFile:
    """A figure of the report: its kind, file (relative to the report) and caption, or why it
    was not drawn."""

    kind: str
    path: str | None
    caption: str
    skipped: str | None = None
    width: int = 0
    height: int = 0


def draw_figures(
    result: EvaluationResult,
    folder: Path,
    *,
    kinds: Sequence[str] | None = None,
    host: PluginHost | None = None,
    dpi: int = REPORT_DPI,
    relative_to: Path | None = None,
    log: Callable[[str], None] | None = None,
    transfer_to: Sequence[EvaluationResult] = (),
) -> list[FigureFile]:
    """Draw each figure of ``result`` into ``folder`` as compact PNGs; a figure that does not
    apply (no budget index, a space without stages) is listed with the reason instead."""
    from zsbench.reporting import figures

    folder.mkdir(parents=True, exist_ok=True)
    drawn = []
    for kind in kinds or list(FIGURE_CAPTIONS):
        draw = figures.FIGURES[kind]
        caption = FIGURE_CAPTIONS.get(kind, "")
        try:
            if kind == "costs":
                figure = draw(result)
            elif kind == "hybrid":
                figure = draw(result, host=host, transfer_to=transfer_to)
            else:
                figure = draw(result, host=host)
        except ZsbenchError as exc:  # the figure does not apply here (no budget index, no stages, ...)
            drawn.append(FigureFile(kind, None, caption, skipped=str(exc)))
            continue
        except Exception as exc:  # one figure failing must not lose the others: said on the page and warned
            warnings.warn(f"{result.benchmark}: the {kind} figure failed: {describe_error(exc)}", stacklevel=2)
            drawn.append(FigureFile(kind, None, caption, skipped=f"failed: {describe_error(exc)}"))
            continue
        path = figures.save(figure, folder / f"{kind}.png", dpi=dpi, compact=True)
        from PIL import Image

        with Image.open(path) as image:  # the written size (matplotlib truncates inches x dpi)
            width, height = image.size
        if log is not None:
            log(f"drew {path}")
        relative = path.relative_to(relative_to) if relative_to is not None else path
        drawn.append(FigureFile(kind, relative.as_posix(), caption, width=width, height=height))
    return drawn


# -- the page -------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1100px;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ccc; }
h3 { margin-top: 1.8rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.6rem 0; }
th, td { padding: 0.2rem 0.55rem; text-align: right; vertical-align: top; border-bottom: 1px solid #e4e4e4; }
th { background: #f4f4f4; white-space: pre-line; } td:first-child, th:first-child { text-align: left; }
td.name { font-weight: 600; } td .ci { display: block; color: #666; font-size: 0.75rem; }
table.settings td { text-align: left; } table.settings td:first-child { color: #555; font-weight: 600; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: 0.85rem; color: #444; } .note { color: #666; font-size: 0.85rem; }
details summary { cursor: pointer; color: #225; }
"""


def render_html(
    results: Sequence[EvaluationResult],
    figures: Mapping[str, Sequence[FigureFile]],
    *,
    host: PluginHost | None = None,
    sort: str | None = None,
    title: str | None = None,
) -> str:
    """The report page (see the module docstring); ``figures`` maps each benchmark to its files."""
    from zsbench import __version__

    names = [r.benchmark for r in results]
    heading = title or f"zsbench report: {', '.join(names)}"
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(heading)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(heading)}</h1>",
        f'<p class="note">Written by zsbench {_e(__version__)} on {now}. Every figure is a PNG beside this page.</p>',
    ]
    if len(results) > 1:
        links = " · ".join(f'<a href="#{_slug(n)}">{_e(n)}</a>' for n in names)
        parts.append(f'<p>{links} · <a href="#transfer">transfer across benchmarks</a></p>')
    for result in results:
        parts += _benchmark_section(result, figures.get(result.benchmark, ()), host=host, sort=sort)
    if len(results) > 1:
        parts += _transfer_section(results, host=host)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _benchmark_section(result: EvaluationResult, figures: Sequence[FigureFile], *, host: PluginHost | None, sort: str | None) -> list[str]:
    out = [f'<section id="{_slug(result.benchmark)}">', f"<h2>{_e(result.benchmark)}</h2>"]
    out.append("<h3>Run settings</h3>")
    out.append(_settings_table(result))
    out.append("<h3>Summary</h3>")
    summary = sort_rows(result, sort, host) if sort else result.summary
    out.append(_summary_table(result, summary, wide=False, host=host))
    for note in (caveat_note(result), ceiling_note(result), small_k_note(result)):
        if note:
            out.append(f'<p class="note">{_e(note)}.</p>')
    out.append("<details><summary>every index</summary>")
    out.append(_summary_table(result, summary, wide=True, host=host))
    out.append("</details>")
    if len(result.failures):
        counts = result.failures.groupby("proxy").size().to_dict()
        listed = ", ".join(f"{_e(p)} {n}" for p, n in counts.items())
        out.append(f'<p class="note">Failed scores (left out of that proxy\'s indices): {listed}.</p>')
    out.append("<h3>Figures</h3>")
    for figure in figures:
        if figure.path is None:
            out.append(f'<p class="note">{_e(figure.kind)}: not drawn: {_e(figure.skipped or "")}</p>')
            continue
        alt = f"{figure.kind} figure of {result.benchmark}"
        out.append(
            f'<figure id="{_slug(result.benchmark)}-{figure.kind}"><img src="{_e(figure.path)}" alt="{_e(alt)}" '
            f'width="{figure.width}" height="{figure.height}">'
            f"<figcaption><b>{_e(figure.kind)}</b>: {_e(figure.caption)}</figcaption></figure>"
        )
    out.append("</section>")
    return out


def _settings_table(result: EvaluationResult) -> str:
    settings = dict(result.settings)
    rows = [
        ("benchmark", f"{result.benchmark} (space {result.space}, dataset {settings.get('dataset', '?')})"),
        ("architectures", _architectures(result, settings)),
        ("input batch", f"{settings.get('input', '?')}, {settings.get('batch_size', '?')} images"),
        ("seeds", f"subset and bootstrap {settings.get('seed', '?')}, inputs and initialisation {settings.get('score_seed', '?')}"),
        ("device", str(settings.get("device", "?"))),
        (
            "intervals",
            f"{settings.get('bootstrap', '?')} bootstrap resamples over architectures, "
            f"{number(100 * float(settings['confidence']), 0) if 'confidence' in settings else '?'} % "
            f"{settings.get('interval_method', 'percentile bootstrap')} intervals",
        ),
        ("scores", sources_note(result).replace("scores computed", "computed in this run")),
    ]
    options = settings.get("metric_options") or {}
    if options:
        shown = "; ".join(
            f"{name}: " + ", ".join(f"{k}={_option(v)}" for k, v in values.items()) for name, values in options.items() if values
        )
        rows.append(("index options", shown or "defaults"))
    versions = settings.get("versions") or {}
    if versions:
        rows.append(("versions", ", ".join(f"{k} {v}" for k, v in versions.items())))
    proxies = settings.get("proxy_versions") or {}
    if proxies:
        rows.append(("proxy versions", ", ".join(f"{k} {v}" for k, v in proxies.items())))
    body = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="settings">{body}</table>'


def _architectures(result: EvaluationResult, settings: Mapping[str, Any]) -> str:
    """How many architectures, and which: a seeded subset, only the fully cached ones."""
    notes = []
    if settings.get("limit"):
        notes.append(f"seeded subset of {settings['limit']}, seed {settings.get('seed', '?')}")
    if settings.get("cached_only"):
        notes.append("only those with every score in the cache (--cached-only)")
    total = settings.get("table_archs")
    text = f"{result.archs}" + (f" of the benchmark's {total}" if total else "")
    return text + (f" ({'; '.join(notes)})" if notes else "")


def _option(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return str(value)


def _summary_table(result: EvaluationResult, summary: pd.DataFrame, *, wide: bool, host: PluginHost | None) -> str:
    columns = table_columns(result, wide=wide, host=host)
    head = "<tr><th>proxy</th>" + "".join(f"<th>{_e(c.heading)}</th>" for c in columns) + "<th>failures</th><th>s/arch</th></tr>"
    rows = []
    for record in summary.to_dict(orient="records"):
        cells = [f'<td class="name">{_e(str(record["proxy"]))}</td>']
        for column in columns:
            if column.value is not None:
                ci = interval(record, column.value)
                extra = f'<span class="ci">{_e(ci)}</span>' if ci else ""
                cells.append(f"<td>{number(record.get(column.value), 3)}{extra}</td>")
            else:
                cells.append("<td>" + " ".join(number(record.get(p), 1) for p in column.picks) + "</td>")
        cells.append(f"<td>{int(record.get('failures', 0))}</td><td>{number(record.get('seconds_per_arch'), 3)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def transfer_rows(results: Sequence[EvaluationResult], index: str) -> list[tuple[str, list[float]]]:
    """``(proxy, [value on each benchmark])`` for every proxy of any result (NaN where absent)."""
    proxies: list[str] = []
    for result in results:
        proxies += [str(p) for p in result.summary["proxy"] if str(p) not in proxies]
    rows = []
    for proxy in proxies:
        values = []
        for result in results:
            match = result.summary[result.summary["proxy"] == proxy]
            values.append(float(match[index].iloc[0]) if len(match) and index in match.columns else float("nan"))
        rows.append((proxy, values))
    return rows


def proxy_ranking_tau(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall's tau between two benchmarks' values of the proxies they share (NaN below 3)."""
    from zsbench.studies.analysis import shared_correlations

    return shared_correlations(a, b, min_shared=3)[2]


def _transfer_section(results: Sequence[EvaluationResult], *, host: PluginHost | None) -> list[str]:
    names = [r.benchmark for r in results]
    indices = [i for i in headline_indices(results[0], host) if all(i in r.summary.columns for r in results)]
    out = ['<section id="transfer">', "<h2>Transfer across benchmarks</h2>"]
    out.append(
        '<p class="note">Each headline index of every proxy on each benchmark, and how well the ranking of the proxies '
        "by that index carries over from one benchmark to another (Kendall's τ between their values).</p>"
    )
    for index in indices:
        rows = transfer_rows(results, index)
        head = "<tr><th>proxy</th>" + "".join(f"<th>{_e(n)}</th>" for n in names) + "</tr>"
        body = "".join(
            f'<tr><td class="name">{_e(p)}</td>' + "".join(f"<td>{number(v, 3)}</td>" for v in values) + "</tr>" for p, values in rows
        )
        out.append(f"<h3>{_e(index)}</h3><table><thead>{head}</thead><tbody>{body}</tbody></table>")
        pairs = []
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                tau = proxy_ranking_tau([v[i] for _, v in rows], [v[j] for _, v in rows])
                pairs.append(f"{_e(names[i])} → {_e(names[j])}: τ = {number(tau, 2)}")
        out.append(f'<p class="note">{"; ".join(pairs)}</p>')
    if not indices:
        out.append('<p class="note">The benchmarks share no headline index.</p>')
    out.append("</section>")
    return out


def write_report(
    results: Sequence[EvaluationResult],
    out_dir: str | Path,
    *,
    host: PluginHost | None = None,
    sort: str | None = None,
    kinds: Sequence[str] | None = None,
    dpi: int = REPORT_DPI,
    title: str | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Write ``index.html`` and the figures of every result into ``out_dir``; returns the page.

    Raises:
        UsageError: no result, two results of the same benchmark, or ``out_dir`` is a file.
    """
    if not results:
        raise UsageError("a report needs at least one benchmark")
    names = [r.benchmark for r in results]
    if len(set(names)) != len(names):
        raise UsageError(f"benchmark named twice in one report: {', '.join(names)}")
    root = Path(out_dir)
    if root.exists() and not root.is_dir():
        raise UsageError(f"--out {root} is a file; name a folder for the report")
    root.mkdir(parents=True, exist_ok=True)
    figures = {
        r.benchmark: draw_figures(
            r,
            root / _slug(r.benchmark),
            kinds=kinds,
            host=host,
            dpi=dpi,
            relative_to=root,
            log=log,
            transfer_to=[other for other in results if other is not r],  # the hybrid winners applied elsewhere
        )
        for r in results
    }
    page = root / "index.html"
    page.write_text(render_html(results, figures, host=host, sort=sort, title=title), encoding="utf-8")
    return page


def _e(text: str) -> str:
    return html.escape(str(text), quote=True)


def _slug(name: str) -> str:
    """A file and anchor name for a benchmark (a table file's path keeps only safe characters)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", Path(name).name if "/" in name else name).strip("-") or "benchmark"


__all__ = [
    "FIGURE_CAPTIONS",
    "FigureFile",
    "TableColumn",
    "caveat_note",
    "ceiling_note",
    "draw_figures",
    "headline_indices",
    "input_note",
    "proxy_ranking_tau",
    "render_html",
    "small_k_note",
    "sort_rows",
    "table_columns",
    "transfer_rows",
    "write_report",
]
