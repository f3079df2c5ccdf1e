"""Tests of the example plugin, through the contract tests zsbench ships for plugin authors."""

from __future__ import annotations

import math

import torch
from zsbench_proxy_myidea import MyIdea

from zsbench.testing import ProxyContract, make_tiny_batch


class TestMyIdeaContract(ProxyContract):
    proxy = MyIdea()
    entry_point = "myidea"


def test_value_equals_the_definition() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 10))
    batch = make_tiny_batch()
    with torch.no_grad():
        logits = model(batch.inputs).double()
    expected = math.log(logits.var(dim=0, unbiased=False).mean().item())
    assert MyIdea().score(model, batch) == expected


def test_a_constant_network_has_no_score() -> None:
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 10))
    torch.nn.init.zeros_(model[1].weight)
    assert math.isnan(MyIdea().score(model, make_tiny_batch()))
