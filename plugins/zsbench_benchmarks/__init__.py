"""First-party zsbench plugins: benchmarks."""
