"""Browser tests in real headless Chromium (Debian's `chromium` and `chromium-driver`, driven by
Selenium) against the app served by pytest-django's `live_server`.

`browser` is a fresh desktop-sized Chromium per test; `phone_browser` is 390×844 with a mobile
user agent. `sign_in(browser, live_server, user)` uses the real login form. Screenshots of the
pages the README shows are written to `docs/screenshots/` by `screenshot(browser, name)`.

Skipped, with the reason, when no chromium/chromedriver is installed (`.ci/run` installs both).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
PASSWORD = "pw-for-tests"  # tests.factories.UserFactory


def pytest_collection_modifyitems(config, items):
    if CHROMIUM and CHROMEDRIVER:
        return
    skip = pytest.mark.skip(reason="needs Debian's chromium and chromium-driver (.ci/run)")
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(skip)


def _driver(*, width: int, height: int, mobile: bool = False):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="dn-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    if mobile:
        options.add_experimental_option(
            "mobileEmulation",
            {
                "deviceMetrics": {"width": width, "height": height, "pixelRatio": 2},
                "userAgent": (
                    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
                    "(KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"
                ),
            },
        )
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    driver._dn_profile = profile
    return driver


def _close(driver) -> None:
    try:
        driver.quit()
    finally:
        shutil.rmtree(driver._dn_profile, ignore_errors=True)


@pytest.fixture
def browser(transactional_db):
    driver = _driver(width=1440, height=900)
    yield driver
    _close(driver)


@pytest.fixture
def phone_browser(transactional_db):
    driver = _driver(width=390, height=844, mobile=True)
    yield driver
    _close(driver)


@pytest.fixture
def make_browser(transactional_db):
    """`make_browser(width=…, height=…, mobile=…)`: more browsers in one test (two
    dispatchers, a dispatcher and a technician); all are closed after the test."""
    made = []

    def make(*, width: int = 1440, height: int = 900, mobile: bool = False):
        made.append(_driver(width=width, height=height, mobile=mobile))
        return made[-1]

    yield make
    for driver in made:
        _close(driver)


def sign_in(driver, live_server, user, *, next_path: str = "/") -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{live_server.url}/accounts/login/?next={next_path}")
    driver.find_element(By.ID, "id_username").send_keys(user.username)
    driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    login_url = f"{live_server.url}/accounts/login/?next={next_path}"
    WebDriverWait(driver, 10).until(ec.url_changes(login_url))


def screenshot(driver, name: str) -> Path:
    """Write docs/screenshots/<name>.png (the README shows them); DN_SCREENSHOTS=0 skips."""
    if os.environ.get("DN_SCREENSHOTS", "1") == "0":
        return SCREENSHOTS / f"{name}.png"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
