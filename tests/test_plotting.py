"""Figures drawn from small synthetic evaluation results: files are valid images of the
expected size, titles carry the right numbers, labels do not overlap with 16 proxies."""

from __future__ import annotations

import numpy as np
import pytest
from report_helpers import SIXTEEN, png_size, synthetic_result

import zsbench
from zsbench.reporting import figures


def _overlaps(texts) -> list[tuple[str, str]]:
    boxes = [(t.get_text(), t.get_window_extent()) for t in texts if t.get_visible() and t.get_text().strip()]
    found = []
    for i, (label_a, a) in enumerate(boxes):
        for label_b, b in boxes[i + 1 :]:
            if (
                a.overlaps(b)
                and a.intersection(a, b) is not None
                and a.intersection(a, b).width > 0.5
                and (a.intersection(a, b).height > 0.5)
            ):
                found.append((label_a, label_b))
    return found


@pytest.fixture(scope="module")
def sixteen(host):
    result = synthetic_result(host, SIXTEEN, archs=80)
    # a long name, as real ones are: every figure's title must wrap inside the page, not run off its edges
    result.benchmark = "nbzero-mini-v2-mb-cifar10-with-a-long-benchmark-name"
    return result


@pytest.fixture(scope="module")
def drawn(sixteen, host):
    """Every figure of the 16-proxy result, drawn once."""
    drawn = {}
    for kind, draw in figures.FIGURES.items():
        drawn[kind] = draw(sixteen) if kind == "costs" else draw(sixteen, host=host)
        drawn[kind].draw_without_rendering()  # the layout, as savefig makes it (a bare Figure canvas draws nothing)
    return drawn


@pytest.mark.parametrize("kind", sorted(figures.FIGURES))
def test_each_figure_writes_a_png_of_its_print_size(kind, drawn, tmp_path):
    figure = drawn[kind]
    width, height = figure.get_size_inches()
    path = figures.save(figure, tmp_path / f"{kind}.png", dpi=100)
    written = png_size(path)
    assert abs(written[0] - width * 100) < 1 and abs(written[1] - height * 100) < 1, written
    assert width == pytest.approx(figures.PAGE_WIDTH)


def test_svg_and_pdf_are_written_by_suffix(drawn, tmp_path):
    figure = drawn["costs"]
    assert figures.save(figure, tmp_path / "c.svg").read_text().lstrip().startswith("<?xml")
    assert figures.save(figure, tmp_path / "c.pdf").read_bytes()[:5] == b"%PDF-"
    with pytest.raises(zsbench.UsageError, match=r"\.png, \.svg or \.pdf"):
        figures.save(figure, tmp_path / "c.jpg")


def test_scatter_title_of_a_perfect_proxy_shows_rank_correlation_one(host):
    result = synthetic_result(host, ("noisy", "perfect"))
    result.summary = result.summary.drop(columns=[c for c in result.summary.columns if c.startswith("spearman")])
    figure = figures.scatter(result, host=host)
    titles = {ax.get_title(loc="left").split(":")[0]: ax.get_title(loc="left") for ax in figure.axes if ax.get_visible()}
    assert titles["perfect"] == "perfect: ρ = 1.00"
    noisy = float(titles["noisy"].split("= ")[1])
    assert 0.3 < noisy < 0.99


def test_scatter_uses_a_log_axis_for_scores_over_many_decades(drawn):
    figure = drawn["scatter"]
    by_name = {ax.get_title(loc="left").split(":")[0]: ax for ax in figure.axes if ax.get_visible()}
    assert by_name[SIXTEEN[5]].get_xscale() == "log"
    assert by_name["perfect"].get_xscale() == "linear"


@pytest.mark.parametrize("kind", sorted(figures.FIGURES))
def test_sixteen_proxies_have_no_overlapping_or_cut_labels(kind, drawn):
    figure = drawn[kind]
    visible = [ax for ax in figure.axes if ax.get_visible()]
    for ax in visible:
        labels = [*ax.get_yticklabels(), *ax.get_xticklabels()]
        assert not _overlaps(labels), (ax.get_title(loc="left"), _overlaps(labels))
    titles = [ax._left_title for ax in visible]
    assert not _overlaps(titles)
    canvas = figure.bbox
    for text in [*titles, figure._suptitle, *(ax.xaxis.label for ax in visible), *(ax.yaxis.label for ax in visible)]:
        if text is None or not text.get_text():
            continue
        box = text.get_window_extent()
        assert box.x0 >= -1 and box.x1 <= canvas.x1 + 1 and box.y1 <= canvas.y1 + 1, f"{text.get_text()!r} is cut"


def test_indices_draw_intervals_and_the_noise_ceiling(sixteen, host):
    figure = figures.indices(sixteen, host=host, names=["spearman", "mbr_flops"])
    spearman_ax = figure.axes[0]
    ceiling_lines = [line for line in spearman_ax.get_lines() if list(line.get_xdata()) == [0.8, 0.8]]
    assert ceiling_lines, "the noise ceiling (0.8) is drawn on the spearman panel"
    # proxies ordered by spearman, best first from the top: the perfect proxy leads
    ticks = dict(zip(spearman_ax.get_yticks(), (t.get_text() for t in spearman_ax.get_yticklabels()), strict=True))
    assert ticks[max(ticks)] == "perfect"
    assert spearman_ax.get_title(loc="left") == "spearman\n(higher is better)"
    assert figure.axes[1].get_title(loc="left") == "mbr_flops\n(lower is better)"


def test_budgets_oracle_line_is_the_best_accuracy_under_each_budget(sixteen, host):
    series = {s.index: s for s in figures.budget_series(sixteen, host)}
    assert list(series) == ["mbr_flops", "mbr_params", "mbr_depth"]
    flops = series["mbr_flops"]
    assert flops.levels == ("20%", "40%", "60%", "80%", "100%") and flops.cost == "flops"
    assert flops.ranks == tuple(f"mbr_flops/br@{level}" for level in flops.levels)
    # by hand: the best accuracy among the architectures within each fifth of the FLOPs range
    cost, accuracy = sixteen.scores["flops"].to_numpy(), sixteen.scores["accuracy"].to_numpy()
    thresholds = cost.min() + (cost.max() - cost.min()) * np.array([0.2, 0.4, 0.6, 0.8, 1.0])
    expected = [accuracy[cost <= t + 1e-6].max() for t in thresholds]
    oracle = figures.oracle_picks(sixteen, flops, host)
    assert oracle == pytest.approx(expected)
    # the perfect proxy picks the oracle's architecture at every level
    perfect = sixteen.summary.set_index("proxy").loc["perfect"]
    assert [perfect[c] for c in flops.picks] == pytest.approx(expected)
    figure = figures.budgets(sixteen, host=host, indices=["mbr_flops"])
    line_ax = figure.axes[1]
    oracle_line = [line for line in line_ax.get_lines() if line.get_label().startswith("oracle")]
    assert list(oracle_line[0].get_ydata()) == pytest.approx(expected)


def test_picks_draw_each_stage_as_a_block_of_its_width_and_depth(host):
    result = synthetic_result(host, ("noisy", "perfect"))
    figure = figures.picks(result, host=host)
    picked = figures.best_picks(result, host=host)
    assert picked["perfect"] == picked["oracle"] == int(result.scores["accuracy"].idxmax())
    oracle_ax = next(ax for ax in figure.axes if ax.get_title(loc="left").startswith("oracle"))
    arch = result.scores["arch"][picked["oracle"]]
    expected = [(float(w), float(d)) for w, d in (s.split("-") for s in arch.split("_"))]
    blocks = [(p.get_height(), p.get_width()) for p in oracle_ax.patches]
    assert blocks == expected


def test_picks_explain_a_space_without_stages(host):
    result = synthetic_result(host, ("perfect",))
    result.space = "nowhere"
    with pytest.raises(zsbench.ZsbenchError, match="not installed"):
        figures.picks(result, host=host)


def test_unknown_proxy_is_a_usage_error(sixteen, host):
    with pytest.raises(zsbench.UsageError, match="'nope' is not in this result"):
        figures.scatter(sixteen, ["nope"], host=host)


FIRST_PARTY = (
    "flops", "params", "depth", "l2_norm", "synflow", "zen", "snip", "grad_norm",
    "fisher", "plain", "grasp", "jacob_cov", "naswot", "zico", "ntk",
)  # fmt: skip


def _pairs(styles) -> set[tuple[str, str, str]]:
    return {(s.color, s.marker, s.linestyle) for s in styles.values()}


def test_every_proxy_gets_its_own_style():
    styles = figures.proxy_styles(SIXTEEN)
    assert len(_pairs(styles)) == 16
    assert all(s.color in figures.PALETTE and s.marker in figures.MARKERS for s in styles.values())
    # 24 and 36 proxies, first-party ones or not: every (colour, marker) pair distinct
    others = tuple(f"third_party_{i}" for i in range(21))
    for names in ((*FIRST_PARTY, *others[:9]), (*others[:21], "a", "b", "c"), (*FIRST_PARTY, *others)):
        styles = figures.proxy_styles(names)
        assert len({(s.color, s.marker) for s in styles.values()}) == len(names), len(names)
    assert len(figures.style_slots()) == 36


def test_a_proxys_style_does_not_depend_on_the_others_drawn():
    full = (*FIRST_PARTY, "myidea", "input_grad")
    styles = figures.proxy_styles(full)
    # alone, beside any one other, in any order: the same style as among all seventeen
    for name in full:
        assert figures.proxy_styles([name])[name] == styles[name]
        assert figures.proxy_styles([*reversed(full)])[name] == styles[name]
    rng = np.random.default_rng(0)
    for _ in range(20):
        subset = list(rng.choice(full, size=int(rng.integers(1, len(full))), replace=False))
        assert figures.proxy_styles(subset) == {n: styles[n] for n in subset}
    # adding third-party proxies never moves a first-party one
    crowded = figures.proxy_styles((*full, *(f"extra_{i}" for i in range(15))))
    assert all(crowded[n] == styles[n] for n in FIRST_PARTY)
    # the hash is of the name, not Python's salted hash: the same slot in every process
    code = "from zsbench.reporting import figures; print(figures.proxy_styles(['myidea'])['myidea'])"
    import subprocess
    import sys

    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout for _ in range(2)}
    assert runs == {f"{styles['myidea']}\n"}


def test_two_proxies_hashed_to_one_slot_are_told_apart():
    free = [slot for slot in figures.style_slots() if slot not in set(figures.FIXED_STYLES.values())]
    by_slot: dict[int, list[str]] = {}
    for i in range(200):
        name = f"p{i}"
        by_slot.setdefault(figures._hashed_slot(name, len(free)), []).append(name)
    first, second = next(names for names in by_slot.values() if len(names) >= 2)[:2]
    styles = figures.proxy_styles([second, first])
    assert styles[first] != styles[second]
    assert styles[min(first, second)] == figures.proxy_styles([min(first, second)])[min(first, second)]


def test_agreement_oracle_column_is_each_proxys_own_index(sixteen, drawn):
    ax = drawn["agreement"].axes[0]
    names = [t.get_text() for t in ax.get_yticklabels()]
    matrix = np.asarray(ax.images[0].get_array())
    assert names[0] == "oracle" and names[1:] == list(SIXTEEN)
    own = sixteen.summary.set_index("proxy")["mbr_flops"]
    assert matrix[1:, 0] == pytest.approx(own[list(SIXTEEN)].to_numpy())
    assert np.diag(matrix) == pytest.approx(0.0)  # a ranking judged by itself picks its own best
    assert matrix[names.index("perfect")] == pytest.approx(matrix[0])  # the perfect proxy is the oracle


def test_importance_has_a_panel_per_ranking_on_one_scale_with_every_feature(sixteen, drawn, host):
    figure = drawn["importance"]
    panels = [ax for ax in figure.axes if ax.get_visible()]
    names = [ax.get_title(loc="left").split("\n")[0] for ax in panels]
    assert names == ["oracle", *SIXTEEN]
    assert all("R² " in ax.get_title(loc="left") for ax in panels)
    assert len({ax.get_xlim() for ax in panels}) == 1  # one scale
    # every feature of the space is a bar, in the space's order, the first on top
    features = list(host.spaces.get("toy-macro").features(sixteen.scores["arch"][0]))
    labels = [t.get_text() for t in panels[0].get_yticklabels()]
    ticks = list(panels[0].get_yticks())
    assert [label for _, label in sorted(zip(ticks, labels, strict=True), reverse=True)] == features
    for ax in panels:
        assert len(ax.patches) == len(features)
    # the oracle's bars are gain shares of a model that explains the accuracy, which follows the FLOPs
    oracle = np.array([bar.get_width() for bar in panels[0].patches])
    assert oracle.sum() == pytest.approx(1.0)
    assert features[int(np.argmax(oracle))].endswith(("_out", "_depth"))


def test_importance_marks_a_constant_feature_and_draws_it_without_a_bar(host):
    result = synthetic_result(host, ("noisy", "perfect"), archs=60)
    # every third stage the same width: S3_out cannot be split on
    result.scores["arch"] = ["_".join([*a.split("_")[:2], "64-" + a.split("_")[2].split("-")[1]]) for a in result.scores["arch"]]
    figure = figures.importance(result, host=host)
    oracle = figure.axes[0]
    by_label = dict(zip((t.get_text() for t in oracle.get_yticklabels()), oracle.get_yticks(), strict=True))
    assert "S3_out (constant)" in by_label
    bar = next(p for p in oracle.patches if abs(p.get_y() + p.get_height() / 2 - by_label["S3_out (constant)"]) < 1e-9)
    assert bar.get_width() == 0.0


def test_hybrid_best_single_member_is_the_best_proxy(sixteen, drawn):
    left = drawn["hybrid"].axes[0]
    winners = {round(tick): label.get_text() for tick, label in zip(left.get_xticks(), left.get_xticklabels(), strict=True)}
    own = sixteen.summary.set_index("proxy")["mbr_flops"]
    size, single = winners[1].split("\n")
    assert size == "1" and single in set(own[own == own.min()].index) | {"flops", "params"}
    assert len(winners[4].split("\n")) == 1 + 4 + 1  # the size, four members, the rule
    assert list(left.get_lines()[0].get_xdata()) == [1, 2, 3, 4]


def test_hybrid_winners_are_judged_on_the_other_benchmark(host):
    first = synthetic_result(host, ("noisy", "good", "perfect"), archs=60)
    second = synthetic_result(host, ("noisy", "good", "perfect"), archs=60, seed=4)
    second.benchmark = "toy-bench-2"
    right = figures.hybrid(first, host=host, transfer_to=[second], max_size=2).axes[1]
    assert right.get_title(loc="left") == "(b) transfer of the winners"
    applied = next(line for line in right.get_lines() if line.get_label() == "applied to toy-bench-2")
    # the size-1 winner is the perfect proxy: on the other benchmark too it picks the oracle's architectures
    assert applied.get_ydata()[0] == pytest.approx(0.0)
