"""A call through the signed Twilio webhooks shows on an open dispatch board without a reload:
the job the call creates joins the queue, and the visit it books lands on the timeline."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from bookings.availability import slots_find
from bookings.models import CallSession, ServiceType
from dispatchnode.accounts.models import Membership
from tests import factories
from tests.e2e.conftest import sign_in
from tests.voice.conftest import john, shop, twilio, voice_org  # noqa: F401 - fixtures
from tests.voice.test_dialogue import ATTESTED, Call, _sid

LIVE = 3  # seconds


def test_a_call_booked_through_the_webhooks_appears_on_the_open_board(
    browser,
    live_server,
    shop,  # noqa: F811 - the voice fixtures: a bookable organisation and John
    twilio,  # noqa: F811
    john,  # noqa: F811
    voice_org,  # noqa: F811
):
    dispatcher = factories.MembershipFactory(
        organization=voice_org, role=Membership.Role.DISPATCHER
    ).user
    repair = ServiceType.objects.get(organization=voice_org, code="ac-repair")
    earliest = slots_find(
        organization=voice_org, service_type=repair, location=john.locations.get(), count=1
    )[0]
    day = earliest.start.astimezone(voice_org.tzinfo).date()
    sign_in(browser, live_server, dispatcher, next_path="/dashboard/")
    browser.get(f"{live_server.url}/dashboard/board/?date={day.isoformat()}")
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "board")))
    browser.execute_script("window.__noReload = true;")

    call = Call(twilio, sid=_sid(901), StirVerstat=ATTESTED)
    call.say("Yes, same place.")
    call.say("My air conditioner is blowing warm air and the house won't cool down.")
    job = CallSession.objects.get(call_sid=_sid(901)).job
    WebDriverWait(browser, LIVE).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".queue"), job.number)
    )
    card = browser.find_element(By.CSS_SELECTOR, f".queue [data-id='{job.pk}']")
    assert "Phone" in card.text

    assert "You're all set" in call.say("The first one works for me.")
    appointment = job.appointments.get()
    WebDriverWait(browser, LIVE).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, f".queue [data-id='{job.pk}']")
    )
    if appointment.start.astimezone(voice_org.tzinfo).date() == day:
        WebDriverWait(browser, LIVE).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, f".visit[data-id='{appointment.pk}']")
        )
    assert browser.execute_script("return window.__noReload === true")
