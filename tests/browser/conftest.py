"""Playwright against the live test server, in Debian's Chromium. No browser is downloaded."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from credentials.models import CredentialHistory
from tango_portal.models import Team, User
from tests.conftest import CHROMIUM, browser_available
from tests.factories import PASSWORD

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


class Acme(NamedTuple):
    """The team most browser tests use, and its two people."""

    team: Team
    admin: User
    member: User


@pytest.fixture
def acme(team, admin_user, member) -> Acme:
    """Acme Rewards with Ada Admin (Admin, Manage) and Mel Member (Member, Don't allow);
    both sign in with tests.factories.PASSWORD."""
    return Acme(team, admin_user, member)


def _new_page(browser, live_server, **options: object) -> Iterator[object]:
    """A page of its own browser context on the live server, closed after the test."""
    context = browser.new_context(base_url=live_server.url, **options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def phone(browser, live_server) -> Iterator[object]:
    """A page 390 px wide, as on a phone."""
    yield from _new_page(browser, live_server, viewport={"width": 390, "height": 844})


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:
    yield from _new_page(browser, live_server, viewport={"width": 1280, "height": 900})


@pytest.fixture
def page_without_js(browser, live_server) -> Iterator[object]:
    yield from _new_page(
        browser, live_server, java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )


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


def open_members_panel(page, user: User, link: str):
    """Sign in as `user`, open Team settings > Users and follow `link` ("Add member",
    "Edit Mel Member", ...); the editor panel it opens."""
    sign_in(page, user.email, PASSWORD)
    page.goto("/team/users/")
    page.get_by_role("link", name=link).click()
    return page.locator("[data-members-panel]")


def screenshot(page, name: str) -> None:
    """Save docs/screenshots/NAME.png when SCREENSHOTS=1 (make screenshots)."""
    if os.environ.get("SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
