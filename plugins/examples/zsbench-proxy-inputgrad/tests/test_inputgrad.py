"""Tests of the second example plugin, through the contract tests zsbench ships for plugin authors."""

from __future__ import annotations

import math

import pytest
import torch
from zsbench_proxy_inputgrad import InputGrad

from zsbench.testing import ProxyContract, make_tiny_batch


class TestInputGradContract(ProxyContract):
    proxy = InputGrad()
    entry_point = "inputgrad"


def test_a_linear_model_scores_its_closed_form_gradient() -> None:
    # for logits W x + b, d CE / d x = W^T (softmax(logits) - onehot(target)) per image
    torch.manual_seed(0)
    linear = torch.nn.Linear(3 * 16 * 16, 10).double()
    model = torch.nn.Sequential(torch.nn.Flatten(), linear)
    batch = make_tiny_batch()
    x = batch.inputs.double().flatten(1)
    with torch.no_grad():
        residual = torch.softmax(linear(x), dim=1) - torch.nn.functional.one_hot(batch.targets, 10).double()
        expected = math.log((residual @ linear.weight).norm(dim=1).mean().item())
    assert InputGrad().score(model, batch) == pytest.approx(expected, rel=1e-9)


def test_a_network_blind_to_its_input_has_no_score() -> None:
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 16 * 16, 10))
    torch.nn.init.zeros_(model[1].weight)
    assert math.isnan(InputGrad().score(model.double(), make_tiny_batch()))

