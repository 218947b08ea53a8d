"""Which thresholds a count crosses: plain arithmetic, no Django, tested on its own."""

from __future__ import annotations

from collections.abc import Iterable

# The default ladder: these, then every STEP after the last.
LADDER = (10, 25, 50, 100, 250, 500, 1_000)
STEP = 1_000
GOAL_PERCENTAGES = (25, 50, 75, 100)


def ladder_up_to(count: int) -> list[int]:
    """The default thresholds at or below `count` (10, 25, …, 1,000, 2,000, …)."""
    values = [t for t in LADDER if t <= count]
    values.extend(range(LADDER[-1] + STEP, count + 1, STEP))
    return values


def goal_thresholds(goal: int) -> list[int]:
    """25/50/75/100 % of the goal, rounded down, at least 1."""
    return sorted({max(1, goal * p // 100) for p in GOAL_PERCENTAGES})


def crossed(
    *,
    previous: int,
    current: int,
    goal: int,
    use_ladder: bool = True,
    use_goal_percentages: bool = True,
    extra: Iterable[int] = (),
) -> list[int]:
    """Thresholds t with previous < t <= current, ascending. Nothing when the count fell."""
    if current <= previous:
        return []
    candidates: set[int] = set(extra)
    if use_ladder:
        candidates.update(ladder_up_to(current))
    if use_goal_percentages:
        candidates.update(goal_thresholds(goal))
    return sorted(t for t in candidates if previous < t <= current)


def next_goal(count: int, max_goal: int) -> int:
    """The next rung of the ladder above `count`, for petitions that raise their goal
    automatically (100 reached → 250; 1,000 → 2,000)."""
    for rung in LADDER:
        if rung > count:
            return min(rung, max_goal)
    return min((count // STEP + 1) * STEP, max_goal)
