"""Invoices in real Chromium: the customer's page on a phone (390 px) and printed, the office's
invoice page where a dispatcher records a check; the customer's page then shows it paid.
Screenshots for the README: invoice-public-390, invoice-public, invoice-office."""

from __future__ import annotations

from decimal import Decimal

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

from bookings.models import Job
from dispatchnode.accounts.models import Membership
from invoicing.models import Invoice
from invoicing.services import job_complete
from tests import factories
from tests.e2e.conftest import screenshot, sign_in


def _invoice(org) -> Invoice:
    org.name = "Demo Heating & Air"
    org.office_phone = "+15125550100"
    org.save()
    ana = factories.CustomerFactory(organization=org, first_name="Ana", last_name="Reyes")
    home = factories.ServiceLocationFactory(customer=ana, street="1208 OAK CREST DR")
    service = factories.ServiceTypeFactory(organization=org, name="AC repair")
    factories.PriceBookItemFactory(
        organization=org,
        service_type=service,
        name="AC repair, diagnostic and first hour",
        unit_price=Decimal("189.00"),
    )
    capacitor = factories.PriceBookItemFactory(
        organization=org, name="Run capacitor 45/5 µF", unit_price=Decimal("64.50")
    )
    labour = factories.PriceBookItemFactory(
        organization=org, name="Labour, per hour", unit_price=Decimal("95.00"), taxable=False
    )
    job = factories.JobFactory(
        organization=org,
        customer=ana,
        location=home,
        service_type=service,
        status=Job.Status.IN_PROGRESS,
    )
    job = job_complete(job=job, lines=[(capacitor, 1), (labour, "0.5")])
    return Invoice.objects.get(pk=job.invoice.pk)


def test_the_customer_sees_the_invoice_and_the_office_records_a_check(
    live_server, make_browser, org
):
    # given a completed job's invoice (sent automatically) and a dispatcher
    invoice = _invoice(org)
    dispatcher = factories.UserFactory(username="dispatcher")
    factories.MembershipFactory(organization=org, user=dispatcher, role=Membership.Role.DISPATCHER)
    url = f"{live_server.url}/i/{invoice.public_token}/"

    # when the customer opens the link on a phone
    phone = make_browser(width=390, height=844, mobile=True)
    phone.get(url)

    # then the page shows the lines, the total and the balance, with no Pay button (no
    # gateway set up) but the office's number, and fits the screen
    body = phone.find_element(By.TAG_NAME, "body").text
    assert "Invoice " + invoice.number in body
    assert "Run capacitor 45/5 µF" in body
    assert f"${invoice.total}" in body
    assert phone.find_element(By.CSS_SELECTOR, "[data-balance]").text == f"${invoice.total}"
    assert phone.find_elements(By.CSS_SELECTOR, ".pay-button") == []
    assert "(512) 555-0100" in body or "+15125550100" in body
    overflow = phone.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    screenshot(phone, "invoice-public-390")

    # when the dispatcher records a check for the whole balance on the office page
    office = make_browser()
    sign_in(office, live_server, dispatcher, next_path=f"/dashboard/invoices/{invoice.pk}/")
    office.find_element(By.ID, "pay-amount").clear()
    office.find_element(By.ID, "pay-amount").send_keys(str(invoice.total))
    Select(office.find_element(By.ID, "pay-method")).select_by_value("check")
    office.find_element(By.ID, "pay-ref").send_keys("Check 2231")
    office.find_element(By.CSS_SELECTOR, "form[action$='/payment/'] button").click()
    WebDriverWait(office, 10).until(
        ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".messages"), "Payment recorded.")
    )
    assert office.find_element(By.CSS_SELECTOR, "h1 [data-status]").text == "Paid"
    screenshot(office, "invoice-office")

    # then the customer's page, reloaded, says it is paid
    phone.get(url)
    assert phone.find_element(By.CSS_SELECTOR, ".paid-stamp").text == "Paid in full. Thank you!"
    assert phone.find_element(By.CSS_SELECTOR, "[data-balance]").text == "$0.00"
    desktop = make_browser()
    desktop.get(url)
    screenshot(desktop, "invoice-public")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.job.status) == ("paid", "closed")
