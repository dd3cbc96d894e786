"""The availability engine: when can which technician be there?

The phone agent, the API, the booking service and the router all ask it, so it is one set of
rules applied the same way by `slots_find` (the offers), `slot_for` / `slot_is_offerable` (is
this start still one we would offer?) and `technician_free_intervals` (the day view).

Rules, in the organisation's timezone:

- Working time is each technician's weekly `WorkingHours`, except on `Holiday`s. Emergencies
  (job priority "emergency") also get `OnCallShift` cover when the policy allows after-hours work,
  holidays included. `TimeOff` removes time. A job fits entirely inside one stretch of working
  time: a 2-hour job may not end after the shift.
- Active appointments block their interval, plus travel: the previous stop of the same local day
  (or the home base for the first job) must leave `travel_minutes` before the start, and the job
  must leave travel time to the next stop of that day. The commute from home happens before the
  shift, as in most field-service firms, so a first job may start when the shift starts. Nobody
  arrives before they could drive there from now.
- Starts lie on the policy grid (`slot_step_minutes` of wall-clock time past local midnight), no
  earlier than now + `minimum_notice_minutes` (emergencies: now, rounded up to the grid), and
  before now + `horizon_days`.
- Arrival window: the customer is promised the `arrival_window_minutes` window containing the
  start, counted from the start of that stretch of working time (8-10, 10-12, ...) and cut at its
  end (16-17). Emergencies are promised "within the window from the start" instead.
- Candidates: in each free stretch of a technician, the first start inside each arrival window
  that suits the customer's `Preference` (dates, weekdays, planned arrival after/before), so a
  technician offers a few different promises a day, not every half hour.
- Ranking (lower score first): emergencies by minutes from now; other jobs by the driving the
  job adds to the technician's day plus one point per hour of waiting, so a tight route wins
  unless it means waiting much longer. Regular offers take the best of each (day, part of day)
  first, then the rest by score; ties go to the earlier start, then the lower technician id.

All arithmetic happens on UTC instants; wall-clock time is used only for the grid, the weekly
hours and days, so the days the clocks change have their true length (23 or 25 hours).

A package: `search` (the public interface and the walk over free time), `calendars` (the
question resolved and each technician's calendar loaded for it, in a fixed number of queries)
and `intervals` (arithmetic on UTC intervals). Import from the package; names with a leading
underscore are private to it.
"""

from bookings.availability.search import (
    Slot,
    slot_for,
    slot_is_offerable,
    slots_find,
    technician_free_intervals,
)

__all__ = ["Slot", "slot_for", "slot_is_offerable", "slots_find", "technician_free_intervals"]
