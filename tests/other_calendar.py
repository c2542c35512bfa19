"""How another calendar program expands an exported .ics: by the ``ical`` library, an RFC 5545
implementation independent of carecoord's (and of the ``icalendar`` package that writes the file).

It reads the file's own VTIMEZONE, RRULE, EXDATE and RECURRENCE-ID overrides, as calendar apps do.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ical.calendar_stream import IcsCalendarStream


class Occurrence(NamedTuple):
    start: datetime
    end: datetime
    status: str  # CONFIRMED, CANCELLED, ...
    summary: str


def occurrences(data: bytes, start: datetime, end: datetime, zone: str = "America/New_York") -> list[Occurrence]:
    """Every occurrence of every event in the file that overlaps [start, end), in time order."""
    calendar = IcsCalendarStream.calendar_from_ics(data.decode("utf-8"))
    found = calendar.timeline_tz(ZoneInfo(zone)).overlapping(start, end)
    return [
        Occurrence(event.dtstart, event.dtend, event.status.value if event.status else "", event.summary or "")
        for event in found
    ]
