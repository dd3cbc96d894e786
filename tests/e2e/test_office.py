"""The office pages in real Chromium: a dispatcher finds a customer by a phone number typed the
way people type it, opens the customer page, and looks at today's figures (screenshots for the
README at 1440 and 390 px)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from bookings.models import CallSession, Job
from bookings.services_callbacks import callback_open_for_call
from dispatchnode.accounts.models import Membership
from tests import factories
from tests.e2e.conftest import screenshot, sign_in


def _seed(org):
    ana = factories.CustomerFactory(
        organization=org, first_name="Ana", last_name="Reyes", tags=["vip"]
    )
    factories.ContactPointFactory(customer=ana, value="+15125550142")
    factories.ContactPointFactory(
        customer=ana, kind="email", value="ana.reyes@example.com", is_primary=False
    )
    home = factories.ServiceLocationFactory(
        customer=ana,
        label="Home",
        street="1208 OAK CREST DR",
        raw_address="1208 Oak Crest Dr",
        gate_code="4321",
        pets="Friendly dog (Bella)",
        access_notes="Side gate, unit in the attic",
    )
    factories.EquipmentFactory(location=home, make="Carrier", model_number="24ACC636")
    repair = factories.ServiceTypeFactory(organization=org, name="AC repair")
    tune = factories.ServiceTypeFactory(organization=org, name="Furnace tune-up")
    factories.PriceBookItemFactory(
        organization=org, service_type=repair, unit_price=Decimal("189.00")
    )
    factories.PriceBookItemFactory(organization=org, service_type=tune, unit_price=Decimal("99.00"))
    tech = factories.TechnicianFactory(organization=org, first_name="Tina", last_name="Volt")
    job = factories.JobFactory(
        organization=org,
        customer=ana,
        location=home,
        service_type=repair,
        number="J-1042",
        source="ai_call",
        status=Job.Status.SCHEDULED,
        description="AC blowing warm air",
    )
    factories.AppointmentFactory(organization=org, job=job, technician=tech)
    old = factories.JobFactory(
        organization=org,
        customer=ana,
        location=home,
        service_type=tune,
        number="J-0877",
        status=Job.Status.COMPLETED,
    )
    factories.InvoiceFactory(organization=org, customer=ana, job=old, number="INV-2210")
    call = factories.CallSessionFactory(
        organization=org,
        customer=ana,
        job=job,
        outcome=CallSession.Outcome.BOOKED,
        lead_score=65,
        summary='Ana Reyes (returning customer) asked for AC repair: "blowing warm air". Booked.',
    )
    factories.CallTurnFactory(call=call, sequence=1)
    factories.MessageFactory(customer=ana, body="Your AC repair is booked for tomorrow 9–11 AM.")
    now = timezone.now()
    for n, (hour, outcome) in enumerate(
        [(8, "booked"), (9, "booked"), (9, "no_booking"), (10, "booked"), (11, "transferred")]
    ):
        c = factories.CallSessionFactory(
            organization=org,
            outcome=outcome,
            lead_score=30 + n * 10,
            action_items=["Call back: the caller did not book"],
            ended_at=now,
        )
        day = timezone.localdate(timezone=org.tzinfo)
        CallSession.objects.filter(pk=c.pk).update(
            created_at=dt.datetime.combine(day, dt.time(hour, 10), tzinfo=org.tzinfo)
        )
        callback_open_for_call(c)
    for days_ago in range(14):
        for _ in range((days_ago * 7) % 4):
            j = factories.JobFactory(organization=org, service_type=repair, source="staff")
            Job.objects.filter(pk=j.pk).update(created_at=now - dt.timedelta(days=days_ago))
    return ana


def test_a_dispatcher_finds_a_customer_by_phone_and_opens_their_page(
    browser, make_browser, live_server
):
    membership = factories.MembershipFactory(role=Membership.Role.DISPATCHER)
    ana = _seed(membership.organization)
    sign_in(browser, live_server, membership.user, next_path="/dashboard/")
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.CSS_SELECTOR, "svg.chart")))
    screenshot(browser, "today")

    browser.find_element(By.LINK_TEXT, "Customers").click()
    box = WebDriverWait(browser, 10).until(ec.element_to_be_clickable((By.ID, "q")))
    box.send_keys("(512) 555-0142", Keys.ENTER)
    link = WebDriverWait(browser, 10).until(ec.element_to_be_clickable((By.LINK_TEXT, "Ana Reyes")))
    link.click()
    WebDriverWait(browser, 10).until(
        ec.url_to_be(f"{live_server.url}/dashboard/customers/{ana.pk}/")
    )
    page = browser.find_element(By.TAG_NAME, "main").text
    for text in ("(512) 555-0142", "1208 OAK CREST DR", "4321", "J-1042", "INV-2210", "Tina Volt"):
        assert text in page, text
    browser.set_window_size(1440, browser.execute_script("return document.body.scrollHeight") + 40)
    screenshot(browser, "customer")

    phone = make_browser(width=390, height=844, mobile=True)
    sign_in(phone, live_server, membership.user, next_path=f"/dashboard/customers/{ana.pk}/")
    WebDriverWait(phone, 10).until(ec.url_to_be(f"{live_server.url}/dashboard/customers/{ana.pk}/"))
    assert "Ana Reyes" in phone.find_element(By.TAG_NAME, "h1").text
    screenshot(phone, "customer-390")


def test_two_dispatchers_and_one_call_back_and_a_duplicate_merged_in_one_click(
    make_browser, live_server
):
    first = factories.MembershipFactory(
        role=Membership.Role.DISPATCHER, user__first_name="Dana", user__last_name="Fox"
    )
    org = first.organization
    second = factories.MembershipFactory(organization=org, role=Membership.Role.DISPATCHER)
    caller = factories.CustomerFactory(organization=org, first_name="Luis", last_name="Ortega")
    call = factories.CallSessionFactory(
        organization=org,
        customer=caller,
        outcome=CallSession.Outcome.NO_BOOKING,
        lead_score=70,
        ended_at=timezone.now(),
        action_items=["Call back Luis at +15125550177: wants a water heater install"],
        summary="Luis Ortega asked for a water heater install; no offered time suited him.",
    )
    factories.CallTurnFactory(
        call=call,
        sequence=1,
        heard="I need a new water heater",
        said="I can help with that. Can I have your address?",
    )
    factories.CallTurnFactory(
        call=call,
        sequence=2,
        heard="None of those times work",
        said="Would you like someone from our office to call you back?",
    )
    callback = callback_open_for_call(call)
    a = factories.CustomerFactory(organization=org, first_name="Bill", last_name="Smith")
    b = factories.CustomerFactory(organization=org, first_name="William", last_name="Smith")
    for c in (a, b):
        factories.ContactPointFactory(customer=c, value="+15125550142")
        factories.ServiceLocationFactory(customer=c, street="77 ELM ST")
    review = factories.DuplicateReviewFactory(organization=org, customer_a=a, customer_b=b)

    one, two = make_browser(), make_browser(width=390, height=844, mobile=True)
    sign_in(one, live_server, first.user, next_path="/dashboard/callbacks/")
    sign_in(two, live_server, second.user, next_path="/dashboard/callbacks/")
    one.find_element(By.CSS_SELECTOR, f"#callback-{callback.pk} button.primary").click()
    WebDriverWait(one, 10).until(
        ec.text_to_be_present_in_element((By.ID, f"callback-{callback.pk}"), "You have this one")
    )
    screenshot(one, "callbacks")
    two.find_element(By.CSS_SELECTOR, f"#callback-{callback.pk} button.primary").click()
    WebDriverWait(two, 10).until(
        ec.text_to_be_present_in_element(
            (By.CSS_SELECTOR, ".messages"), "Dana Fox already has this call back"
        )
    )
    screenshot(two, "callbacks-390")

    one.get(f"{live_server.url}/dashboard/calls/{call.pk}/")
    assert "None of those times work" in one.find_element(By.ID, "main").text
    screenshot(one, "call")

    one.get(f"{live_server.url}/dashboard/duplicates/")
    screenshot(one, "duplicates")
    one.find_element(By.CSS_SELECTOR, f"#review-{review.pk} button.primary").click()
    WebDriverWait(one, 10).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".messages"), "Merged #")
    )
    assert "No possible duplicates to review" in one.find_element(By.ID, "main").text
