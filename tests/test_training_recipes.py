"""Recipes are data: the paper's values, hashing, files."""

from __future__ import annotations

import json

import pytest

from zsbench.errors import UsageError
from zsbench.training.recipes import CPU, CPU_V2, PAPER, RECIPES, Recipe, get_recipe


def test_paper_recipe_is_the_nas_bench_zero_recipe() -> None:
    assert PAPER.name == "paper"
    assert (PAPER.lr, PAPER.momentum, PAPER.nesterov, PAPER.epochs) == (0.1, 0.9, True, 360)
    assert (PAPER.weight_decay, PAPER.label_smoothing, PAPER.valid_fraction) == (5e-4, 0.1, 0.1)
    assert PAPER.autoaugment and PAPER.mixup_alpha > 0
    assert PAPER.train_subset is None and PAPER.valid_subset is None and PAPER.test_subset is None


def test_cpu_recipe_only_shrinks_the_budget() -> None:
    # Everything but the budget fields (epochs, subsets, batch and image size) equals the paper recipe.
    # The learning rate may follow the batch size (linear scaling rule): same rate per image.
    budget = {"name", "epochs", "train_subset", "valid_subset", "test_subset", "input_size", "batch_size", "lr"}
    paper, cpu = PAPER.as_dict(), CPU.as_dict()
    assert {k for k in paper if paper[k] != cpu[k]} <= budget
    assert CPU.lr / CPU.batch_size == pytest.approx(PAPER.lr / PAPER.batch_size)
    assert CPU.epochs < PAPER.epochs and CPU.train_subset is not None


def test_cpu_v2_recipe_only_shrinks_the_budget_and_evaluates_the_full_test_split() -> None:
    budget = {"name", "epochs", "train_subset", "valid_subset", "input_size", "batch_size", "lr"}
    paper, v2 = PAPER.as_dict(), CPU_V2.as_dict()
    assert {k for k in paper if paper[k] != v2[k]} <= budget
    assert CPU_V2.lr / CPU_V2.batch_size == pytest.approx(PAPER.lr / PAPER.batch_size)
    assert CPU_V2.test_subset is None  # all 10,000 official test images
    # more training than `cpu`, on more images: 785 steps (5 epochs of 157 batches) against 128
    assert CPU_V2.epochs * (CPU_V2.train_subset // CPU_V2.batch_size) > 6 * CPU.epochs * (CPU.train_subset // CPU.batch_size)
    assert get_recipe("cpu-v2") is CPU_V2
    # the committed nbzero-mini-v2 records carry this hash: changing the recipe would orphan them
    assert CPU_V2.hash() == "5a4a04acbf18"


def test_hash_is_stable_and_sensitive_to_every_field() -> None:
    assert PAPER.hash() == Recipe().hash()
    assert len(PAPER.hash()) == 12
    changed = {
        "lr": 0.05, "epochs": 10, "nesterov": False, "mixup_alpha": 0.0, "train_subset": 100, "input_size": 16,
    }
    hashes = {PAPER.replace(**{k: v}).hash() for k, v in changed.items()}
    assert len(hashes) == len(changed) and PAPER.hash() not in hashes
    assert len({r.hash() for r in RECIPES.values()}) == len(RECIPES)


def test_recipe_file_round_trip_and_errors(tmp_path) -> None:
    path = tmp_path / "short.json"
    path.write_text(json.dumps({"epochs": 3, "train_subset": 50}))
    recipe = get_recipe(str(path))
    assert recipe.name == "short" and recipe.epochs == 3 and recipe.train_subset == 50
    assert recipe.lr == PAPER.lr  # unspecified fields keep the paper's values
    assert Recipe.from_dict(recipe.as_dict()) == recipe
    (tmp_path / "bad.json").write_text(json.dumps({"epochz": 3}))
    with pytest.raises(UsageError, match="epochz"):
        get_recipe(str(tmp_path / "bad.json"))
    with pytest.raises(UsageError, match="unknown recipe"):
        get_recipe("fast")
    with pytest.raises(UsageError, match="valid_fraction"):
        Recipe(valid_fraction=1.0)
