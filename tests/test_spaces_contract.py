"""The SearchSpace contract for R1, R2, MB, nb201 and nasbench-macro: registration, size,
sampling, parse errors, deterministic building, features."""

from __future__ import annotations

import pytest
import torch
from zsbench_spaces import mb, nasbench_macro, nb201, r1, r2
from zsbench_spaces.pool import describe_pool

import zsbench

SPACE_NAMES = ["R1", "R2", "MB", "nb201", "nasbench-macro"]

# Small architectures, one per space, for the build tests.
SMALL = {
    "R1": "stem16,s2-16x1,s1-24x2,s2-32x1,s2-16x1",
    "R2": "stem16,s2-64x1,s2-96x2,s2-64x1",
    "MB": "stem16,s1-e3-16x2,s2-e1-24x1,s2-e6-32x1,s2-e3-16x1",
    "nb201": "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
    "nasbench-macro": "12012010",
}


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: one torch thread for the module


@pytest.fixture(scope="module")
def host() -> zsbench.PluginHost:
    return zsbench.PluginHost(load=["R1", "R2", "MB", "nb201", "nasbench_macro"], strict=True)


@pytest.fixture(params=SPACE_NAMES)
def space(request: pytest.FixtureRequest, host: zsbench.PluginHost) -> zsbench.SearchSpace:
    return host.spaces.get(request.param)


def test_spaces_are_found_through_entry_points(host: zsbench.PluginHost) -> None:
    assert host.spaces.names() == sorted(SPACE_NAMES, key=str.lower)
    assert isinstance(host.spaces.get("R1"), r1.R1Space)
    assert isinstance(host.spaces.get("nasbench-macro"), nasbench_macro.NasBenchMacroSpace)


def test_sizes() -> None:
    # stem widths x (3-stage + 4 positions of the stride-1 stage x 4-stage networks)
    assert r1.R1Space().size() == 3 * (66**3 + 4 * 66**4) == 228_559_320
    assert r2.R2Space().size() == 3 * (66**3 + 4 * 66**4)
    assert mb.MBSpace().size() == 3 * (132**3 + 4 * 132**4) == 3_650_049_216
    assert nb201.NB201Space().size() == 15_625
    assert nasbench_macro.NasBenchMacroSpace().size() == 3_969


def test_enumerate_small_spaces() -> None:
    cells = list(nb201.NB201Space().enumerate())
    assert len(cells) == len(set(cells)) == 15_625
    macro = list(nasbench_macro.NasBenchMacroSpace().enumerate())
    assert len(macro) == len(set(macro)) == 3_969
    with pytest.raises(NotImplementedError):
        next(r1.R1Space().enumerate())


def test_nb201_from_index_matches_enumerate() -> None:
    space = nb201.NB201Space()
    cells = list(space.enumerate())
    for index in (0, 1, 4, 5, 777, 15_624):
        assert space.from_index(index) == cells[index]
    assert cells[0] == "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"


def test_sample_is_distinct_deterministic_and_canonical(space: zsbench.SearchSpace) -> None:
    first = space.sample(60, seed=7)
    assert len(first) == len(set(first)) == 60
    assert space.sample(60, seed=7) == first
    assert space.sample(60, seed=8) != first
    assert all(space.canonical(a) == a for a in first)
    assert space.sample(0) == []
    with pytest.raises(ValueError, match="cannot draw"):
        space.sample(space.size() + 1)


def test_macro_sample_draws_both_stage_counts_and_every_value() -> None:
    space = r1.R1Space()
    specs = [space.parse(a) for a in space.sample(400, seed=0)]
    counts = {len(s.stages) for s in specs}
    assert counts == {3, 4}
    positions = {next(i for i, st in enumerate(s.stages) if st.stride == 1) for s in specs if len(s.stages) == 4}
    assert positions == {0, 1, 2, 3}
    assert {st.width for s in specs for st in s.stages} == set(space.widths)
    assert {st.depth for s in specs for st in s.stages} == set(space.depths)


def test_nasbench_macro_sample_covers_whole_space() -> None:
    space = nasbench_macro.NasBenchMacroSpace()
    assert sorted(space.sample(3_969, seed=1)) == sorted(space.enumerate())


@pytest.mark.parametrize(
    ("name", "arch", "expected"),
    [
        ("R1", "stem64,s1-64x2,s2-128x2,s2-256x2,s2-100x2", ["stage 4 width '100'", "384, 512}"]),
        ("R1", "stem64,s1-64x2,s2-128x2,s2-256x2,s2-512x7", ["stage 4 depth '7'", "{1, 2, 3, 4, 5, 6}"]),
        ("R1", "stem8,s2-64x2,s2-128x2,s2-256x2", ["stem width '8'", "{16, 32, 64}"]),
        ("R1", "stem64,s1-64x2,s1-128x2,s2-256x2,s2-512x2", ["2 stages have stride 2", "exactly 3"]),
        ("R1", "stem64,s2-64x2,s2-128x2", ["has 2 stages", "3 or 4"]),
        ("R1", "stem64,s3-64x2,s2-128x2,s2-256x2", ["stage 1 stride 's3'", "s1, s2"]),
        ("R1", "stem64,s2-064x2,s2-128x2,s2-256x2", ["stage 1 width '064'"]),
        ("R1", "stem64,s2-e6-64x2,s2-128x2,s2-256x2", ["stage 1 's2-e6-64x2'", "s<stride>-<width>x<depth>"]),
        ("R1", "", ["first part ''", "stem<width>"]),
        ("R2", "stem64,s1-256x3,s2-512x4,s2-1024x6,s2-4096x3", ["stage 4 width '4096'", "2048}"]),
        ("MB", "stem32,s2-e5-24x2,s2-e6-32x3,s2-e6-64x4", ["stage 1 expansion 'e5'", "{1, 3, 6}"]),
        ("MB", "stem32,s2-24x2,s2-e6-32x3,s2-e6-64x4", ["stage 1 's2-24x2'", "s<stride>-e<expansion>-<width>x<depth>"]),
        ("MB", "stem32,s2-e6-24x5,s2-e6-32x3,s2-e6-64x4", ["stage 1 depth '5'", "{1, 2, 3, 4}"]),
        ("nb201", "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|", ["node 1 input 0: op 'conv'", "avg_pool_3x3"]),
        ("nb201", "|none~0|+|none~0|none~1|", ["2 node groups", "expected 3"]),
        ("nb201", "|none~0|+|none~0|+|none~0|none~1|none~2|", ["node 2 has 1 inputs", "op~0 ... op~1"]),
        ("nb201", "|none~0|+|none~1|none~0|+|none~0|none~1|none~2|", ["node 2 entry 'none~1'", "<op>~0"]),
        ("nasbench-macro", "0120", ["4 characters", "expected 8 digits"]),
        ("nasbench-macro", "01201203", ["layer 8 is '3'", "2 (MB k5 e6)"]),
    ],
)
def test_parse_errors_name_the_part_and_the_allowed_values(
    host: zsbench.PluginHost, name: str, arch: str, expected: list[str]
) -> None:
    space = host.spaces.get(name)
    with pytest.raises(zsbench.InvalidArchitectureError) as info:
        space.parse(arch)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{name} architecture {arch!r}:")
    for part in expected:
        assert part in message


def test_parse_rejects_non_strings(space: zsbench.SearchSpace) -> None:
    with pytest.raises(zsbench.InvalidArchitectureError, match="must be a string"):
        space.parse(12)  # type: ignore[arg-type]


def test_nasbench_macro_canonical_moves_identities_to_stage_end() -> None:
    space = nasbench_macro.NasBenchMacroSpace()
    assert space.canonical("00000001") == "00000010"
    assert space.canonical("10102001") == "10120010"  # stages 10|102|001 -> 10|120|010
    assert space.canonical("22212220") == "22212220"
    assert space.parse("00000001") == "00000001"  # parse keeps what was written


@pytest.mark.parametrize("name", SPACE_NAMES)
def test_build_is_deterministic_and_restores_rng(host: zsbench.PluginHost, name: str) -> None:
    space = host.spaces.get(name)
    arch = SMALL[name]
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = space.build(arch, num_classes=7, seed=3)
    assert torch.equal(torch.get_rng_state(), before)
    b = space.build(arch, num_classes=7, seed=3)
    c = space.build(arch, num_classes=7, seed=4)
    state_a, state_b, state_c = a.state_dict(), b.state_dict(), c.state_dict()
    assert state_a.keys() == state_b.keys()
    assert all(torch.equal(state_a[k], state_b[k]) for k in state_a)
    assert any(not torch.equal(state_a[k], state_c[k]) for k in state_a if state_a[k].is_floating_point())
    x = torch.randn(2, 3, 32, 32)
    a.eval()
    out = a(x)
    assert out.shape == (2, 7)
    assert torch.isfinite(out).all()


def test_nasbench_macro_builds_the_canonical_network() -> None:
    space = nasbench_macro.NasBenchMacroSpace()
    a = space.build("00000001", seed=0).state_dict()
    b = space.build("00000010", seed=0).state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_r1_features_of_resnet18() -> None:
    feats = r1.R1Space().features(r1.RESNET18)
    expected = {
        "stem_width": 64, "num_stages": 4, "stride1_stage": 1,
        "S1_in": 64, "S1_out": 64, "S1_stride": 1, "S1_depth": 2,
        "S2_in": 64, "S2_out": 128, "S2_stride": 2, "S2_depth": 2,
        "S3_in": 128, "S3_out": 256, "S3_stride": 2, "S3_depth": 2,
        "S4_in": 256, "S4_out": 512, "S4_stride": 2, "S4_depth": 2,
    }  # fmt: skip
    assert feats == expected


def test_mb_features_of_three_stage_network() -> None:
    feats = mb.MBSpace().features("stem24,s2-e6-32x3,s2-e1-64x1,s2-e3-96x4")
    assert feats["num_stages"] == 3 and feats["stride1_stage"] == 0
    assert (feats["S2_in"], feats["S2_out"], feats["S2_expansion"], feats["S2_depth"]) == (32, 64, 1, 1)
    assert (feats["S3_in"], feats["S3_out"], feats["S3_expansion"], feats["S3_depth"]) == (64, 96, 3, 4)
    assert all(feats[f"S4_{k}"] == 0 for k in ("in", "out", "stride", "depth", "expansion"))


def test_nb201_features() -> None:
    space = nb201.NB201Space()
    feats = space.features(SMALL["nb201"])
    assert feats["num_nor_conv_3x3"] == 4 and feats["num_nor_conv_1x1"] == 1 and feats["num_skip_connect"] == 1
    assert feats["edge_10"] == nb201.OPS.index("nor_conv_3x3") and feats["edge_30"] == nb201.OPS.index("skip_connect")
    assert feats["cell_depth"] == 3 and feats["connected"] == 1
    # node 3 only reachable through 'none': disconnected; its longest conv path still runs through none
    cut = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|"
    assert space.features(cut)["connected"] == 0 and space.features(cut)["cell_depth"] == 2


def test_nasbench_macro_features() -> None:
    feats = nasbench_macro.NasBenchMacroSpace().features("00000001")  # canonical 00000010
    assert [feats[f"L{i}"] for i in range(1, 9)] == [0, 0, 0, 0, 0, 0, 1, 0]
    assert (feats["num_identity"], feats["num_mb_k3e3"], feats["num_mb_k5e6"]) == (7, 1, 0)
    assert (feats["S3_in"], feats["S3_out"], feats["S3_depth"]) == (128, 256, 1)


def test_describe_pool(space: zsbench.SearchSpace) -> None:
    archs = space.sample(4, seed=2)
    table = describe_pool(space, archs)
    assert list(table["arch"]) == archs
    for row, arch in zip(table.itertuples(), archs, strict=True):
        cost = space.cost(arch)
        assert (row.flops, row.params, row.depth) == (cost.flops, cost.params, cost.depth)
    assert set(space.features(archs[0])) <= set(table.columns)


def test_macro_sample_with_flops_budget() -> None:
    space = r2.R2Space()
    budget = 50e6
    cheap = space.sample(30, seed=3, max_flops=budget)
    assert len(set(cheap)) == 30
    assert all(space.cost(a).flops <= budget for a in cheap)
    assert max(space.cost(a).flops for a in space.sample(30, seed=3)) > budget  # the budget did something
    assert space.sample(30, seed=3, max_flops=budget) == cheap
    with pytest.raises(ValueError, match="below the smallest network"):
        space.sample(1, max_flops=1e6)
    with pytest.raises(ValueError, match="found only"):
        space.sample(1, max_flops=space.cost("stem16,s2-64x1,s2-64x1,s2-64x1").flops)


@pytest.mark.parametrize("space", [nb201.NB201Space(), nasbench_macro.NasBenchMacroSpace()], ids=["nb201", "nasbench-macro"])
def test_spaces_without_their_own_bounded_draw_use_the_rejection_default(space) -> None:
    flops = sorted(space.cost(a).flops for a in space.sample(40, seed=0))
    budget = flops[10]  # about a quarter of the space is this cheap
    cheap = space.sample(6, seed=1, max_flops=budget)
    assert len(set(cheap)) == 6 and all(space.cost(a).flops <= budget for a in cheap)
    assert space.sample(6, seed=1, max_flops=budget) == cheap  # deterministic
    assert space.sample(6, seed=2, max_flops=budget) != cheap  # and the seed matters
    with pytest.raises(ValueError, match="found only 0 of 1 architectures"):
        space.sample(1, seed=1, max_flops=1.0)  # no network has a single multiply-accumulate
    with pytest.raises(ValueError, match="max_flops must be positive"):
        space.sample(1, seed=1, max_flops=0)
