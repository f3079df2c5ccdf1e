"""First-party zsbench plugins: spaces."""
