"""The Reports page in real Chromium: an owner opens Reports from the navigation, sees what the AI
brought in over the last twelve months, switches to weeks, and the page reads at 390 px
(screenshots for the README: reports.png and reports-390.png)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from dispatchnode.accounts.models import Membership
from invoicing import selectors_reports as reports
from invoicing.models import Invoice
from tests import factories
from tests.e2e.conftest import screenshot, sign_in

SOURCES = ["ai_call", "ai_call", "staff", "online", "ai_call", "import", "referral", "api"]


def _seed(org):
    """A year of a small business: customers from every source, most of them booked by the AI,
    some coming back; a few invoices still open at every age."""
    tz = org.tzinfo
    today = timezone.localdate(timezone=tz)
    first = reports.month_add(today.replace(day=1), -11)
    service = factories.ServiceTypeFactory(organization=org, name="AC repair")
    customers = []
    for month in range(12):
        start = reports.month_add(first, month)
        for n in range(2 + month % 4 + month // 3):
            source = SOURCES[(month + n) % len(SOURCES)]
            if n < len(customers) // 6:  # some old customers come back
                who = customers[(month * 7 + n) % len(customers)]
            else:
                who = factories.CustomerFactory(
                    organization=org, source=source, last_name=f"Client{month}{n}"
                )
                customers.append(who)
            when = dt.datetime.combine(
                min(start + dt.timedelta(days=3 + 5 * n), today), dt.time(10), tzinfo=tz
            )
            job = factories.JobFactory(
                organization=org,
                customer=who,
                service_type=service,
                source=source,
                status="completed",
                completed_at=when,
            )
            total = Decimal(120 + 45 * ((month + n) % 7))
            invoice = factories.InvoiceFactory(
                organization=org,
                customer=who,
                job=job,
                status=Invoice.Status.PAID,
                subtotal=total,
                tax_total=Decimal("0"),
                total=total,
                amount_paid=total,
                issued_at=when,
            )
            factories.PaymentFactory(invoice=invoice, amount=total, received_at=when)
    for days, total in [(-10, 240), (5, 180), (20, 95), (44, 310), (75, 150), (120, 420)]:
        factories.InvoiceFactory(
            organization=org,
            customer=customers[days % len(customers)],
            status=Invoice.Status.SENT,
            subtotal=Decimal(total),
            tax_total=Decimal("0"),
            total=Decimal(total),
            due_date=today - dt.timedelta(days=days),
        )


def test_an_owner_sees_what_the_ai_brought_in(make_browser, live_server):
    membership = factories.MembershipFactory(role=Membership.Role.OWNER)
    org = membership.organization
    _seed(org)
    browser = make_browser(width=1440, height=900)
    sign_in(browser, live_server, membership.user, next_path="/dashboard/")

    # when: Reports from the navigation
    browser.find_element(By.LINK_TEXT, "Reports").click()
    WebDriverWait(browser, 10).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "svg.chart.stacked"))
    )

    # then: the AI's share, the stacked bars, the aging bars and the triangle
    main = browser.find_element(By.TAG_NAME, "main")
    assert "Brought in by the AI" in main.text
    assert len(browser.find_elements(By.CSS_SELECTOR, "rect.seg-ai_call")) >= 10
    assert len(browser.find_elements(By.CSS_SELECTOR, "rect.hbar")) == 5
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.heat tbody tr")) == 12
    browser.set_window_size(1440, browser.execute_script("return document.body.scrollHeight") + 40)
    screenshot(browser, "reports")

    # when: bars by week
    Select(browser.find_element(By.ID, "bucket")).select_by_value("week")
    browser.find_element(By.CSS_SELECTOR, ".period button[type=submit]").click()
    WebDriverWait(browser, 10).until(ec.url_contains("bucket=week"))

    # then: a bar a week
    start, end = reports.default_period(today=timezone.localdate(timezone=org.tzinfo))
    weeks = reports.bucket_starts(start=start, end=end, bucket="week")
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart.stacked > g")) == len(weeks)

    # and on a phone
    phone = make_browser(width=390, height=844, mobile=True)
    sign_in(phone, live_server, membership.user, next_path="/dashboard/reports/")
    WebDriverWait(phone, 10).until(ec.url_contains("/dashboard/reports/"))
    assert "Reports" in phone.find_element(By.TAG_NAME, "h1").text
    overflow = phone.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    phone.set_window_size(390, min(phone.execute_script("return document.body.scrollHeight"), 2400))
    screenshot(phone, "reports-390")
