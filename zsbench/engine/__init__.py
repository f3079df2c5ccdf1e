"""The engine: scoring architectures with proxies and computing indices.

``harness`` scores proxies on one model; ``tasks`` turns a benchmark's architectures into tasks that
``executors`` run (inline, in processes, on Ray); ``cache`` stores every score and cost; ``evaluation``
drives a whole run and ``indices`` computes the indices with their intervals; ``progress`` reports on it.
Internal: plugins code against the top-level modules of :mod:`zsbench`, not against these.
"""
