"""Technicians' private iCalendar feeds, read back with `icalendar` (an independent parser)."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import icalendar
import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from bookings.calendar_feed import calendar_feed_ics, ics_fold
from bookings.models import Appointment, Technician
from bookings.services_calendar import technician_calendar_enable, technician_calendar_revoke
from dispatchnode.accounts.models import Membership
from dispatchnode.core.errors import ApplicationError
from tests import factories

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def parse(ics: str | bytes) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(ics)


def events(calendar: icalendar.Calendar) -> list[icalendar.Event]:
    return list(calendar.walk("VEVENT"))


def feed_path(technician: Technician) -> str:
    return reverse("calendar_feed", kwargs={"token": technician.calendar_token})


def booked(
    technician: Technician, start: dt.datetime, end: dt.datetime | None = None, **fields
) -> Appointment:
    """An appointment from `start` to `end` (two real hours later when not given)."""
    return factories.AppointmentFactory(
        organization=technician.organization,
        technician=technician,
        start=start,
        end=end or (start.astimezone(dt.UTC) + dt.timedelta(hours=2)),
        **fields,
    )


@pytest.fixture
def technician(org) -> Technician:
    tech = factories.TechnicianFactory(organization=org, first_name="Ana", last_name="Reyes")
    technician_calendar_enable(technician=tech)
    return tech


def tomorrow_at(hour: int) -> dt.datetime:
    day = timezone.now().astimezone(CHICAGO).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=CHICAGO)


# --- the document ---------------------------------------------------------------------------


@override_settings(PUBLIC_BASE_URL="https://app.example.com")
def test_feed_lists_the_technicians_active_appointments_in_the_window(client, technician):
    # given appointments: two upcoming, one cancelled, one past the window, one of a colleague
    org = technician.organization
    location = factories.ServiceLocationFactory(
        organization=org,
        street="123 MAIN ST",
        unit="APT 4",
        city="AUSTIN",
        state="TX",
        postal_code="78701",
    )
    customer = location.customer
    job = factories.JobFactory(
        organization=org,
        customer=customer,
        location=location,
        number="J-2001",
        service_type=factories.ServiceTypeFactory(organization=org, name="AC repair"),
        description="AC blowing warm air",
    )
    first = booked(
        technician,
        tomorrow_at(8),
        job=job,
        arrival_window_start=tomorrow_at(8),
        arrival_window_end=tomorrow_at(10),
    )
    second = booked(technician, tomorrow_at(13), status=Appointment.Status.DISPATCHED)
    booked(technician, tomorrow_at(15), status=Appointment.Status.CANCELLED)
    booked(technician, timezone.now() + dt.timedelta(days=95))
    booked(factories.TechnicianFactory(organization=org), tomorrow_at(8))

    # when the feed is fetched
    response = client.get(feed_path(technician))

    # then it is a private calendar document with the two active appointments, in order
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert set(response["Cache-Control"].split(", ")) == {"private", "max-age=300"}
    calendar = parse(response.content)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["PRODID"]) == "-//DispatchNode//Technician calendar feed//EN"
    assert str(calendar["X-WR-CALNAME"]) == f"Ana Reyes — {org.name}"
    assert str(calendar["X-WR-TIMEZONE"]) == "America/Chicago"
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT15M\r\n" in response.content
    assert str(calendar["X-PUBLISHED-TTL"]) == "PT15M"
    found = events(calendar)
    assert [str(e["UID"]) for e in found] == [
        f"appointment-{first.pk}@app.example.com",
        f"appointment-{second.pk}@app.example.com",
    ]
    event = found[0]
    assert event["DTSTART"].dt == tomorrow_at(8).astimezone(dt.UTC)
    assert event["DTEND"].dt == tomorrow_at(10).astimezone(dt.UTC)
    assert f"\r\nDTSTART:{tomorrow_at(8).astimezone(dt.UTC):%Y%m%dT%H%M%S}Z\r\n".encode() in (
        response.content
    )
    assert str(event["SUMMARY"]) == f"AC repair — {customer.display_name}"
    assert str(event["LOCATION"]) == "123 MAIN ST APT 4, AUSTIN, TX 78701"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert int(event["SEQUENCE"]) == 0
    abbreviation = tomorrow_at(8).tzname()
    description = str(event["DESCRIPTION"]).split("\n")
    assert description[0] == "Job J-2001"
    assert re.fullmatch(
        rf"Arrival window promised: \w{{3}} \d{{1,2}} \w{{3}}, 8:00 AM – 10:00 AM {abbreviation}",
        description[1],
    )
    assert description[2:] == [f"Customer: {customer.display_name}", "", "AC blowing warm air"]


def test_lines_end_in_crlf_and_fold_at_75_octets_without_splitting_characters(technician):
    # given a job whose description is long and full of accented letters
    description = "Señora Éloïse Müller-Ñúñez: the furnace façade in the crawlspace — " * 12
    booked(technician, tomorrow_at(9), job__description=description)

    # when the feed is written
    raw = calendar_feed_ics(technician=technician).encode()

    # then every physical line ends in CRLF, is at most 75 octets and is valid UTF-8 on its own
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")
    lines = raw.split(b"\r\n")[:-1]
    assert max(len(line) for line in lines) == 75
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode("utf-8")  # raises if a multi-byte character was split
    assert sum(1 for line in lines if line.startswith(b" ")) > 10

    # and unfolding gives the text back exactly
    (event,) = events(parse(raw))
    assert description.strip() in str(event["DESCRIPTION"])


def test_fold_counts_octets_not_characters():
    # two-octet characters: the first line stops at 74 octets ("X:" and 36 of them; one more
    # would be 76), each continuation holds a space and 37 of them (75 octets)
    line = "X:" + "é" * 100
    folded = ics_fold(line)
    parts = folded.split("\r\n")
    assert [len(p.encode()) for p in parts] == [74, 75, 55]
    assert "".join(p.removeprefix(" ") for p in parts) == line
    assert ics_fold("SHORT:line") == "SHORT:line"


def test_commas_semicolons_backslashes_and_newlines_in_notes_are_escaped(technician):
    # given a location whose access notes hold every character TEXT must escape
    location = factories.ServiceLocationFactory(
        organization=technician.organization,
        gate_code="#12,34; then *",
        pets="Dog, friendly; cat\\inside",
        access_notes="Ring twice.\r\nSide door,\nnot the front\rdoor.\x07",
    )
    booked(
        technician,
        tomorrow_at(9),
        job__location=location,
        job__customer=location.customer,
        job__description="",
    )

    # when the feed is written
    ics = calendar_feed_ics(technician=technician)

    # then the raw text is escaped and the parser reads back the original (control chars dropped)
    unfolded = ics.replace("\r\n ", "")
    assert r"Gate code: #12\,34\; then *\nPets: Dog\, friendly\; cat\\inside" in unfolded
    assert r"Access notes: Ring twice.\nSide door\,\nnot the front\ndoor." in unfolded
    assert "\x07" not in ics
    (event,) = events(parse(ics))
    assert str(event["DESCRIPTION"]).endswith(
        "\n\nGate code: #12,34; then *\nPets: Dog, friendly; cat\\inside\n"
        "Access notes: Ring twice.\nSide door,\nnot the front\ndoor."
    )


def test_appointments_crossing_daylight_saving_changes_keep_their_real_times(org):
    # given a Chicago technician with a job over the spring-forward night (2026-03-08 02:00 CST
    # jumps to 03:00 CDT) and one over the fall-back night (2026-11-01 02:00 CDT is 01:00 CST)
    tech = factories.TechnicianFactory(organization=org)
    spring_start = dt.datetime(2026, 3, 8, 1, 0, tzinfo=CHICAGO)  # CST
    spring_end = dt.datetime(2026, 3, 8, 3, 30, tzinfo=CHICAGO)  # CDT
    spring = booked(
        tech,
        spring_start,
        spring_end,
        arrival_window_start=spring_start,
        arrival_window_end=spring_end,
    )
    fall_start = dt.datetime(2026, 11, 1, 0, 30, tzinfo=CHICAGO)  # CDT
    fall_end = dt.datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=CHICAGO)  # the second 01:30, CST
    fall = booked(
        tech,
        fall_start,
        fall_end,
        arrival_window_start=fall_start,
        arrival_window_end=fall_end,
    )

    # when the feed is written a week before each (the other is then outside the window)
    march = parse(calendar_feed_ics(technician=tech, now=dt.datetime(2026, 3, 1, tzinfo=dt.UTC)))
    october = parse(calendar_feed_ics(technician=tech, now=dt.datetime(2026, 10, 1, tzinfo=dt.UTC)))

    # then the events carry the real instants: 1 h 30 and 2 h long, not the 2 h 30 and 1 h the
    # wall clocks suggest
    (spring_event,) = events(march)
    assert str(spring_event["UID"]).startswith(f"appointment-{spring.pk}@")
    assert spring_event["DTSTART"].dt == dt.datetime(2026, 3, 8, 7, 0, tzinfo=dt.UTC)
    assert spring_event["DTEND"].dt == dt.datetime(2026, 3, 8, 8, 30, tzinfo=dt.UTC)
    assert "Arrival window promised: Sun 8 Mar, 1:00 AM CST – 3:30 AM CDT" in str(
        spring_event["DESCRIPTION"]
    )
    (fall_event,) = events(october)
    assert str(fall_event["UID"]).startswith(f"appointment-{fall.pk}@")
    assert fall_event["DTSTART"].dt == dt.datetime(2026, 11, 1, 5, 30, tzinfo=dt.UTC)
    assert fall_event["DTEND"].dt == dt.datetime(2026, 11, 1, 7, 30, tzinfo=dt.UTC)
    assert "Arrival window promised: Sun 1 Nov, 12:30 AM CDT – 1:30 AM CST" in str(
        fall_event["DESCRIPTION"]
    )


def test_window_is_30_days_back_and_90_days_ahead(technician):
    # given appointments just inside and just outside both edges of the window
    now = dt.datetime(2030, 6, 1, 12, tzinfo=dt.UTC)
    edge_past, edge_ahead = now - dt.timedelta(days=30), now + dt.timedelta(days=90)
    ends_inside = booked(
        technician,
        edge_past - dt.timedelta(hours=1),
        edge_past + dt.timedelta(hours=1),
        status=Appointment.Status.COMPLETED,
    )
    booked(technician, edge_past - dt.timedelta(hours=3), edge_past - dt.timedelta(hours=1))
    starts_inside = booked(technician, edge_ahead - dt.timedelta(minutes=30), edge_ahead)
    booked(technician, edge_ahead)

    # when the feed is written at `now`
    found = events(parse(calendar_feed_ics(technician=technician, now=now)))

    # then only the two inside appear, and completed work stays visible
    assert [str(e["UID"]).split("@")[0] for e in found] == [
        f"appointment-{ends_inside.pk}",
        f"appointment-{starts_inside.pk}",
    ]


def test_a_change_raises_the_sequence_and_keeps_the_uid(technician):
    # given a booked appointment in the feed
    appointment = booked(technician, tomorrow_at(9))
    (before,) = events(parse(calendar_feed_ics(technician=technician)))

    # when it is rescheduled a minute later
    Appointment.objects.filter(pk=appointment.pk).update(
        start=tomorrow_at(11),
        end=tomorrow_at(13),
        updated_at=appointment.updated_at + dt.timedelta(seconds=61),
    )
    (after,) = events(parse(calendar_feed_ics(technician=technician)))

    # then the same UID carries a higher SEQUENCE and the new times
    assert str(after["UID"]) == str(before["UID"])
    assert (int(before["SEQUENCE"]), int(after["SEQUENCE"])) == (0, 61)
    assert after["DTSTART"].dt == tomorrow_at(11).astimezone(dt.UTC)


def test_cancelling_removes_the_event_from_the_feed(client, technician):
    # given a booked appointment that subscribers already have
    appointment = booked(technician, tomorrow_at(9))
    assert len(events(parse(client.get(feed_path(technician)).content))) == 1

    # when it is cancelled and the slot is booked again
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED)
    rebooked = booked(technician, tomorrow_at(9))
    found = events(parse(client.get(feed_path(technician)).content))

    # then only the new appointment is published; clients drop the missing one on refresh
    assert [str(e["UID"]).split("@")[0] for e in found] == [f"appointment-{rebooked.pk}"]


def test_the_feed_costs_two_queries_however_many_appointments(
    client, technician, django_assert_num_queries
):
    # given six appointments, each with its own job, customer, location and service type
    for hour in range(6):
        booked(technician, tomorrow_at(8) + dt.timedelta(days=hour))

    # when the feed is fetched: one query for the technician, one for the appointments
    with django_assert_num_queries(2):
        response = client.get(feed_path(technician))

    # then all six are there
    assert len(events(parse(response.content))) == 6


# --- who can read it ------------------------------------------------------------------------


def test_a_token_shows_only_its_own_organisations_rows(client, technician, other_org):
    # given another organisation with a feed and appointments, and a corrupt row of theirs that
    # names our technician
    mine = booked(technician, tomorrow_at(9))
    theirs = factories.TechnicianFactory(organization=other_org)
    technician_calendar_enable(technician=theirs)
    their_appointment = booked(theirs, tomorrow_at(9))
    factories.AppointmentFactory(
        organization=other_org,
        technician=technician,
        start=tomorrow_at(13),
        end=tomorrow_at(14),
    )

    # when each token's feed is fetched
    ours = events(parse(client.get(feed_path(technician)).content))
    their_feed = events(parse(client.get(feed_path(theirs)).content))

    # then each shows exactly its own organisation's appointment
    assert [str(e["UID"]).split("@")[0] for e in ours] == [f"appointment-{mine.pk}"]
    assert [str(e["UID"]).split("@")[0] for e in their_feed] == [
        f"appointment-{their_appointment.pk}"
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/calendar/unknown-token-that-was-never-issued.ics",
        "/calendar/.ics",
        "/calendar/bad%20token.ics",
    ],
)
def test_unknown_or_blank_tokens_are_a_bare_404(client, technician, path):
    # given a technician without a feed too (blank token in the database)
    factories.TechnicianFactory(organization=technician.organization)

    # when a token that opens nothing is fetched
    response = client.get(path)

    # then it is a 404 that says nothing
    assert response.status_code == 404
    assert b"BEGIN:VCALENDAR" not in response.content


def test_revoked_tokens_inactive_technicians_and_organisations_are_404(client, technician):
    booked(technician, tomorrow_at(9))
    path = feed_path(technician)
    assert client.get(path).status_code == 200

    # an inactive technician
    Technician.objects.filter(pk=technician.pk).update(is_active=False)
    response = client.get(path)
    assert (response.status_code, response.content) == (404, b"Not found.")
    Technician.objects.filter(pk=technician.pk).update(is_active=True)

    # an inactive organisation
    type(technician.organization).objects.filter(pk=technician.organization_id).update(
        is_active=False
    )
    assert client.get(path).status_code == 404
    type(technician.organization).objects.filter(pk=technician.organization_id).update(
        is_active=True
    )
    assert client.get(path).status_code == 200

    # a revoked feed
    technician_calendar_revoke(technician=technician)
    response = client.get(path)
    assert (response.status_code, response.content) == (404, b"Not found.")
    assert Technician.objects.get(pk=technician.pk).calendar_token == ""


def test_only_get_and_head_are_answered(client, technician):
    assert client.head(feed_path(technician)).status_code == 200
    assert client.post(feed_path(technician)).status_code == 405


# --- enabling, rotating, revoking ------------------------------------------------------------


@override_settings(PUBLIC_BASE_URL="https://app.example.com")
def test_rotating_kills_the_old_url_at_once(client, org):
    # given a technician with a feed
    tech = factories.TechnicianFactory(organization=org)
    old_url = technician_calendar_enable(technician=tech)
    old_path = old_url.removeprefix("https://app.example.com")
    assert client.get(old_path).status_code == 200

    # when the feed is enabled again
    new_url = technician_calendar_enable(technician=tech)

    # then the new URL works, the old one is a 404, and the token is a long random secret
    tech.refresh_from_db()
    assert new_url == f"https://app.example.com/calendar/{tech.calendar_token}.ics"
    assert new_url != old_url
    assert len(tech.calendar_token) == 43
    assert client.get(old_path).status_code == 404
    assert client.get(new_url.removeprefix("https://app.example.com")).status_code == 200


@override_settings(PUBLIC_BASE_URL="")
def test_without_public_base_url_the_service_returns_the_path(org):
    tech = factories.TechnicianFactory(organization=org)
    assert technician_calendar_enable(technician=tech) == f"/calendar/{tech.calendar_token}.ics"


def test_an_inactive_technician_cannot_get_a_feed(org):
    tech = factories.TechnicianFactory(organization=org, is_active=False)
    with pytest.raises(ApplicationError, match="is inactive") as error:
        technician_calendar_enable(technician=tech)
    assert error.value.code == "technician_inactive"
    assert Technician.objects.get(pk=tech.pk).calendar_token == ""


# --- the admin ------------------------------------------------------------------------------


@pytest.fixture
def dispatcher_client(org, client):
    user = factories.UserFactory(is_staff=True)
    factories.MembershipFactory(organization=org, user=user, role=Membership.Role.DISPATCHER)
    client.force_login(user)
    return client


def test_admin_enables_rotates_and_revokes_feeds(dispatcher_client, org):
    # given an active technician without a feed, another with one, and an inactive one
    fresh = factories.TechnicianFactory(organization=org)
    existing = factories.TechnicianFactory(organization=org)
    technician_calendar_enable(technician=existing)
    old_token = Technician.objects.get(pk=existing.pk).calendar_token
    gone = factories.TechnicianFactory(organization=org, is_active=False)
    changelist = reverse("admin:bookings_technician_changelist")

    # when the dispatcher enables the first one's feed
    response = dispatcher_client.post(
        changelist,
        {"action": "enable_calendar_feed", "_selected_action": [fresh.pk]},
        follow=True,
    )

    # then the message gives its absolute URL, and the change page shows it
    fresh.refresh_from_db()
    url = f"http://testserver/calendar/{fresh.calendar_token}.ics"
    (message,) = [str(m) for m in response.context["messages"]]
    assert f"<code>{url}</code>" in message
    page = dispatcher_client.get(reverse("admin:bookings_technician_change", args=[fresh.pk]))
    assert f"/calendar/{fresh.calendar_token}.ics" in page.content.decode()
    assert 'name="calendar_token"' not in page.content.decode()

    # when they rotate all three at once
    response = dispatcher_client.post(
        changelist,
        {"action": "enable_calendar_feed", "_selected_action": [fresh.pk, existing.pk, gone.pk]},
        follow=True,
    )

    # then the two active ones get new tokens and the inactive one is skipped
    tokens = dict(Technician.objects.values_list("pk", "calendar_token"))
    assert tokens[existing.pk] not in ("", old_token)
    assert tokens[fresh.pk] not in ("", fresh.calendar_token)
    assert tokens[gone.pk] == ""
    assert [str(m) for m in response.context["messages"]] == [
        "Enabled the calendar feed of 2 technician(s); any earlier URLs no longer work. "
        "Each technician's page shows the new URL.",
        "Skipped 1 inactive technician(s).",
    ]

    # when they revoke the first two and the one without a feed
    response = dispatcher_client.post(
        changelist,
        {"action": "revoke_calendar_feed", "_selected_action": [fresh.pk, existing.pk, gone.pk]},
        follow=True,
    )

    # then no feed is left
    assert set(Technician.objects.values_list("calendar_token", flat=True)) == {""}
    assert [str(m) for m in response.context["messages"]] == [
        "Revoked the calendar feed of 2 technician(s)."
    ]


def test_admin_actions_never_reach_another_organisations_technician(dispatcher_client, other_org):
    # given a technician of another organisation
    foreign = factories.TechnicianFactory(organization=other_org)

    # when the dispatcher posts its id to the enable action
    dispatcher_client.post(
        reverse("admin:bookings_technician_changelist"),
        {"action": "enable_calendar_feed", "_selected_action": [foreign.pk]},
    )

    # then nothing happened to it
    assert Technician.objects.get(pk=foreign.pk).calendar_token == ""
