"""The publication policy: when and how a signature becomes public (threat model, timing).

Every rule of the policy lives here, as values and pure functions without a model, so the
model, the staff form, the petition services, the project's system checks and the batch
mechanics (`petition/publication.py`) all read the same ones:

- the bounds a petition's policy must stay within (also database constraints on Petition);
- the safe floor, refused outside DEBUG unless the operator sets
  COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION (production's system check refuses such defaults);
- the defaults of new petitions (from the settings: the embedded default publishes at once,
  production.py defaults to an interval of 3600 s and batches of 5, a longest wait of 86400 s);
- what may change once a petition is open: only a stricter policy;
- when batches happen: slot boundaries, the window after a boundary in which a run may
  decide it, the draw among the waiting signatures and when a signature is due for sure.

`petition/publication.py` keeps the mechanics: locks, the recorded slot decisions, the
sealed waiting rows, the batch's insertions and counts.
"""

from __future__ import annotations

import datetime
import random

from django.conf import settings
from django.utils.translation import gettext_lazy as _

# Bounds (seconds, entries). Interval 0 with a batch of 1 publishes each signature at once:
# for tests and demos only (the staff page warns).
MAX_PUBLISH_INTERVAL = 7 * 86400
MAX_PUBLISH_MIN_BATCH = 1000
MIN_PUBLISH_MAX_WAIT = 3600
MAX_PUBLISH_MAX_WAIT = 14 * 86400

# The safe floor: outside DEBUG a policy below it is refused unless the operator sets
# COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION, and the pages call it unsafe. With fewer than 5 new
# signatures per batch a watcher's "one of these k" is nearly "this one"; with a wait under
# a day, entries leave the random pool so soon that a batch's members mostly are whoever
# signed in the last slot.
SAFE_PUBLISH_MIN_BATCH = 5
SAFE_PUBLISH_MAX_WAIT = 86400

# Each waiting signature joins the batch at a slot boundary with this probability, so a
# signature waits on average two slots once k are waiting, and an outsider who sends k-1
# entries right after a colleague's cannot know which of the waiting ones go out together.
# Policy, not mechanics: it decides how long a signer waits and what a watcher can infer.
DRAW_PROBABILITY = 0.5
# A run decides a slot only this soon after its boundary (seconds; the beat runs every
# minute); a later run, e.g. after the worker was down, leaves the slot to the next boundary.
# Policy too: it bounds when after a boundary a batch can appear, so batches never come at
# a moment that follows from when the worker came back.
DECISION_WINDOW = 600

# Publication policy of an open petition may only become stricter: an infiltrated organizer
# must not be able to switch to real-time publication and watch who signs. A larger batch,
# a longer interval and a longer maximum wait each hide more.
POLICY_FIELDS_ONLY_STRICTER = {
    "publish_min_batch": _("Once the petition is open, batches can only get larger."),
    "publish_interval": _("Once the petition is open, the interval can only get longer."),
    "publish_max_wait": _("Once the petition is open, the longest wait can only get longer."),
}


def default_interval() -> int:
    return settings.COUNTERSIGN_PUBLISH_INTERVAL


def default_min_batch() -> int:
    return settings.COUNTERSIGN_PUBLISH_MIN_BATCH


def default_max_wait() -> int:
    return settings.COUNTERSIGN_PUBLISH_MAX_WAIT


# What the staff form offers a new petition when the settings' defaults are looser: the
# help text's recommendation (an hour), and the safe floor. The embedded demo's settings
# publish at once; a new petition still starts safe, and an organizer must lower it on
# purpose (review O4).
SAFE_PUBLISH_INTERVAL = 3600


def new_petition_policy() -> dict[str, int]:
    """The publication policy a new petition's form starts from: the deployment's defaults,
    raised to the safe values where they are looser."""
    return {
        "publish_interval": max(default_interval(), SAFE_PUBLISH_INTERVAL),
        "publish_min_batch": max(default_min_batch(), SAFE_PUBLISH_MIN_BATCH),
        "publish_max_wait": max(default_max_wait(), SAFE_PUBLISH_MAX_WAIT),
    }


def publishes_immediately(*, interval: int, min_batch: int) -> bool:
    """Each signature public on its own, at once: fine for a demo, unsafe for signers."""
    return interval == 0 and min_batch == 1


def below_safe_floor(*, min_batch: int, max_wait: int) -> bool:
    """The pages say so and never promise that nobody can tell when one person signed."""
    return min_batch < SAFE_PUBLISH_MIN_BATCH or max_wait < SAFE_PUBLISH_MAX_WAIT


def unsafe_allowed() -> bool:
    """A policy below the safe floor is accepted in DEBUG (the demo) or by the operator's
    explicit override. The database keeps only the wide bounds: the floor depends on the
    deployment, the override on the operator."""
    return settings.DEBUG or settings.COUNTERSIGN_ALLOW_UNSAFE_PUBLICATION


def safe_floor_errors(*, min_batch: int | None, max_wait: int | None) -> dict[str, str]:
    """Per field, why a policy below the safe floor is refused (nothing if it is allowed).
    Outside the demo, an infiltrated organizer must not be able to set a policy that
    publishes signers one by one."""
    if unsafe_allowed():
        return {}
    errors = {}
    if min_batch is not None and min_batch < SAFE_PUBLISH_MIN_BATCH:
        errors["publish_min_batch"] = _(
            "Batches of fewer than %(k)d new signatures would let someone who knows when "
            "a coworker got a code pick out their signature. Choose %(k)d or more."
        ) % {"k": SAFE_PUBLISH_MIN_BATCH}
    if max_wait is not None and max_wait < SAFE_PUBLISH_MAX_WAIT:
        errors["publish_max_wait"] = _(
            "A longest wait under %(hours)d hours mixes too few signatures together. "
            "Choose %(hours)d hours or more."
        ) % {"hours": SAFE_PUBLISH_MAX_WAIT // 3600}
    return errors


def looser_fields(*, stored: dict, edited: dict) -> dict[str, str]:
    """Per field, why an open petition's edit is refused: it would loosen the policy."""
    return {
        name: message
        for name, message in POLICY_FIELDS_ONLY_STRICTER.items()
        if name in edited and edited[name] < stored[name]
    }


def slot_start(now: datetime.datetime, interval: int) -> datetime.datetime:
    """The slot boundary at or before `now` (`now` itself when there is no interval)."""
    if interval <= 0:
        return now
    seconds = int(now.timestamp()) // interval * interval
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)


def slot_end(now: datetime.datetime, interval: int) -> datetime.datetime | None:
    """End of the interval slot that `now` falls in (None when there is no interval)."""
    if interval <= 0:
        return None
    return slot_start(now, interval) + datetime.timedelta(seconds=interval)


def too_late_to_decide(now: datetime.datetime, interval: int) -> bool:
    """True if `now` is too long after the last boundary to decide its slot."""
    if interval <= 0:
        return False  # with no interval every run decides
    return (now - slot_start(now, interval)).total_seconds() >= min(interval, DECISION_WINDOW)


def overdue_at(received_on: datetime.date, max_wait: int) -> datetime.datetime:
    """When an entry that arrived on `received_on` is drawn into the next batch for sure."""
    end_of_day = datetime.datetime.combine(
        received_on + datetime.timedelta(days=1), datetime.time.min, tzinfo=datetime.UTC
    )
    return end_of_day + datetime.timedelta(seconds=max_wait)


def joins_batch(
    *, received_on: datetime.date, max_wait: int, now: datetime.datetime, rng: random.Random
) -> bool:
    """Whether a waiting signature is drawn at this boundary: for sure once overdue, else
    with DRAW_PROBABILITY (the batch mechanics top the draw up to k at random)."""
    return overdue_at(received_on, max_wait) <= now or rng.random() < DRAW_PROBABILITY
