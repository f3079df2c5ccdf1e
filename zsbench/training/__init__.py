"""Training pipeline: recipes, datasets, trainer, pool builder and executors."""
