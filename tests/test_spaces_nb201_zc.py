"""nb201-zc, zero-cost-nas's build of NAS-Bench-201's network: layer structure and parameter count
from its definition, and scores keyed apart from nb201's."""

from __future__ import annotations

import warnings

import torch
from torch import nn
from zsbench_spaces._nb201_zc_layers import CANDIDATE_OPS, MaskedCell
from zsbench_spaces.nb201_zc import NB201ZeroCostSpace, cell_params

import zsbench
from zsbench.costs import count_params
from zsbench.engine.cache import ScoreCache

ARCH = "|none~0|+|skip_connect~0|nor_conv_3x3~1|+|none~0|nor_conv_1x1~1|avg_pool_3x3~2|"


def test_one_cell_holds_every_candidate_and_its_parameters_counted_by_hand() -> None:
    cell = MaskedCell(NB201ZeroCostSpace().parse(ARCH), 16)
    assert len(cell.candidates) == 30  # 6 edges x 5 candidate ops, all instantiated
    assert [type(m).__name__ for m in cell.candidates[:5]] == ["Zero", "AvgPool2d", "ReLUConvBN", "ReLUConvBN", "Identity"]
    assert [CANDIDATE_OPS[i % 5] for i in cell.active] == ["none", "skip_connect", "nor_conv_3x3", "none", "nor_conv_1x1", "avg_pool_3x3"]
    # per edge, whatever its op: 3x3 conv 16*16*9 + bias 16, 1x1 conv 16*16 + bias 16; BN not affine: none
    assert sum(p.numel() for p in cell.parameters()) == 6 * (2304 + 16 + 256 + 16) == 15_552 == cell_params(16)
    for bn in (m for m in cell.modules() if isinstance(m, nn.BatchNorm2d)):
        assert not bn.affine and not bn.track_running_stats and bn.running_mean is None
    assert all(m.bias is not None for m in cell.modules() if isinstance(m, nn.Conv2d))


def test_network_params_and_only_the_chosen_op_runs() -> None:
    space = NB201ZeroCostSpace()
    model = space.build(ARCH, 10, seed=0)
    # stem 464 + cells 5*(15,552 + 61,824 + 246,528) + reductions 14,464 + 57,600 + head 128 + 650
    assert count_params(model) == space.cost(ARCH).params == 1_692_826
    assert space.cost("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|").params == 1_692_826  # the same for every cell
    for m in model.modules():  # the benchmark's BN and bias-free convs outside the cells
        if isinstance(m, nn.BatchNorm2d) and m.affine:
            assert m.track_running_stats
    cell = model.cells[0]
    x = torch.randn(4, 16, 32, 32)
    cell(x).sum().backward()
    convs = [i for i, m in enumerate(cell.candidates) if isinstance(m, nn.Sequential)]
    ran = {i for i in convs if cell.candidates[i][1].weight.grad is not None}
    assert ran == {i for i in cell.active if i in convs} and len(ran) == 2  # the edge's 3x3 and the 1x1, idle ones untouched


def test_same_cell_and_proxy_on_the_two_builds_are_two_cache_entries(tmp_path) -> None:
    cache = tmp_path / "s.sqlite"
    values = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Gaussian inputs without a data root
        for bench in ("nb201-cifar10", "nb201-zc-cifar10"):
            run = zsbench.RunOptions(cache=cache, use_packs=False)  # the scores must land in this cache
            result = zsbench.evaluate("grad_norm", bench, pool=zsbench.PoolOptions(limit=1), run=run,
                                      indices=zsbench.IndexOptions(bootstrap=0))
            values[bench] = float(result.scores["grad_norm"].iloc[0])
    with ScoreCache(cache) as store:
        rows = store.summary()
    assert sorted((r[0], r[1], r[4]) for r in rows) == [("nb201", "grad_norm", 1), ("nb201-zc", "grad_norm", 1)]
    assert values["nb201-cifar10"] != values["nb201-zc-cifar10"]
