"""Training pipeline: recipes, datasets, trainer, pool builder and its tasks. Internal; the tables a build
writes are read through the public :mod:`zsbench.builds`."""
