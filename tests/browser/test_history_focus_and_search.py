"""Credential history in a browser: focus stays on the control used, a paste filters, totals show."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_history import URL, filters, history_team  # noqa: F401  (a fixture)
from tests.credentials.test_history_views import add_history
from tests.factories import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]

# wait_for_function takes functions, not strings: the portal's CSP forbids eval.
FOCUSED = "(document.activeElement.textContent || '').trim()"


def wait_for_focus_on(page, text: str) -> None:
    page.wait_for_function(f"text => {FOCUSED} === text", arg=text)


def focused_in(page, selector: str) -> bool:
    return page.evaluate(f"!!document.activeElement.closest({selector!r})")


def test_sorting_and_paging_by_keyboard_keep_focus_on_the_link_used(page, history_team):  # noqa: F811
    team, auditor = history_team
    for n in range(20):  # 56 rows: three pages
        add_history(team, auditor, name=f"Extra {n:02d}", identifier=f"sa_extra_{n:02d}")
    sign_in(page, auditor.email, PASSWORD)
    page.goto(URL)
    expect(page.locator(".history-summary")).to_contain_text("Rows 1\N{EN DASH}25 of 56, newest first.")

    header = page.locator("#history-results thead").get_by_role("link", name="Credential name")
    header.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**sort=credential_name**")
    expect(page.locator("#history-results tbody tr").first).to_contain_text("Extra 00")
    wait_for_focus_on(page, "Credential name")
    assert focused_in(page, "#history-results thead")

    results = page.locator("#history-results")
    results.get_by_role("link", name="Next").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**page=2**")
    expect(page.locator(".history-summary")).to_contain_text("Rows 26\N{EN DASH}50 of 56")
    wait_for_focus_on(page, "Next")
    assert page.evaluate("document.activeElement.getAttribute('rel')") == "next"
    # Not thrown back to the top: the control is still on screen.
    assert page.evaluate(
        "() => { const r = document.activeElement.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; }"
    )
    assert page.evaluate("window.scrollY") > 0

    page.keyboard.press("Enter")
    page.wait_for_url("**page=3**")
    # The last page has no Next link: focus goes to the current page's number.
    page.wait_for_function("() => document.activeElement.getAttribute('aria-current') === 'page'")
    assert page.evaluate(FOCUSED) == "3"

    results.get_by_role("link", name="Previous").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**page=2**")
    wait_for_focus_on(page, "Previous")
    assert focused_in(page, "#history-results nav")


def test_a_mouse_paste_into_the_search_box_filters_without_enter(page, history_team):  # noqa: F811
    _, auditor = history_team
    sign_in(page, auditor.email, PASSWORD)
    page.goto(URL)
    search = filters(page).get_by_label("Credential name")

    # What a paste from the context menu does: the value changes and "input" fires; no key.
    search.evaluate(
        """box => {
            box.value = "zebra rep";
            box.dispatchEvent(new InputEvent("input", {bubbles: true, inputType: "insertFromPaste"}));
        }"""
    )

    page.wait_for_url("**name=zebra%20rep**")
    expect(page.locator("#history-results tbody tr")).to_have_count(6)
    expect(page.locator(".history-summary")).to_contain_text("Rows 1\N{EN DASH}6 of 6 matching the filter")


def test_nothing_matching_hides_the_export_links(page, history_team):  # noqa: F811
    _, auditor = history_team
    sign_in(page, auditor.email, PASSWORD)
    page.goto(URL)
    expect(page.get_by_role("link", name="CSV")).to_be_visible()

    filters(page).get_by_label("Credential name").fill("nothing like it")
    filters(page).get_by_label("Credential name").press("Enter")

    expect(page.get_by_role("heading", name="No history matches this filter")).to_be_visible()
    expect(page.get_by_role("link", name="CSV")).to_have_count(0)
    expect(page.get_by_role("link", name="JSON")).to_have_count(0)


def test_a_page_that_does_not_exist_says_so(page, history_team):  # noqa: F811
    _, auditor = history_team
    sign_in(page, auditor.email, PASSWORD)
    page.goto(f"{URL}?page=999")

    expect(page.get_by_role("status").filter(has_text="Rows")).to_contain_text(
        "Page 999 does not exist; showing page 1."
    )
