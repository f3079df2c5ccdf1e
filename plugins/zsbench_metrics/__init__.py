"""First-party zsbench plugins: metrics."""
