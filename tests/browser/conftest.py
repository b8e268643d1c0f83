"""Playwright against the live test server, in Debian's Chromium. No browser is downloaded."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from credentials.models import CredentialHistory
from tests.conftest import CHROMIUM, browser_available

# Playwright's sync API runs an event loop in this thread; the ORM calls made by
# fixtures and assertions here are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not browser_available():
        if os.environ.get("REQUIRE_BROWSER") or os.environ.get("CI"):
            pytest.fail("Chromium is not installed at /usr/bin/chromium; CI must run browser tests.")
        pytest.skip("Chromium is not installed (apt-get install chromium); CI installs it.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug_mode(request, settings) -> bool:
    """Run the test with DEBUG off and on: `make run` serves with debug on, and in debug mode
    django-htmx's script swaps a 400/403/404/500 answer over the whole document."""
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def phone(browser, live_server) -> Iterator[object]:
    """A page 390 px wide, as on a phone."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def page_without_js(browser, live_server) -> Iterator[object]:
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def actions_for(identifier: str) -> list[str]:
    """The credential history actions recorded for one credential, oldest first."""
    return list(
        CredentialHistory.objects.filter(credential_identifier=identifier)
        .order_by("id")
        .values_list("action", flat=True)
    )


def sign_in(page, email: str, password: str, landing: str = "**/team/api-credentials/") -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(landing)


def screenshot(page, name: str) -> None:
    """Save docs/screenshots/NAME.png when SCREENSHOTS=1 (make screenshots)."""
    if os.environ.get("SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
