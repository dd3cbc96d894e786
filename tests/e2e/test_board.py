"""The dispatch board in real Chromium: drag-and-drop and keyboard moves through board.js, a
refused move with its reason, and live updates (a phone booking, another dispatcher's move)
without a reload."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from bookings.models import Appointment, Job
from bookings.services import appointment_book, appointment_reschedule, job_create
from dispatchnode.accounts.models import Membership
from tests import factories
from tests.e2e.conftest import screenshot, sign_in

LIVE = 3  # seconds: the board shows others' changes within this

DRAG = """
const [source, track, minutes] = arguments;
const board = document.getElementById('board');
const span = parseInt(board.dataset.span, 10);
const rect = track.getBoundingClientRect();
const x = rect.left + rect.width * (minutes + 5) / span;
const y = rect.top + rect.height / 2;
const data = new DataTransfer();
const fire = (el, type, extra) => el.dispatchEvent(new DragEvent(type, Object.assign(
  {bubbles: true, cancelable: true, dataTransfer: data}, extra || {})));
fire(source, 'dragstart');
fire(track, 'dragenter', {clientX: x, clientY: y});
fire(track, 'dragover', {clientX: x, clientY: y});
fire(track, 'drop', {clientX: x, clientY: y});
fire(source, 'dragend');
"""


class Shop:
    """A real-looking day tomorrow: four technicians, a dozen visits, a queue of four."""

    def __init__(self):
        self.org = factories.OrganizationFactory(name="Lone Star Comfort")
        self.dispatcher = factories.MembershipFactory(
            organization=self.org, role=Membership.Role.DISPATCHER
        ).user
        tz = self.org.tzinfo
        self.day = (timezone.now().astimezone(tz) + dt.timedelta(days=1)).date()
        org = self.org
        self.ac = factories.ServiceTypeFactory(organization=org, name="AC repair")
        self.heater = factories.ServiceTypeFactory(
            organization=org, name="Water heater service", default_duration_minutes=90
        )
        self.drain = factories.ServiceTypeFactory(
            organization=org, name="Drain cleaning", default_duration_minutes=60
        )
        self.techs = []
        for first, last, colour in (
            ("Ana", "Reyes", "#0b5cad"),
            ("Ben", "Okafor", "#16a34a"),
            ("Carla", "Nguyen", "#b85c00"),
            ("Dev", "Patel", "#5b3fa8"),
        ):
            tech = factories.TechnicianFactory(
                organization=org, first_name=first, last_name=last, color=colour
            )
            for weekday in range(7):
                factories.WorkingHoursFactory(organization=org, technician=tech, weekday=weekday)
            self.techs.append(tech)
        self._n = 0

    def at(self, hh, mm=0):
        return dt.datetime.combine(self.day, dt.time(hh, mm), tzinfo=self.org.tzinfo)

    def job(self, service, *, priority=Job.Priority.NORMAL, source="staff", name=None):
        self._n += 1
        first, last = name or (f"Client{self._n}", "Smith")
        customer = factories.CustomerFactory(
            organization=self.org, first_name=first, last_name=last
        )
        location = factories.ServiceLocationFactory(
            organization=self.org,
            customer=customer,
            latitude=Decimal("30.2672") + Decimal(self._n % 7) / 50,
            longitude=Decimal("-97.7431") - Decimal(self._n % 5) / 40,
        )
        return job_create(
            organization=self.org,
            customer=customer,
            location=location,
            service_type=service,
            priority=priority,
            source=source,
        )

    def visit(self, tech, hh, mm=0, service=None, **kw):
        job = self.job(service or self.ac, **kw)
        return appointment_book(job=job, technician=tech, start=self.at(hh, mm))


@pytest.fixture
def shop(transactional_db):
    return Shop()


def _full_day(shop):
    ana, ben, carla, dev = shop.techs
    shop.visit(ana, 8, name=("Maria", "Gonzalez"))
    shop.visit(ana, 11, service=shop.heater, name=("James", "Carter"))
    shop.visit(ana, 14, service=shop.drain, name=("Linda", "Brooks"))
    shop.visit(ben, 8, 30, service=shop.drain, name=("Omar", "Haddad"))
    shop.visit(ben, 10, 30, priority=Job.Priority.HIGH, name=("Grace", "Kim"))
    shop.visit(carla, 9, service=shop.heater, name=("Peter", "Novak"))
    shop.visit(carla, 13, name=("Sofia", "Rossi"))
    shop.visit(dev, 12, service=shop.drain, name=("Hank", "Miller"))
    shop.visit(dev, 15, priority=Job.Priority.EMERGENCY, name=("Beth", "Lane"))
    shop.visit(carla, 16, service=shop.drain, name=("Ray", "Ortiz"))
    for appointment, status in zip(
        Appointment.objects.filter(organization=shop.org).order_by("start")[:3],
        (Appointment.Status.DISPATCHED, Appointment.Status.EN_ROUTE, Appointment.Status.DISPATCHED),
        strict=True,
    ):
        appointment.status = status  # the technicians' app moves these; here, the seed
        appointment.save(update_fields=["status", "updated_at"])
    shop.job(
        shop.ac,
        priority=Job.Priority.EMERGENCY,
        source="ai_call",
        name=("Rosa", "Delgado"),
    )
    shop.job(shop.heater, priority=Job.Priority.HIGH, name=("Tom", "Walsh"))
    shop.job(shop.drain, name=("Ivy", "Chen"))


def _open(browser, live_server, shop):
    sign_in(browser, live_server, shop.dispatcher, next_path="/dashboard/")
    browser.get(f"{live_server.url}/dashboard/board/?date={shop.day.isoformat()}")
    WebDriverWait(browser, 10).until(ec.presence_of_element_located((By.ID, "board")))
    browser.execute_script("window.__noReload = true;")


def _card(browser, job):
    return browser.find_element(By.CSS_SELECTOR, f".queue [data-kind=job][data-id='{job.pk}']")


def _track(browser, tech):
    return browser.find_element(By.CSS_SELECTOR, f".tl-track.drop[data-technician='{tech.pk}']")


def _track_text(driver, tech) -> str:
    """The row's text, read in one script call (the poll may swap the board at any moment)."""
    return driver.execute_script(
        "const t = document.querySelector(`.tl-track.drop[data-technician='${arguments[0]}']`);"
        "return t ? t.textContent : '';",
        tech.pk,
    )


def _minutes_from_board_start(browser, hh, mm=0):
    start = browser.find_element(By.ID, "board").get_attribute("data-day-start")
    first = int(start[11:13]) * 60 + int(start[14:16])
    return hh * 60 + mm - first


def _wait_text(browser, css, text, timeout=10):
    WebDriverWait(browser, timeout).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text)
    )


def test_a_dispatcher_drags_an_unassigned_job_onto_a_technician(browser, live_server, shop):
    _full_day(shop)
    dev = shop.techs[3]
    job = shop.job(shop.ac, name=("Nora", "Evans"))
    _open(browser, live_server, shop)

    browser.execute_script(
        DRAG, _card(browser, job), _track(browser, dev), _minutes_from_board_start(browser, 9)
    )

    _wait_text(browser, ".board-notice", f"Booked {job.number} with Dev Patel")
    block = browser.find_element(
        By.CSS_SELECTOR, f".tl-track[data-technician='{dev.pk}'] .visit[data-start$='T09:00']"
    )
    assert job.number in block.text
    appointment = Appointment.objects.get(job=job)
    assert (appointment.technician, appointment.start) == (dev, shop.at(9))
    assert not browser.find_elements(By.CSS_SELECTOR, f".queue [data-id='{job.pk}']")
    screenshot(browser, "board")


def test_a_dispatcher_moves_a_visit_with_the_keyboard_only(browser, live_server, shop):
    ana, ben, *_ = shop.techs
    visit = shop.visit(ana, 8, name=("Maria", "Gonzalez"))
    _open(browser, live_server, shop)

    button = browser.find_element(By.CSS_SELECTOR, f".visit[data-id='{visit.pk}'] [data-move]")
    button.send_keys(Keys.ENTER)
    dialog = browser.find_element(By.ID, "move-dialog")
    WebDriverWait(browser, 5).until(lambda d: dialog.get_attribute("open") is not None)
    active = browser.switch_to.active_element
    assert active.get_attribute("id") == "move-technician"
    active.send_keys(Keys.ARROW_DOWN)  # Ana → Ben
    active.send_keys(Keys.TAB)
    start = browser.switch_to.active_element
    assert start.get_attribute("id") == "move-start"
    for _ in range(6):  # 08:00 → 11:00 in half-hour steps
        start.send_keys(Keys.ARROW_DOWN)
    start.send_keys(Keys.ENTER)

    _wait_text(browser, ".board-notice", "Moved")
    visit.refresh_from_db()
    assert (visit.technician, visit.start) == (ben, shop.at(11))
    assert browser.find_elements(
        By.CSS_SELECTOR, f".tl-track[data-technician='{ben.pk}'] .visit[data-id='{visit.pk}']"
    )


def test_a_conflicting_drop_is_refused_with_its_reason(browser, live_server, shop):
    ana, *_ = shop.techs
    taken = shop.visit(ana, 10, name=("Grace", "Kim"))
    job = shop.job(shop.ac, name=("Nora", "Evans"))
    _open(browser, live_server, shop)

    browser.execute_script(
        DRAG, _card(browser, job), _track(browser, ana), _minutes_from_board_start(browser, 10, 30)
    )

    _wait_text(browser, ".board-refusal", "Ana Reyes is no longer free")
    refusal = browser.find_element(By.CSS_SELECTOR, ".board-refusal")
    assert refusal.find_elements(By.CSS_SELECTOR, "button.alt")  # alternatives to apply
    assert not Appointment.objects.filter(job=job).exists()
    assert _card(browser, job).is_displayed()  # still in the queue
    assert Appointment.objects.get(pk=taken.pk).start == shop.at(10)

    refusal.find_element(By.CSS_SELECTOR, "button.alt").click()
    _wait_text(browser, ".board-notice", f"Booked {job.number}")
    assert Appointment.objects.filter(job=job).exists()


def test_a_phone_booking_appears_without_a_reload(browser, live_server, shop):
    ben = shop.techs[1]
    _open(browser, live_server, shop)

    # What the voice agent does when a caller books: a job from the call, then its visit.
    job = shop.job(shop.heater, source="ai_call", name=("Rosa", "Delgado"))
    appointment_book(job=job, technician=ben, start=shop.at(13))

    WebDriverWait(browser, LIVE).until(
        lambda d: d.find_elements(
            By.CSS_SELECTOR, f".tl-track[data-technician='{ben.pk}'] .visit[data-id]"
        )
    )
    assert job.number in _track_text(browser, ben)
    assert browser.execute_script("return window.__noReload === true")


def test_another_dispatchers_move_and_a_status_change_appear_without_a_reload(
    browser, live_server, shop
):
    ana, ben, *_ = shop.techs
    visit = shop.visit(ana, 9, name=("Peter", "Novak"))
    _open(browser, live_server, shop)
    assert visit.job.number in _track_text(browser, ana)

    appointment_reschedule(appointment=visit, start=shop.at(14), technician=ben)

    WebDriverWait(browser, LIVE).until(lambda d: visit.job.number in _track_text(d, ben))
    assert visit.job.number not in _track_text(browser, ana)

    # While the Move dialog is open the board is not swapped under it; closing it lets the
    # change in.
    browser.find_element(By.CSS_SELECTOR, f".visit[data-id='{visit.pk}'] [data-move]").click()
    browser.execute_script("document.getElementById('board').dataset.marker = 'kept';")
    appointment_reschedule(appointment=visit, start=shop.at(15), technician=ben)
    time.sleep(LIVE)  # one bounded wait: two polls would have come and gone
    assert browser.execute_script("return document.getElementById('board').dataset.marker")
    assert browser.find_element(By.ID, "move-dialog").get_attribute("open") is not None
    browser.find_element(By.CSS_SELECTOR, "#move-dialog [data-close]").click()
    WebDriverWait(browser, LIVE).until(
        lambda d: d.find_elements(
            By.CSS_SELECTOR, f".visit[data-id='{visit.pk}'][data-start$='T15:00']"
        )
    )

    ana.is_active = False  # Ana stops taking work: her row goes
    ana.save()
    WebDriverWait(browser, LIVE).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, f".tl-row[data-technician='{ana.pk}']")
    )
    assert browser.execute_script("return window.__noReload === true")


def test_the_board_at_phone_width(phone_browser, live_server, shop):
    _full_day(shop)
    _open(phone_browser, live_server, shop)
    assert phone_browser.find_element(By.CSS_SELECTOR, ".queue").is_displayed()
    width = phone_browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 392  # the timeline scrolls inside its box; the page does not
    screenshot(phone_browser, "board-390")
