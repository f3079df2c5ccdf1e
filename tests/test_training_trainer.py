"""The training loop: it learns, it is deterministic, it reports divergence."""

from __future__ import annotations

import pytest
import torch
from toy_training import ToySpace, write_image_tree

from zsbench.training.datasets import prepare_training_data
from zsbench.training.recipes import Recipe
from zsbench.training.trainer import TrainingDivergedError, train_network


@pytest.fixture(scope="module")
def colour_data(tmp_path_factory):
    root = write_image_tree(tmp_path_factory.mktemp("data"), train_per_class=12, test_per_class=3, size=16)
    return root


def _recipe(**changes) -> Recipe:
    base = Recipe(name="unit", epochs=12, batch_size=16, lr=0.05, autoaugment=False, eval_batch_size=64)
    return base.replace(**changes)


def test_training_learns_the_colour_classes(colour_data) -> None:
    torch.set_num_threads(1)
    recipe = _recipe()
    data = prepare_training_data("cifar10", recipe, colour_data)
    assert (len(data.train), len(data.valid), len(data.test)) == (110, 10, 30)
    untrained = ToySpace().build("w12-d1", seed=0)
    losses: list[float] = []
    outcome = train_network(untrained, data, recipe, seed=0, device="cpu", on_epoch=lambda e, loss: losses.append(loss))
    assert outcome.device == "cpu" and not outcome.amp and not outcome.channels_last
    assert outcome.epochs == 12 and outcome.steps == 12 * 7  # ceil(110 / 16) steps per epoch
    assert len(losses) == 12 and losses[-1] < losses[0]
    # Ten colour classes: chance is 10 %.
    assert outcome.test_accuracy >= 60.0, outcome
    assert outcome.valid_accuracy >= 50.0, outcome


def test_training_is_deterministic_for_a_seed(colour_data) -> None:
    torch.set_num_threads(1)
    recipe = _recipe(epochs=2, autoaugment=True, mixup_alpha=0.2)
    data = prepare_training_data("cifar10", recipe, colour_data)
    runs = [
        train_network(ToySpace().build("w8-d2", seed=s), data, recipe, seed=s, device="cpu") for s in (3, 3, 4)
    ]
    assert runs[0].train_loss == runs[1].train_loss
    assert runs[0].test_accuracy == runs[1].test_accuracy
    assert runs[0].train_loss != runs[2].train_loss


def test_divergence_is_an_error(colour_data) -> None:
    recipe = _recipe(epochs=3, lr=1e30, mixup_alpha=0.0)
    data = prepare_training_data("cifar10", recipe, colour_data)
    with pytest.raises(TrainingDivergedError, match="loss became"):
        train_network(ToySpace().build("w8-d1", seed=0), data, recipe, seed=0, device="cpu")
