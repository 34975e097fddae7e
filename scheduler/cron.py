"""Turn a standard 5-field crontab line into an APScheduler 3 ``CronTrigger`` that means the same.

APScheduler 3 numbers weekdays from Monday (0) while cron numbers them from
Sunday (0 or 7), so ``"0 6 * * 1"`` handed to ``CronTrigger.from_crontab``
would fire on Tuesdays. The weekday field is therefore translated to day names
here; every other field already has cron's meaning.
"""

from __future__ import annotations

from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

# Cron's numbering: 0 and 7 are Sunday.
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_NUMBERS = {name: n for n, name in enumerate(_DAY_NAMES)}


def _day_number(token: str, field: str) -> int:
    token = token.strip().lower()
    if token in _DAY_NUMBERS:
        return _DAY_NUMBERS[token]
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    raise ValueError(f"bad weekday {token!r} in {field!r} (use 0-7 or sun-sat)")


def cron_weekdays(field: str) -> str:
    """The cron weekday field as an APScheduler ``day_of_week`` value (day names)."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"bad step {step_text!r} in weekday field {field!r}")
            step = int(step_text)
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            start, _, end = base.partition("-")
            first, last = _day_number(start, field), _day_number(end, field)
            if end.strip() == "7":  # "5-7" is Friday to Sunday
                last = 7
            if last < first:
                raise ValueError(f"backwards weekday range {base!r} in {field!r}")
        else:
            first = last = _day_number(base, field)
            if step_text:  # cron reads "1/2" as "1-7/2"
                last = 7
        days.update(n % 7 for n in range(first, last + 1, step))
    return ",".join(_DAY_NAMES[n] for n in sorted(days))


def crontab_trigger(
    expression: str, *, timezone: tzinfo | str = "UTC", jitter: int | None = None
) -> CronTrigger:
    """A trigger for ``minute hour day month weekday``; raises ValueError on a bad line."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"cron schedule {expression!r} must have 5 fields (minute hour day month weekday)"
        )
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=cron_weekdays(weekday),
        timezone=timezone,
        jitter=jitter or None,
    )
