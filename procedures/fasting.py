"""When to stop eating, stop clear fluids and arrive, for a personalised appointment sheet.

Pure functions: no database, no request, nothing stored, so a patient's appointment time
never leaves the response it is printed on.

Times are Europe/London wall-clock times. The fasting rules are about how long the stomach
has been empty, so we count REAL ELAPSED HOURS back from arrival: the arithmetic is done in
UTC and only then shown as a London clock time. Across the spring change a "6 hours before"
stop can therefore read 7 hours earlier on the clock, and across the autumn change 5 hours
earlier. (Python's own aware-datetime subtraction would count wall-clock hours instead.)
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import dateformat
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

LONDON = ZoneInfo("Europe/London")
UTC = datetime.UTC


class TimeDoesNotExist(ValueError):
    """A wall-clock time skipped when the clocks go forward (for example 1:30am in late March)."""


@dataclass(frozen=True)
class FastingPlan:
    appointment: datetime.datetime  # aware, London
    arrival: datetime.datetime
    arrive_hours_before: Decimal
    stop_food: datetime.datetime | None  # None: no need to stop eating
    stop_clear_fluids: datetime.datetime | None
    food_hours: Decimal | None
    clear_fluids_hours: Decimal | None

    @property
    def fasting(self):
        return self.stop_food is not None or self.stop_clear_fluids is not None

    @property
    def clocks_change(self):
        """True when the clocks change between the first stop time and arrival."""
        earliest = min(t for t in (self.stop_food, self.stop_clear_fluids, self.arrival) if t)
        return earliest.utcoffset() != self.arrival.utcoffset()


def london_time(day, time):
    """A London wall-clock date and time as an aware datetime.

    In the autumn the hour from 1am repeats: we take the first one (still summer time), which
    makes the patient stop eating slightly earlier rather than later.
    """
    local = datetime.datetime.combine(day, time, tzinfo=LONDON)  # fold=0: the first of two
    if local.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise TimeDoesNotExist(f"{time:%H:%M} does not exist on {day:%d %B %Y}: the clocks go forward.")
    return local


def hours_before(moment, hours):
    """`hours` real hours before an aware moment, as a London time (or None if no hours)."""
    if hours is None:
        return None
    elapsed = datetime.timedelta(seconds=int(Decimal(hours) * 3600))
    return (moment.astimezone(UTC) - elapsed).astimezone(LONDON)


def plan(appointment, arrive_minutes_before, food_hours, clear_fluids_hours):
    """Stop and arrival times, counted back from ARRIVAL (not from the appointment)."""
    arrive_hours_before = Decimal(arrive_minutes_before) / 60
    arrival = hours_before(appointment, arrive_hours_before)
    return FastingPlan(
        appointment=appointment,
        arrival=arrival,
        arrive_hours_before=arrive_hours_before,
        stop_food=hours_before(arrival, food_hours),
        stop_clear_fluids=hours_before(arrival, clear_fluids_hours),
        food_hours=food_hours,
        clear_fluids_hours=clear_fluids_hours,
    )


# -- plain words ----------------------------------------------------------------------------


def clock(moment):
    """NHS style: 6pm, 6:30am, midday, midnight."""
    local = moment.astimezone(LONDON)
    if local.minute == 0 and local.hour in (0, 12):
        return _("midnight") if local.hour == 0 else _("midday")
    hour = local.hour % 12 or 12
    minutes = f":{local.minute:02d}" if local.minute else ""
    # Translators: a time on the 12-hour clock, such as 6am or 6:30am. Keep both placeholders.
    morning = _("%(hour)s%(minutes)sam")
    # Translators: a time on the 12-hour clock, such as 6pm or 6:30pm. Keep both placeholders.
    afternoon = _("%(hour)s%(minutes)spm")
    return (morning if local.hour < 12 else afternoon) % {"hour": hour, "minutes": minutes}


def when(moment):
    """'6pm on Tuesday 9 June 2026'."""
    local = moment.astimezone(LONDON)
    # Translators: "6pm on Tuesday 9 June 2026": a time, then the day of the week and the date.
    return _("%(time)s on %(date)s") % {"time": clock(local), "date": dateformat.format(local, "l j E Y")}


def duration(hours):
    """6 -> '6 hours', 1.5 -> '1 hour 30 minutes', 0.5 -> '30 minutes'."""
    total = int(Decimal(hours) * 60)
    whole, minutes = divmod(total, 60)
    parts = []
    if whole:
        parts.append(ngettext("%(count)d hour", "%(count)d hours", whole) % {"count": whole})
    if minutes:
        parts.append(ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes})
    if len(parts) == 2:
        # Translators: a length of time in hours and minutes, such as "1 hour 30 minutes".
        return _("%(hours)s %(minutes)s") % {"hours": parts[0], "minutes": parts[1]}
    return " ".join(parts) or ngettext("%(count)d minute", "%(count)d minutes", 0) % {"count": 0}
