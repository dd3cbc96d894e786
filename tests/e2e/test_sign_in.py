"""Signing in with the real form in Chromium lands each role on its own pages."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from dispatchnode.accounts.models import Membership
from tests import factories
from tests.e2e.conftest import sign_in


def test_a_dispatcher_signs_in_and_lands_on_the_dashboard(browser, live_server):
    membership = factories.MembershipFactory(role=Membership.Role.DISPATCHER)
    sign_in(browser, live_server, membership.user)
    assert browser.current_url == f"{live_server.url}/dashboard/"
    assert membership.organization.name in browser.find_element(By.TAG_NAME, "header").text


def test_a_wrong_password_says_so(browser, live_server):
    membership = factories.MembershipFactory(role=Membership.Role.DISPATCHER)
    browser.get(f"{live_server.url}/accounts/login/")
    browser.find_element(By.ID, "id_username").send_keys(membership.user.username)
    browser.find_element(By.ID, "id_password").send_keys("wrong")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    assert "do not match" in browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
