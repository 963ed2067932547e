"""Wilson score interval for a share of votes: a fair ranking key for small counts."""

from __future__ import annotations

import math

Z_95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson_interval(successes: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval (low, high) for successes out of total; (0, 0) for none.

    Unlike the raw share, the interval is wide for few votes, so a single vote
    cannot look as certain as a hundred.
    """
    if total <= 0:
        return 0.0, 0.0
    if not 0 <= successes <= total:
        raise ValueError("successes must be between 0 and total")
    share = successes / total
    z2 = z * z
    centre = share + z2 / (2 * total)
    spread = z * math.sqrt(share * (1 - share) / total + z2 / (4 * total * total))
    denominator = 1 + z2 / total
    low = (centre - spread) / denominator
    high = (centre + spread) / denominator
    return max(0.0, low), min(1.0, high)


def wilson_lower_bound(successes: int, total: int, z: float = Z_95) -> float:
    """The lower end of the Wilson interval: the share we can be confident of."""
    return wilson_interval(successes, total, z)[0]
