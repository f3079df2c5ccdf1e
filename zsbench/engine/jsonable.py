"""One conversion of result values to what ``json.dumps`` writes as standard JSON."""

from __future__ import annotations

import math
from typing import Any


def json_value(value: Any) -> Any:
    """``value`` as a plain JSON value: NumPy/torch scalars unwrapped, non-finite floats as ``None``
    (standard JSON has no NaN or infinity), tuples as lists; anything else unchanged."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, tuple):
        return list(value)
    return value
