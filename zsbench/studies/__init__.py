"""Studies on scored architectures: score tables (``scores``), hybrid-proxy search (``hybrid``), factor
analysis and transfer (``analysis``), and the published figures they are compared with (``published``).
Internal application code: it reads scores through the engine and never recomputes a cached one.
"""
