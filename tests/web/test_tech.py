"""The technician app: my day, the job page, the taps applied once, completion, and the
service worker and manifest."""

from __future__ import annotations

import base64
import datetime as dt
import itertools
import struct
import zlib
from decimal import Decimal

import pytest
from django.utils import timezone

from bookings.models import Appointment, Job, VisitAction
from customers.models import CustomerNote, Message
from invoicing.models import Invoice
from tests import factories

pytestmark = pytest.mark.django_db


def _today_at(org, hour: int, minute: int = 0) -> dt.datetime:
    today = timezone.now().astimezone(org.tzinfo).date()
    return dt.datetime.combine(today, dt.time(hour, minute), tzinfo=org.tzinfo)


def _visit(org, technician, *, hour=9, minute=0, status=Appointment.Status.SCHEDULED, **job):
    job = factories.JobFactory(organization=org, status=Job.Status.SCHEDULED, **job)
    start = _today_at(org, hour, minute)
    return factories.AppointmentFactory(
        organization=org,
        job=job,
        technician=technician,
        start=start,
        end=start + dt.timedelta(minutes=20),
        status=status,
    )


def _png() -> str:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0\xff"))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()


# --- my day -----------------------------------------------------------------------------------


def test_my_day_lists_my_visits_of_today_in_order(org, technician, tech_client):
    later = _visit(org, technician, hour=14)
    earlier = _visit(org, technician, hour=9)
    someone_else = _visit(org, factories.TechnicianFactory(organization=org), hour=10)

    response = tech_client.get("/tech/")

    body = response.content.decode()
    assert response.status_code == 200
    assert body.index(earlier.job.customer.display_name) < body.index(
        later.job.customer.display_name
    )
    assert someone_else.job.customer.display_name not in body
    assert "https://maps.google.com/?q=" in body
    assert "On my way" in body


def test_my_day_without_visits_says_so(tech_client):
    response = tech_client.get("/tech/")

    assert "No visits today" in response.content.decode()


def test_my_day_of_another_date(org, technician, tech_client):
    visit = _visit(org, technician, hour=9)
    tomorrow = (visit.start + dt.timedelta(days=1)).date()

    response = tech_client.get(f"/tech/?date={tomorrow:%Y-%m-%d}")

    assert visit.job.customer.display_name not in response.content.decode()
    assert "No visits on this day" in response.content.decode()


@pytest.mark.parametrize("path", ["/tech/", "/tech/day/list/"])
def test_my_day_costs_the_same_for_3_and_30_visits(
    org, technician, tech_client, django_assert_max_num_queries, path
):
    for i in range(3):
        _visit(org, technician, hour=6 + (30 * i) // 60, minute=(30 * i) % 60)
    with django_assert_max_num_queries(8) as small:
        tech_client.get(path)
    for i in range(3, 30):
        _visit(org, technician, hour=6 + (30 * i) // 60, minute=(30 * i) % 60)

    with django_assert_max_num_queries(len(small.captured_queries)):
        response = tech_client.get(path)

    assert response.content.decode().count('class="visit-card') == 30


# --- the job page -----------------------------------------------------------------------------


def test_the_job_page_shows_what_to_know_first(org, technician, tech_client):
    visit = _visit(org, technician)
    job = visit.job
    location = job.location
    location.gate_code = "#4512"
    location.pets = "Friendly dog, Max"
    location.save()
    factories.CustomerNoteFactory(
        customer=job.customer, kind=CustomerNote.Kind.COMPLAINT, body="Upset about a late tech"
    )
    call = factories.CallSessionFactory(organization=org, job=job, customer=job.customer)
    factories.CallTurnFactory(call=call, heard="It's making a grinding noise upstairs")
    factories.EquipmentFactory(
        location=location, make="Carrier", model_number="24ACC636", installed_on=dt.date(2015, 5, 1)
    )
    earlier = factories.JobFactory(
        organization=org,
        customer=job.customer,
        location=location,
        status=Job.Status.COMPLETED,
        completed_at=timezone.now() - dt.timedelta(days=200),
        diagnostic_notes="Weak capacitor, replace next time",
    )
    factories.AppointmentFactory(
        organization=org,
        job=earlier,
        technician=factories.TechnicianFactory(organization=org, first_name="Bob"),
        status=Appointment.Status.COMPLETED,
    )

    body = tech_client.get(f"/tech/visits/{visit.pk}/").content.decode()

    assert body.index("Gate code: #4512") < body.index("Equipment here")
    assert "Friendly dog, Max" in body
    assert "Complaint: Upset about a late tech" in body
    assert "grinding noise upstairs" in body
    assert "Carrier" in body
    assert "24ACC636" in body
    assert "Installed May 2015" in body
    assert "Weak capacitor, replace next time" in body
    assert "Bob" in body


def test_the_job_page_costs_the_same_with_more_history(
    org, technician, tech_client, django_assert_max_num_queries
):
    visit = _visit(org, technician)

    days_back = itertools.count(30)

    def add_history(n):
        for _ in range(n):
            back = dt.timedelta(days=next(days_back))
            factories.EquipmentFactory(location=visit.job.location)
            factories.CustomerNoteFactory(customer=visit.job.customer)
            factories.PriceBookItemFactory(organization=org)
            old = factories.JobFactory(
                organization=org,
                customer=visit.job.customer,
                location=visit.job.location,
                status=Job.Status.COMPLETED,
            )
            factories.AppointmentFactory(
                organization=org,
                job=old,
                technician=technician,
                start=_today_at(org, 1) - back,
                end=_today_at(org, 2) - back,
                status=Appointment.Status.COMPLETED,
            )

    add_history(1)
    with django_assert_max_num_queries(20) as small:
        tech_client.get(f"/tech/visits/{visit.pk}/")
    add_history(5)

    with django_assert_max_num_queries(len(small.captured_queries)):
        assert tech_client.get(f"/tech/visits/{visit.pk}/").status_code == 200


@pytest.mark.parametrize(
    "path", ["/tech/visits/{}/", "/tech/visits/{}/complete/"], ids=["visit", "complete"]
)
def test_another_technicians_or_organisations_visit_is_a_404_like_a_missing_one(
    org, other_org, technician, tech_client, path
):
    colleague = _visit(org, factories.TechnicianFactory(organization=org))
    foreign = _visit(other_org, factories.TechnicianFactory(organization=other_org))
    missing = Appointment.objects.order_by("-pk").first().pk + 1000

    responses = [tech_client.get(path.format(pk)) for pk in (colleague.pk, foreign.pk, missing)]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert responses[0].content == responses[1].content == responses[2].content


@pytest.mark.parametrize("action", ["en-route", "start", "complete"])
def test_a_tap_on_someone_elses_visit_is_a_404_and_changes_nothing(
    org, other_org, technician, tech_client, action
):
    colleague = _visit(org, factories.TechnicianFactory(organization=org))
    foreign = _visit(other_org, factories.TechnicianFactory(organization=other_org))

    for visit in (colleague, foreign):
        response = tech_client.post(f"/tech/visits/{visit.pk}/{action}/", {"key": "k"})
        assert response.status_code == 404
    assert Appointment.objects.filter(status=Appointment.Status.SCHEDULED).count() == 2
    assert VisitAction.objects.count() == 0


# --- the taps ---------------------------------------------------------------------------------


def test_the_same_tap_sent_twice_has_one_effect(org, technician, tech_client):
    visit = _visit(org, technician, hour=23, minute=30)
    factories.ContactPointFactory(customer=visit.job.customer)
    url = f"/tech/visits/{visit.pk}/en-route/"

    first = tech_client.post(url, {"key": "key-1"}, HTTP_ACCEPT="application/json")
    second = tech_client.post(url, {"key": "key-1"}, HTTP_ACCEPT="application/json")

    assert first.status_code == second.status_code == 200
    assert (first.json()["replayed"], second.json()["replayed"]) == (False, True)
    assert second.json()["result"] == {"status": "en_route"}
    assert VisitAction.objects.count() == 1
    assert Message.objects.filter(purpose="on_my_way").count() == 1


def test_an_illegal_tap_is_a_409_with_the_reason(org, technician, tech_client):
    visit = _visit(org, technician, status=Appointment.Status.IN_PROGRESS)

    response = tech_client.post(
        f"/tech/visits/{visit.pk}/en-route/", {"key": "k"}, HTTP_ACCEPT="application/json"
    )

    assert response.status_code == 409
    assert "in progress" in response.json()["message"]


def test_without_javascript_a_tap_redirects_back_with_a_message(org, technician, tech_client):
    visit = _visit(org, technician)

    response = tech_client.post(f"/tech/visits/{visit.pk}/start/", {"key": "k"}, follow=True)

    assert response.redirect_chain[-1][0] == f"/tech/visits/{visit.pk}/"
    assert "Work started." in response.content.decode()
    assert Appointment.objects.get(pk=visit.pk).status == Appointment.Status.IN_PROGRESS


def test_completing_from_the_form(org, technician, tech_client):
    visit = _visit(org, technician, status=Appointment.Status.IN_PROGRESS)
    Job.objects.filter(pk=visit.job_id).update(status=Job.Status.IN_PROGRESS)
    part = factories.PriceBookItemFactory(organization=org, unit_price=Decimal("19.99"))

    response = tech_client.post(
        f"/tech/visits/{visit.pk}/complete/",
        {
            "key": "c-1",
            "notes": "Replaced capacitor",
            "diagnostic_notes": "Bulged capacitor",
            "item": [str(part.pk), "", ""],
            "quantity": ["2", "1", "1"],
            "signature": _png(),
        },
    )

    assert response.status_code == 302
    job = Job.objects.get(pk=visit.job_id)
    assert job.status == Job.Status.COMPLETED
    assert job.work_notes == "Replaced capacitor"
    assert job.signature.name.endswith(".png")
    invoice = Invoice.objects.get(job=job)
    assert invoice.subtotal == Decimal("39.98")


def test_a_bad_completion_shows_the_form_again_with_the_reason(org, technician, tech_client):
    visit = _visit(org, technician, status=Appointment.Status.IN_PROGRESS)
    part = factories.PriceBookItemFactory(organization=org)

    response = tech_client.post(
        f"/tech/visits/{visit.pk}/complete/",
        {"key": "c-2", "notes": "typed", "item": [str(part.pk)], "quantity": ["0"]},
    )

    assert response.status_code == 400
    body = response.content.decode()
    assert "the quantity must be a number above zero" in body
    assert ">typed</textarea>" in body
    assert VisitAction.objects.count() == 0


# --- weak signal --------------------------------------------------------------------------------


def test_the_service_worker_is_public_and_scoped_to_tech(client):
    response = client.get("/tech/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/tech/"
    assert "__ASSETS__" not in response.content.decode()
    assert "/static/web/tech.js" in response.content.decode()


def test_the_manifest_is_public_with_icons(client):
    manifest = client.get("/tech/manifest.webmanifest").json()

    assert manifest["start_url"] == "/tech/"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200
