"""The technician's day on a phone in Chromium: On my way and Start online, then the completion
made with no signal, queued, and sent exactly once when the signal comes back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from bookings.models import Appointment, Job, VisitAction
from customers.models import CustomerNote, ServiceLocation
from dispatchnode.accounts.models import Membership
from invoicing.models import Invoice
from tests import factories
from tests.e2e.conftest import screenshot, sign_in

OFFLINE = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
ONLINE = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


def _day(org):
    """A morning of three visits for Tina, the first with everything the job page shows."""
    user = factories.MembershipFactory(organization=org, role=Membership.Role.TECHNICIAN).user
    tina = factories.TechnicianFactory(organization=org, user=user, first_name="Tina")
    today = timezone.now().astimezone(org.tzinfo).date()
    hvac = factories.ServiceTypeFactory(organization=org, name="AC repair")
    people = [
        ("John", "Smith", "123 Main St, Austin, TX 78701", "123 MAIN ST", 8),
        ("Maria", "Garcia", "4410 Duval St, Austin, TX 78751", "4410 DUVAL ST", 11),
        ("William", "Jenkins", "123 Oak Street, Austin, TX 78702", "123 OAK ST", 14),
    ]
    visits = []
    for first, last, raw, street, hour in people:
        customer = factories.CustomerFactory(organization=org, first_name=first, last_name=last)
        factories.ContactPointFactory(customer=customer)
        location = factories.ServiceLocationFactory(
            customer=customer, raw_address=raw, street=street
        )
        job = factories.JobFactory(
            organization=org,
            customer=customer,
            location=location,
            service_type=hvac,
            status=Job.Status.SCHEDULED,
            description="AC blowing warm air upstairs",
        )
        start = dt.datetime.combine(today, dt.time(hour), tzinfo=org.tzinfo)
        visits.append(
            factories.AppointmentFactory(
                organization=org,
                job=job,
                technician=tina,
                start=start,
                end=start + dt.timedelta(hours=2),
                arrival_window_start=start,
                arrival_window_end=start + dt.timedelta(hours=2),
            )
        )
    first = visits[0].job
    ServiceLocation.objects.filter(pk=first.location_id).update(
        gate_code="#4512", pets="Friendly dog (Max) in the back yard", parking="Driveway is fine"
    )
    factories.CustomerNoteFactory(
        customer=first.customer,
        kind=CustomerNote.Kind.COMPLAINT,
        body="Last visit ran two hours late; call ahead.",
    )
    call = factories.CallSessionFactory(organization=org, job=first, customer=first.customer)
    factories.CallTurnFactory(call=call, heard="Hi, my AC is blowing warm air since last night")
    factories.CallTurnFactory(call=call, heard="It's the unit on the side of the house")
    factories.EquipmentFactory(location=first.location, make="Carrier", model_number="24ACC636A003")
    earlier = factories.JobFactory(
        organization=org,
        customer=first.customer,
        location=first.location,
        service_type=hvac,
        status=Job.Status.COMPLETED,
        completed_at=timezone.now() - dt.timedelta(days=120),
        diagnostic_notes="Run capacitor reading low (32 µF of 45); advised replacement.",
        work_notes="Cleaned the condenser coil.",
    )
    factories.AppointmentFactory(
        organization=org,
        job=earlier,
        technician=factories.TechnicianFactory(
            organization=org, first_name="Bob", last_name="Reyes"
        ),
        start=timezone.now() - dt.timedelta(days=120),
        end=timezone.now() - dt.timedelta(days=120, hours=-1),
        status=Appointment.Status.COMPLETED,
    )
    factories.PriceBookItemFactory(organization=org, name="Diagnostic visit")
    part = factories.PriceBookItemFactory(
        organization=org, name="Run capacitor 45/5 µF", unit_price=Decimal("42.50")
    )
    return tina, visits, part


def _tap(driver, selector: str) -> None:
    button = WebDriverWait(driver, 10).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, selector))
    )
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()


def _until(predicate, timeout=15):
    WebDriverWait(None, timeout, poll_frequency=0.2).until(lambda _: predicate())


def test_a_technician_works_a_visit_and_completes_it_offline(
    phone_browser, make_browser, live_server
):
    driver = phone_browser
    org = factories.OrganizationFactory(name="Demo Heating & Air")
    tina, visits, part = _day(org)
    visit = visits[0]
    dispatcher = factories.MembershipFactory(organization=org, role=Membership.Role.DISPATCHER)

    # given: Tina signs in and sees her day
    sign_in(driver, live_server, tina.user, next_path="/tech/")
    WebDriverWait(driver, 10).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, ".visit-card"))
    )
    assert "John Smith" in driver.find_element(By.ID, "day-list").text
    screenshot(driver, "tech-day")

    # when: On my way from the day page, then Start on the job page
    driver.execute_script("window.__beforeTap = true;")
    _tap(driver, f'[data-visit="{visit.pk}"] form[data-queue=en_route] button')
    _until(lambda: Appointment.objects.get(pk=visit.pk).status == Appointment.Status.EN_ROUTE)
    # the app reloads the day once its queue is empty: wait for that before moving on
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && window.__beforeTap === undefined"
        )
    )
    driver.get(f"{live_server.url}/tech/visits/{visit.pk}/")
    WebDriverWait(driver, 10).until(ec.presence_of_element_located((By.ID, "complete")))
    screenshot(driver, "tech-job")
    _tap(driver, "form[data-queue=start] button")
    _until(lambda: Appointment.objects.get(pk=visit.pk).status == Appointment.Status.IN_PROGRESS)
    WebDriverWait(driver, 10).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".visit-title"), "In progress")
    )

    # and: the signal goes
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", OFFLINE)
    WebDriverWait(driver, 10).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, "[data-net]"), "Offline")
    )

    # and: she completes the visit with a part and the customer's signature
    notes = driver.find_element(By.ID, "notes")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", notes)
    notes.send_keys("Replaced the run capacitor; unit cooling, 18°F split.")
    driver.find_element(By.ID, "diagnostic_notes").send_keys("Capacitor failed (bulged).")
    Select(driver.find_element(By.ID, "item-1")).select_by_value(str(part.pk))
    quantity = driver.find_element(By.ID, "qty-1")
    quantity.clear()
    quantity.send_keys("1")
    pad = driver.find_element(By.CSS_SELECTOR, "[data-signature-pad]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", pad)
    (
        ActionChains(driver)
        .move_to_element_with_offset(pad, -120, 10)
        .click_and_hold()
        .move_by_offset(60, -30)
        .move_by_offset(60, 40)
        .move_by_offset(60, -20)
        .release()
        .perform()
    )
    assert (
        driver.find_element(By.CSS_SELECTOR, "[data-signature-value]")
        .get_attribute("value")
        .startswith("data:image/png;base64,")
    )
    _tap(driver, "form[data-queue=complete] button[type=submit]")

    # then: it waits on the phone, and nothing reached the server
    WebDriverWait(driver, 10).until(
        ec.text_to_be_present_in_element(
            (By.CSS_SELECTOR, "[data-queue-banner]"), "1 change waiting to send"
        )
    )
    assert "Completion saved on this phone" in driver.find_element(By.ID, "complete").text
    assert Job.objects.get(pk=visit.job_id).status == Job.Status.IN_PROGRESS

    # and: a dispatcher watches the board
    board = make_browser()
    sign_in(board, live_server, dispatcher.user, next_path="/dashboard/board/")
    block = f'article.visit[data-id="{visit.pk}"]'
    WebDriverWait(board, 10).until(ec.presence_of_element_located((By.CSS_SELECTOR, block)))
    assert "st-in_progress" in board.find_element(By.CSS_SELECTOR, block).get_attribute("class")
    board.execute_script("window.__noReload = true;")

    # when: the signal comes back
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", ONLINE)

    # then: the completion is sent once, and the board shows it within 3 s, without a reload
    _until(lambda: Job.objects.get(pk=visit.job_id).status == Job.Status.COMPLETED)
    # (read in one script: the poll may swap the block between a find and a read)
    WebDriverWait(board, 3, poll_frequency=0.1).until(
        lambda b: (
            "st-completed"
            in b.execute_script(
                "return document.querySelector(arguments[0])?.className || ''", block
            )
        )
    )
    assert board.execute_script("return window.__noReload === true")
    WebDriverWait(driver, 15).until(
        ec.invisibility_of_element_located((By.CSS_SELECTOR, "[data-queue-banner]"))
    )
    job = Job.objects.get(pk=visit.job_id)
    assert job.work_notes.startswith("Replaced the run capacitor")
    assert job.signature.name.endswith(".png")
    invoice = Invoice.objects.get(job=job)
    assert [(line.item_id, line.quantity) for line in invoice.lines.all()] == [
        (part.pk, Decimal("1.00"))
    ]
    assert VisitAction.objects.filter(kind=VisitAction.Kind.COMPLETE).count() == 1
    assert VisitAction.objects.count() == 3
    assert Appointment.objects.get(pk=visit.pk).status == Appointment.Status.COMPLETED
