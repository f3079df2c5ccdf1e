"""Property tests (hypothesis): encodings round-trip, malformed strings fail only with
InvalidArchitectureError, and sampled architectures build and run a forward pass."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from zsbench_spaces import mb, nasbench_macro, nb201, r1, r2
from zsbench_spaces._macro import MacroArch, MacroSpace, StageSpec

import zsbench

MACRO_SPACES = [r1.R1Space(), r2.R2Space(), mb.MBSpace()]
ALL_SPACES = [*MACRO_SPACES, nb201.NB201Space(), nasbench_macro.NasBenchMacroSpace()]
FAST = settings(max_examples=60, deadline=None, derandomize=True)
MACRO_BENCH_NETWORKS = frozenset(nasbench_macro.NasBenchMacroSpace().enumerate())


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest: one torch thread for the module


@st.composite
def macro_specs(draw: st.DrawFn, space: MacroSpace) -> MacroArch:
    num_stages = draw(st.sampled_from([3, 4]))
    strides = [2] * num_stages
    if num_stages == 4:
        strides[draw(st.integers(0, 3))] = 1
    stages = tuple(
        StageSpec(
            stride=s,
            width=draw(st.sampled_from(space.widths)),
            depth=draw(st.sampled_from(space.depths)),
            expansion=draw(st.sampled_from(space.expansions)) if space.expansions else None,
        )
        for s in strides
    )
    return MacroArch(draw(st.sampled_from(space.stem_widths)), stages)


@pytest.mark.parametrize("space", MACRO_SPACES, ids=lambda s: s.name)
@FAST
@given(data=st.data())
def test_macro_round_trip(space: MacroSpace, data: st.DataObject) -> None:
    spec = data.draw(macro_specs(space))
    text = space.encode(spec)
    assert space.parse(text) == spec
    assert space.canonical(text) == text
    features = space.features(text)
    assert features["num_stages"] == len(spec.stages)
    assert [features[f"S{i + 1}_out"] for i in range(len(spec.stages))] == [s.width for s in spec.stages]


@FAST
@given(ops=st.tuples(*[st.sampled_from(nb201.OPS)] * 6))
def test_nb201_round_trip(ops: tuple[str, ...]) -> None:
    space = nb201.NB201Space()
    spec = (ops[0:1], ops[1:3], ops[3:6])
    text = space.encode(spec)
    assert space.parse(text) == spec
    assert space.canonical(text) == text
    assert text.count("+") == 2 and text.startswith("|") and text.endswith("|")


@FAST
@given(digits=st.text(alphabet="012", min_size=8, max_size=8))
def test_nasbench_macro_canonical_is_idempotent_and_cost_preserving(digits: str) -> None:
    space = nasbench_macro.NasBenchMacroSpace()
    canonical = space.canonical(digits)
    assert space.canonical(canonical) == canonical
    assert space.encode(space.parse(canonical)) == canonical
    assert sorted(canonical) == sorted(digits)  # only moves layers
    assert canonical in MACRO_BENCH_NETWORKS
    assert space.cost(digits) == space.cost(canonical)


@pytest.mark.parametrize("space", ALL_SPACES, ids=lambda s: s.name)
@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet="stem0123456789,-xe|+~_nonrcvkipagl", max_size=60))
def test_malformed_strings_fail_cleanly(space: zsbench.SearchSpace, text: str) -> None:
    try:
        spec = space.parse(text)
    except zsbench.InvalidArchitectureError as exc:
        assert "\n" not in str(exc)
        return
    # whatever parses is a member of the space and round-trips through its canonical form
    canonical = space.encode(spec)
    assert space.canonical(canonical) == canonical


@pytest.mark.parametrize(
    ("space", "examples"),
    [(r1.R1Space(), 3), (r2.R2Space(), 3), (mb.MBSpace(), 4), (nb201.NB201Space(), 3), (nasbench_macro.NasBenchMacroSpace(), 3)],
    ids=lambda x: getattr(x, "name", None),
)
def test_sampled_architectures_build_and_run_forward(space: zsbench.SearchSpace, examples: int) -> None:
    @settings(max_examples=examples, deadline=None, derandomize=True)
    @given(seed=st.integers(0, 2**31 - 1))
    def check(seed: int) -> None:
        arch = space.sample(1, seed=seed)[0]
        model = space.build(arch, num_classes=10, seed=seed)
        x = torch.randn(2, 3, 32, 32)
        with torch.no_grad():
            out = model(x)
        assert out.shape == (2, 10), arch
        assert torch.isfinite(out).all(), arch

    check()
