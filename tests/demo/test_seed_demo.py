"""`seed_demo`: the pinned demo facts (DESIGN.md §4), idempotency and the data's invariants."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import re
import stat
from collections import defaultdict
from decimal import Decimal

import phonenumbers
import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from bookings.models import Appointment, CallSession, Job, ServiceType, Technician
from customers.models import ContactPoint, Customer, CustomerNote, Equipment, Message
from dispatchnode.accounts.models import ApiToken, Membership, Organization, PhoneNumber, User
from dispatchnode.api.authentication import ApiTokenAuthentication
from dispatchnode.core.money import money
from dispatchnode.core.services import sequence_next
from dispatchnode.demo import data
from dispatchnode.demo.services import demo_seed, pinned_visit_date, token_file
from dispatchnode.demo.timetable import is_holiday
from invoicing.models import Invoice, Payment, PriceBookItem

FEW = 20
CHICAGO = data.ORG_TIMEZONE
# A fixed clock for the tests that look at the generated mix: the data then never varies.
FIXED_NOW = dt.datetime(2026, 11, 25, 17, 30, tzinfo=dt.UTC)


@pytest.fixture
def demo_settings(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.DEMO_PASSWORD = "demo"
    settings.DEMO_API_TOKEN = ""
    settings.DEMO_TWILIO_AUTH_TOKEN = "demo-twilio-auth-token"
    settings.PUBLIC_BASE_URL = ""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return settings


@pytest.fixture
def seeded(db, demo_settings):
    return demo_seed(customers=FEW)


def demo_org() -> Organization:
    return Organization.objects.get(slug="demo")


def customer_with_phone(phone: str) -> Customer:
    return Customer.objects.get(
        organization=demo_org(), contacts__kind="phone", contacts__value=phone
    )


def row_counts() -> dict[str, int]:
    return {m._meta.label: m._base_manager.count() for m in apps.get_models()}


def authenticate_token(key: str):
    request = APIRequestFactory().get("/api/v1/customers/", HTTP_AUTHORIZATION=f"Token {key}")
    return ApiTokenAuthentication().authenticate(request)


# --- Pinned facts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2026, 11, 25), dt.date(2026, 10, 15)),
        (dt.date(2026, 10, 10), dt.date(2025, 10, 15)),
        (dt.date(2026, 10, 15), dt.date(2025, 10, 15)),
        (dt.date(2026, 10, 16), dt.date(2026, 10, 15)),
        (dt.date(2027, 1, 2), dt.date(2026, 10, 15)),
    ],
)
def test_pinned_visit_date_is_the_last_15_october_before_today(today, expected):
    assert pinned_visit_date(today) == expected


def test_seed_builds_the_pinned_organisation(seeded):
    org = demo_org()

    assert seeded.organization == org
    assert (org.name, org.timezone, org.tax_rate) == (
        "Demo Heating & Air",
        "America/Chicago",
        Decimal("0.0825"),
    )
    assert org.twilio_auth_token == "demo-twilio-auth-token"
    assert re.fullmatch(r"AC[0-9a-f]{32}", org.twilio_account_sid)
    assert org.caller_privacy == Organization.CallerPrivacy.ATTESTED
    assert org.office_phone == "+15125550101"
    assert org.business_hours["mon"] == [["07:30", "17:30"]]
    number = PhoneNumber.objects.get(e164="+15125550100")
    assert (number.organization_id, number.is_active) == (org.pk, True)


def test_twilio_auth_token_comes_from_the_setting(db, demo_settings):
    demo_settings.DEMO_TWILIO_AUTH_TOKEN = "another-token-for-this-test"

    demo_seed(customers=0)

    assert demo_org().twilio_auth_token == "another-token-for-this-test"


def test_john_smith_has_his_phone_home_gate_code_and_ac(seeded):
    john = customer_with_phone("+15125550142")

    assert (john.first_name, john.last_name) == ("John", "Smith")
    phone = john.contacts.get(kind=ContactPoint.Kind.PHONE)
    assert (phone.value, phone.is_primary) == ("+15125550142", True)
    home = john.locations.get()
    assert (home.street, home.city, home.state, home.postal_code) == (
        "123 MAIN ST",
        "AUSTIN",
        "TX",
        "78701",
    )
    assert home.raw_address == "123 Main St, Austin, TX 78701"
    assert (home.latitude, home.longitude) == (Decimal("30.268900"), Decimal("-97.742800"))
    assert home.gate_code == "4821"
    access = john.notes.get(kind=CustomerNote.Kind.ACCESS)
    assert "4821" in access.body
    ac = home.equipment.get()
    assert (ac.kind, ac.category, ac.make) == ("air_conditioner", "hvac", "Carrier")
    assert (ac.model_number, ac.serial_number) == ("24ACC636A003", "1416E20517")
    assert ac.installed_on == dt.date(2014, 4, 14)


def test_john_smiths_last_service_was_on_the_last_15_october(seeded):
    john = customer_with_phone("+15125550142")
    tz = demo_org().tzinfo
    expected = pinned_visit_date(timezone.now().astimezone(tz).date())

    done = Job.objects.filter(
        customer=john, equipment__kind="air_conditioner", completed_at__isnull=False
    ).order_by("-completed_at")
    last = done.first()

    assert last.completed_at.astimezone(tz).date() == expected
    assert last.status == Job.Status.CLOSED
    assert (last.service_type.category, last.service_type.kind) == ("hvac", "maintenance")
    visit = last.appointments.get()
    assert visit.status == Appointment.Status.COMPLETED
    assert visit.start.astimezone(tz).date() == expected
    invoice = last.invoices.get()
    assert (invoice.status, invoice.amount_paid) == (Invoice.Status.PAID, invoice.total)
    assert invoice.total == Decimal("154.98")  # 129.00 tune-up + 24.00 filter + 1.98 tax
    assert done.count() == 2


def test_john_smiths_visit_moves_when_another_october_has_passed(db, demo_settings):
    tz = dt.timezone(dt.timedelta(hours=-5))
    demo_seed(customers=0, now=dt.datetime(2026, 10, 10, 12, 0, tzinfo=tz))
    john = customer_with_phone("+15125550142")
    tune_up = Job.objects.get(customer=john, service_type__code="ac-tune-up")
    assert tune_up.completed_at.astimezone(demo_org().tzinfo).date() == dt.date(2025, 10, 15)

    demo_seed(customers=0, now=dt.datetime(2027, 11, 1, 12, 0, tzinfo=tz))

    tune_up = Job.objects.get(customer=john, service_type__code="ac-tune-up")
    chicago = demo_org().tzinfo
    assert tune_up.completed_at.astimezone(chicago).date() == dt.date(2027, 10, 15)
    assert tune_up.appointments.get().start.astimezone(chicago).date() == dt.date(2027, 10, 15)
    invoice = tune_up.invoices.get()
    assert invoice.issued_at.astimezone(chicago).date() == dt.date(2027, 10, 15)
    assert invoice.payments.get().received_at.astimezone(chicago).date() == dt.date(2027, 10, 15)


def test_william_jenkins_has_his_phone_email_and_home(seeded):
    bill = customer_with_phone("+15125550177")

    assert (bill.first_name, bill.last_name) == ("William", "Jenkins")
    assert set(bill.contacts.values_list("kind", "value", "is_primary")) == {
        ("phone", "+15125550177", True),
        ("email", "bill.jenkins@example.com", True),
    }
    home = bill.locations.get()
    assert home.raw_address == "123 Oak Street, Austin, TX 78702"
    assert (home.street, home.city, home.state, home.postal_code) == (
        "123 OAK ST",
        "AUSTIN",
        "TX",
        "78702",
    )
    john = customer_with_phone("+15125550142")
    generated = Customer.objects.filter(organization=demo_org()).exclude(pk__in=[bill.pk, john.pk])
    assert not generated.filter(last_name="Jenkins").exists()
    assert not generated.filter(first_name="Maria", last_name="Garcia").exists()
    assert not generated.filter(first_name="John", last_name="Smith").exists()


def test_logins_use_the_demo_password_with_their_roles(seeded):
    org = demo_org()
    roles = dict(Membership.objects.filter(organization=org).values_list("user__username", "role"))

    assert roles == {
        "owner": "owner",
        "dispatcher": "dispatcher",
        **{f"tech{n}": "technician" for n in range(1, 7)},
    }
    for username in roles:
        assert authenticate(username=username, password="demo") is not None, username
    owner, dispatcher = User.objects.get(username="owner"), User.objects.get(username="dispatcher")
    assert (owner.is_staff, owner.is_superuser) == (True, True)
    assert (dispatcher.is_staff, dispatcher.is_superuser) == (True, False)
    office = Permission.objects.filter(content_type__app_label__in=data.OFFICE_APPS)
    assert set(dispatcher.groups.get(name="Office staff").permissions.all()) == set(office)
    assert dispatcher.has_perm("bookings.change_job")
    assert User.objects.get(username="tech1").is_staff is False


def test_rerun_resets_the_passwords(seeded, demo_settings):
    tech = User.objects.get(username="tech3")
    tech.set_password("changed")
    tech.save()

    demo_seed(customers=FEW)

    assert authenticate(username="tech3", password="demo") is not None


def test_six_technicians_with_skills_phones_and_shifts(seeded):
    technicians = Technician.objects.filter(organization=demo_org()).select_related("user")

    assert sorted(t.user.username for t in technicians) == [f"tech{n}" for n in range(1, 7)]
    for technician in technicians:
        number = phonenumbers.parse(technician.phone)
        assert phonenumbers.is_valid_number(number)
        assert technician.phone.startswith("+1512555")
        assert re.fullmatch(r"#[0-9a-f]{6}", technician.color)
        assert technician.home_latitude
        assert technician.home_longitude
        assert technician.skills.exists()
        assert technician.working_hours.count() == 5
    saturday = technicians.filter(working_hours__weekday=5)
    assert [t.user.username for t in saturday] == ["tech5"]
    skills = set(technicians.values_list("skills__code", flat=True))
    assert {"hvac", "plumbing", "electrical"} <= skills


def test_catalogue_covers_every_trade_and_kind_with_prices(seeded):
    org = demo_org()
    kinds = defaultdict(set)
    for service_type in ServiceType.objects.filter(organization=org):
        kinds[service_type.category].add(service_type.kind)
        assert service_type.required_skill is not None
        assert service_type.spoken_synonyms
        assert PriceBookItem.objects.filter(service_type=service_type).count() == 1

    for category in ("hvac", "plumbing", "electrical"):
        assert {"repair", "maintenance", "installation", "emergency"} <= kinds[category]
    said = {s for st in ServiceType.objects.filter(organization=org) for s in st.spoken_synonyms}
    for phrase in (
        "blowing warm air",
        "no heat",
        "no hot water",
        "burst pipe",
        "breaker keeps tripping",
        "outlet sparking",
        "smell gas",
    ):
        assert phrase in said
    codes = set(PriceBookItem.objects.filter(organization=org).values_list("code", flat=True))
    assert {"CAP-455", "CONT-30", "R410A-LB", "FLAPPER", "BRK-20", "LAB-HVAC"} <= codes


# --- Idempotency ----------------------------------------------------------------------------


def test_running_twice_changes_no_row_count(seeded):
    before = row_counts()

    again = demo_seed(customers=FEW)

    assert row_counts() == before
    assert again.new_customers == 0
    assert (again.created.jobs, again.created.calls, again.created.messages) == (0, 0, 0)
    assert again.api_token_key == seeded.api_token_key


def test_reset_deletes_and_rebuilds_the_same_demo(db, demo_settings):
    demo_seed(customers=FEW, now=FIXED_NOW)
    fresh = row_counts()
    Customer.objects.create(organization=demo_org(), first_name="Stray", last_name="Record")

    demo_seed(customers=FEW, reset=True, now=FIXED_NOW)

    assert not Customer.objects.filter(first_name="Stray").exists()
    rebuilt = row_counts()
    assert {k: v for k, v in rebuilt.items() if k != "accounts.ApiToken"} == {
        k: v for k, v in fresh.items() if k != "accounts.ApiToken"
    }
    assert Organization.objects.filter(slug="demo").count() == 1


# --- Invariants -----------------------------------------------------------------------------


def test_no_technician_is_double_booked_and_visits_fit_shifts_and_skills(seeded):
    org = demo_org()
    tz = org.tzinfo
    john = customer_with_phone("+15125550142")
    visits = (
        Appointment.objects.filter(organization=org)
        .exclude(status=Appointment.Status.CANCELLED)
        .select_related("job__service_type__required_skill", "technician")
        .prefetch_related("technician__skills", "technician__working_hours")
        .order_by("technician_id", "start")
    )
    by_technician = defaultdict(list)
    for visit in visits:
        by_technician[visit.technician_id].append(visit)
        skill = visit.job.service_type.required_skill
        assert skill in visit.technician.skills.all(), visit.job.number
        assert visit.arrival_window_end - visit.arrival_window_start == dt.timedelta(hours=2)
        if visit.job.customer_id == john.pk:
            continue  # 15 October may be a Sunday: John's tune-up happens that day regardless
        start, end = visit.start.astimezone(tz), visit.end.astimezone(tz)
        assert start.date() == end.date()
        assert not is_holiday(start.date()), visit.job.number
        assert any(
            h.weekday == start.weekday()
            and h.start_time <= start.time()
            and end.time() <= h.end_time
            for h in visit.technician.working_hours.all()
        ), visit.job.number

    assert len(visits) > 50
    for schedule in by_technician.values():
        for previous, current in itertools.pairwise(schedule):
            assert previous.end <= current.start, (previous.job.number, current.job.number)


def test_the_next_two_weeks_are_booked_and_some_jobs_wait(seeded):
    org = demo_org()
    now = timezone.now()
    ahead = Appointment.objects.filter(organization=org, start__gt=now)

    assert ahead.count() > 20
    assert set(ahead.values_list("status", flat=True)) == {Appointment.Status.SCHEDULED}
    assert set(ahead.values_list("job__status", flat=True)) == {Job.Status.SCHEDULED}
    assert ahead.order_by("-start").first().start < now + dt.timedelta(days=15)
    assert ahead.values("technician").distinct().count() == 6
    waiting = Job.objects.filter(organization=org, status=Job.Status.REQUESTED)
    assert waiting.count() == 5
    assert not waiting.filter(appointments__isnull=False).exists()


def test_invoices_add_up_and_payments_match(seeded):
    org = demo_org()
    invoices = Invoice.objects.filter(organization=org).prefetch_related("lines", "payments")

    assert invoices.count() > 20
    for invoice in invoices:
        lines = list(invoice.lines.all())
        for line in lines:
            assert line.amount == money(line.quantity * line.unit_price)
        taxable = sum((line.amount for line in lines if line.taxable), Decimal("0"))
        assert invoice.subtotal == sum(line.amount for line in lines)
        assert invoice.tax_total == money(taxable * Decimal("0.0825"))
        assert invoice.total == invoice.subtotal + invoice.tax_total
        paid = sum(
            (p.amount for p in invoice.payments.all() if p.status == Payment.Status.SUCCEEDED),
            Decimal("0"),
        )
        assert invoice.amount_paid == paid
        expected = {
            Invoice.Status.PAID: paid == invoice.total,
            Invoice.Status.PARTIALLY_PAID: Decimal("0") < paid < invoice.total,
            Invoice.Status.SENT: paid == 0,
        }
        assert expected[invoice.status], invoice.number
        job_status = Job.Status.CLOSED if invoice.status == Invoice.Status.PAID else "invoiced"
        assert invoice.job.status == job_status


def test_numbers_are_unique_and_sequences_continue_after_them(seeded):
    org = demo_org()
    jobs = list(Job.objects.filter(organization=org).values_list("number", flat=True))
    invoices = list(Invoice.objects.filter(organization=org).values_list("number", flat=True))

    assert len(set(jobs)) == len(jobs)
    assert len(set(invoices)) == len(invoices)
    assert all(re.fullmatch(r"J-1\d{4}", n) for n in jobs)
    assert all(re.fullmatch(r"INV-1\d{4}", n) for n in invoices)
    assert sequence_next(organization=org, name="job") == max(int(n[2:]) for n in jobs) + 1
    assert sequence_next(organization=org, name="invoice") == (
        max(int(n[4:]) for n in invoices) + 1
    )


def test_generated_customers_look_like_austin(db, demo_settings):
    demo_seed(customers=60, now=FIXED_NOW)
    org = demo_org()
    zips = {area.code: area for area in data.ZIP_AREAS}
    pinned = {"+15125550142", "+15125550177"}

    phones = list(
        ContactPoint.objects.filter(organization=org, kind="phone").values_list("value", flat=True)
    )
    assert len(phones) == len(set(phones))
    for phone in set(phones) - pinned:
        assert re.fullmatch(r"\+1(512|737)555[1-9]\d{3}", phone)
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone))
    emails = ContactPoint.objects.filter(organization=org, kind="email")
    assert all(e.value.rsplit("@", 1)[1].endswith(data.EMAIL_DOMAINS) for e in emails)
    for location in org_locations(org, exclude_phones=pinned):
        area = zips[location.postal_code]
        assert location.geocode_quality == "zip_centroid"
        assert abs(float(location.latitude) - area.latitude) < 0.02
        assert abs(float(location.longitude) - area.longitude) < 0.02
        assert location.raw_address.endswith(f"{area.city}, TX {area.code}")
    customers = Customer.objects.filter(organization=org)
    assert customers.filter(kind="commercial").exclude(company_name="").exists()
    assert customers.filter(do_not_service=True).exists() or len(phones) < 100
    assert Equipment.objects.filter(organization=org).values("kind").distinct().count() >= 6
    assert CustomerNote.objects.filter(organization=org, kind="complaint").exists()
    sources = set(Job.objects.filter(organization=org).values_list("source", flat=True))
    assert {"staff", "ai_call", "online", "crm_sync", "api"} <= sources
    assert CallSession.objects.filter(organization=org, turns__isnull=False).distinct().count() >= 4
    assert Message.objects.filter(organization=org, purpose="booking_confirmation").exists()


def org_locations(org, *, exclude_phones):
    from customers.models import ServiceLocation

    return ServiceLocation.objects.filter(organization=org).exclude(
        customer__contacts__value__in=exclude_phones
    )


# --- API token ------------------------------------------------------------------------------


def test_demo_api_token_setting_fixes_the_key_and_authenticates(db, demo_settings):
    demo_settings.DEMO_API_TOKEN = "demo-key-fixed-by-the-environment-123"

    first = demo_seed(customers=0)
    second = demo_seed(customers=0)

    assert first.api_token_key == second.api_token_key == "demo-key-fixed-by-the-environment-123"
    user, token = authenticate_token("demo-key-fixed-by-the-environment-123")
    assert token.organization == demo_org()
    assert (token.name, token.scopes) == ("Demo API token", ["*:write"])
    assert user.username == "owner"
    assert ApiToken.objects.filter(organization=demo_org(), revoked_at__isnull=True).count() == 1
    assert not token_file().exists()


def test_demo_api_token_setting_revokes_the_earlier_generated_token(db, demo_settings):
    generated = demo_seed(customers=0).api_token_key
    demo_settings.DEMO_API_TOKEN = "demo-key-fixed-by-the-environment-456"

    demo_seed(customers=0)

    old = ApiToken.objects.get(prefix=generated[:8])
    assert old.revoked_at is not None
    _, token = authenticate_token("demo-key-fixed-by-the-environment-456")
    assert token.organization == demo_org()


def test_generated_key_is_kept_in_a_private_file_and_reused(db, demo_settings):
    first = demo_seed(customers=0)

    path = token_file()
    assert path.read_text().strip() == first.api_token_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert demo_seed(customers=0).api_token_key == first.api_token_key
    _, token = authenticate_token(first.api_token_key)
    assert token.organization == demo_org()


def test_a_missing_key_file_means_a_new_token_and_the_old_one_revoked(db, demo_settings):
    first = demo_seed(customers=0)
    token_file().unlink()

    second = demo_seed(customers=0)

    assert second.api_token_key != first.api_token_key
    assert token_file().read_text().strip() == second.api_token_key
    assert ApiToken.objects.get(prefix=first.api_token_key[:8]).revoked_at is not None
    assert authenticate_token(second.api_token_key)[1].organization == demo_org()


# --- The command ----------------------------------------------------------------------------


def test_command_prints_the_logins_and_the_token(db, demo_settings, monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    out = io.StringIO()

    call_command("seed_demo", "--customers", "3", stdout=out)

    text = out.getvalue()
    key = token_file().read_text().strip()
    assert "Demo Heating & Air is ready." in text
    assert "Dashboard: http://127.0.0.1:8123/dashboard/   login: dispatcher / demo" in text
    assert "Technician app: http://127.0.0.1:8123/tech/   login: tech1" in text
    assert f"API token: {key}" in text
    assert f'curl -H "Authorization: Token {key}" http://127.0.0.1:8123/api/v1/customers/' in text
    assert "Customers: 3 new of 3 planned." in text


def test_command_uses_the_public_base_url(db, demo_settings):
    demo_settings.PUBLIC_BASE_URL = "https://demo.dispatchnode.example.com"
    out = io.StringIO()

    call_command("seed_demo", "--customers", "0", stdout=out)

    assert "Dashboard: https://demo.dispatchnode.example.com/dashboard/" in out.getvalue()


@pytest.mark.parametrize(
    ("day", "closed"),
    [
        (dt.date(2026, 11, 26), True),  # Thanksgiving
        (dt.date(2026, 11, 27), False),
        (dt.date(2026, 5, 25), True),  # Memorial Day
        (dt.date(2026, 9, 7), True),  # Labor Day
        (dt.date(2026, 12, 25), True),
        (dt.date(2026, 10, 15), False),
    ],
)
def test_the_company_is_closed_on_public_holidays(day, closed):
    assert is_holiday(day) is closed


def test_the_demo_has_the_default_follow_up_rules_once(seeded):
    from customers.followups import DEFAULT_RULES
    from customers.models import FollowUpRule

    names = list(
        FollowUpRule.objects.filter(organization=demo_org()).values_list("name", flat=True)
    )

    assert sorted(names) == sorted(rule["name"] for rule in DEFAULT_RULES)
