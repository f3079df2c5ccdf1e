"""First-party zsbench plugins: proxies."""
