import logging
import re
from http import HTTPStatus

import pytest
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credentials import services
from credentials.models import CredentialHistory, ServiceAccount
from tests.conftest import HistoryDown, client_for, revealed

pytestmark = pytest.mark.django_db

Action = CredentialHistory.Action
INDEX = "/team/api-credentials/"
LIST = "/team/api-credentials/service-accounts/"
CREATE = "/team/api-credentials/service-accounts/create/"
PASSWORD_SHOWN_ONCE = (
    "The password is only shown at the time of creation. Save it now: you cannot recover it."
)


def detail_url(account):
    return f"{LIST}{account.pk}/"


def rename_url(account):
    return f"{LIST}{account.pk}/rename/"


def delete_url(account):
    return f"{LIST}{account.pk}/delete/"


def make_account(actor, team, display_name=""):
    account, _ = services.service_account_create(actor=actor, team=team, display_name=display_name)
    return account


def bulk_accounts(team, creator, count, start=0):
    ServiceAccount.objects.bulk_create(
        ServiceAccount(
            team=team,
            username=f"{team.slug}-sa-bulk{i:04d}",
            password_hash="argon2$dummy",
            display_name=f"Bulk {i}",
            created_by=creator,
        )
        for i in range(start, start + count)
    )


def actions(team):
    return list(CredentialHistory.objects.filter(team=team).order_by("id").values_list("action", flat=True))


def password_from(response):
    match = re.search(r'<code id="sa-new-password">([^<]+)</code>', response.content.decode())
    assert match, "the one-time page shows the password"
    return match.group(1)


def text(response):
    return response.content.decode()


def section(response):
    """This feature's section of the API credentials page (other sections have their own words)."""
    body = text(response)
    start = body.index('<section class="section" id="service-accounts"')
    return body[start : body.index("</section>", start)]


# --- The section on the API credentials page and the list page ------------------


def test_section_lists_live_accounts_with_copy_buttons(manager_client, manager, team):
    account = make_account(manager, team, display_name="Order server")
    gone = make_account(manager, team, display_name="Old server")
    services.service_account_delete(actor=manager, team=team, account=gone)

    response = manager_client.get(INDEX)

    body = text(response)
    assert response.status_code == HTTPStatus.OK
    assert "OAuth service accounts" in body
    assert account.username in body
    assert "Order server" in body
    assert f'data-copy-target="#sa-username-{account.pk}"' in body
    assert f'href="{detail_url(account)}"' in body
    assert "by Manny Manager" in body
    assert "Never" in body
    assert gone.username not in body
    assert "Old server" not in body


def test_section_offers_create_to_manage_users(manager_client):
    body = text(manager_client.get(INDEX))

    # A link to the create page, which asks for the name before the password exists.
    assert f'href="{CREATE}"' in body
    assert f'action="{CREATE}"' not in body
    assert "Create service account" in body


def test_section_offers_no_create_to_view_users(auditor_client, manager, team):
    account = make_account(manager, team)

    body = section(auditor_client.get(INDEX))

    assert account.username in body
    assert f'href="{CREATE}"' not in body
    assert "Create service account" not in body


def test_section_explains_oauth_must_be_enabled(manager_client, team):
    team.oauth_enabled = False
    team.save()

    body = section(manager_client.get(INDEX))

    assert "Tango representative must enable it" in body
    assert f'action="{CREATE}"' not in body


def test_empty_state_explains_what_a_service_account_is_for(manager_client, htmx_headers):
    for response in (
        manager_client.get(INDEX),
        manager_client.get(LIST),
        manager_client.get(LIST, headers=htmx_headers),
    ):
        body = text(response)
        assert "No service accounts yet." in body
        assert "together with your client credentials to get an API token" in body


def test_list_page_full_and_htmx_partial(auditor_client, manager, team, htmx_headers):
    account = make_account(manager, team, display_name="Order server")

    full = auditor_client.get(LIST)
    partial = auditor_client.get(LIST, headers=htmx_headers)

    assert full.status_code == partial.status_code == HTTPStatus.OK
    assert "<html" in text(full)
    assert "<h1>OAuth service accounts</h1>" in text(full)
    assert "<html" not in text(partial)
    assert 'id="sa-table"' in text(partial)
    for response in (full, partial):
        assert account.username in text(response)
        assert "Order server" in text(response)
    assert f'action="{CREATE}"' not in text(full)


def test_list_paginates(manager_client, manager, team):
    bulk_accounts(team, manager, 30)

    first = text(manager_client.get(LIST))
    second = text(manager_client.get(LIST, {"sa-page": 2}))

    # Newest first: bulk rows share created_at, so the highest id comes first.
    assert "sa-bulk0029" in first
    assert "sa-bulk0004" not in first
    assert 'href="?sa-page=2"' in first
    assert "sa-bulk0004" in second
    assert "sa-bulk0029" not in second
    assert "30 service accounts." in first


def test_section_paginates_and_links_to_the_full_list(manager_client, manager, team):
    bulk_accounts(team, manager, 12)

    body = text(manager_client.get(INDEX))

    assert 'href="?sa-page=2"' in body
    assert f'href="{LIST}"' in body
    assert body.count('<code id="sa-username-') == 10


def _query_count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    return len(queries)


@pytest.mark.parametrize("url", [INDEX, LIST])
def test_query_count_does_not_grow_with_rows(
    manager_client, manager, team, url, django_assert_max_num_queries
):
    bulk_accounts(team, manager, 3)
    with_three = _query_count(manager_client, url)
    with django_assert_max_num_queries(with_three):
        assert manager_client.get(url).status_code == HTTPStatus.OK

    bulk_accounts(team, manager, 297, start=3)
    assert ServiceAccount.objects.active().filter(team=team).count() == 300

    with django_assert_max_num_queries(with_three):
        response = manager_client.get(url)
    assert "sa-bulk0299" in text(response)


def test_list_page_query_count_is_small(manager_client, manager, team, django_assert_max_num_queries):
    bulk_accounts(team, manager, 300)

    with django_assert_max_num_queries(12):
        response = manager_client.get(LIST)
    assert response.status_code == HTTPStatus.OK
    # The cap holds while the accounts are really listed, not for an empty page.
    assert "sa-bulk0299" in text(response)


# --- Create ------------------------------------------------------------------------


def test_create_get_shows_the_form_and_no_secret(manager_client, htmx_headers):
    for response in (manager_client.get(CREATE), manager_client.get(CREATE, headers=htmx_headers)):
        body = text(response)
        assert response.status_code == HTTPStatus.OK
        assert 'name="display_name"' in body
        assert '<label for="id_display_name">Display name' in body
        assert "tng_sbx_sap_" not in body
    assert not ServiceAccount.objects.exists()


def test_create_shows_username_and_password_once_with_no_store(manager_client, team):
    posted = manager_client.post(CREATE, {"display_name": "  Order server "})
    response = revealed(manager_client, posted)

    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    assert response["Pragma"] == "no-cache"
    body = text(response)
    account = ServiceAccount.objects.get()
    password = password_from(response)
    assert password.startswith("tng_sbx_sap_")
    assert services.service_account_check_password(account, password)
    assert PASSWORD_SHOWN_ONCE in body
    assert f'<code id="sa-new-username">{account.username}</code>' in body
    assert 'data-copy-target="#sa-new-username"' in body
    assert 'data-copy-target="#sa-new-password"' in body
    # Named before it was made: the page holds no form that could fail and lose the password.
    assert "Order server" in body
    assert "<form" not in body.split('<main id="main"')[1]
    assert rename_url(account) not in body
    assert "create a new service account" in body.lower()
    assert "client credentials stay valid" in body
    assert account.display_name == "Order server"
    assert account.team == team
    assert actions(team) == [Action.CREATED]


def test_create_by_htmx_also_leads_to_the_one_time_page(manager_client, htmx_headers):
    posted = manager_client.post(CREATE, {}, headers=htmx_headers)
    assert posted.status_code == HTTPStatus.OK
    assert "/reveal/" in posted["HX-Redirect"]
    response = revealed(manager_client, posted)

    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    assert services.service_account_check_password(ServiceAccount.objects.get(), password_from(response))


def test_password_is_never_shown_again_nor_stored_anywhere(
    manager_client, manager, team, caplog, htmx_headers
):
    caplog.set_level(logging.DEBUG)
    posted = manager_client.post(CREATE, {"display_name": "Order server"})
    response = revealed(manager_client, posted)
    password = password_from(response)
    account = ServiceAccount.objects.get()

    for answer in (posted, response):
        assert password not in str(list(get_messages(answer.wsgi_request)))
        assert all(password not in str(cookie.value) for cookie in answer.cookies.values())
    assert password not in posted.content.decode() + repr(posted.items())
    again = manager_client.get(posted["Location"])
    assert again.status_code == HTTPStatus.GONE
    assert password not in text(again)
    later = [
        manager_client.get(INDEX),
        manager_client.get(LIST),
        manager_client.get(LIST, headers=htmx_headers),
        manager_client.get(CREATE),
        manager_client.get(detail_url(account)),
        manager_client.get(detail_url(account), headers=htmx_headers),
        manager_client.get(rename_url(account)),
        manager_client.get(delete_url(account)),
        manager_client.post(rename_url(account), {"display_name": "Renamed"}, follow=True),
        manager_client.get("/team/api-credentials/history/"),
    ]
    for later_response in later:
        assert later_response.status_code == HTTPStatus.OK
        assert password not in text(later_response)
        assert PASSWORD_SHOWN_ONCE not in text(later_response)
    for session in Session.objects.all():
        assert password not in str(session.get_decoded())
    assert password not in str(dict(manager_client.session.items()))
    for row in CredentialHistory.objects.values():
        assert password not in repr(row)
    assert password not in caplog.text
    assert password not in account.password_hash


def test_resubmitting_the_create_form_does_not_create_or_show_again(manager_client, team):
    key = re.search(r'name="create_key" value="([0-9a-f]{32})"', text(manager_client.get(CREATE))).group(1)
    first = manager_client.post(CREATE, {"create_key": key})
    password = password_from(revealed(manager_client, first))

    again = manager_client.post(CREATE, {"create_key": key}, follow=True)

    account = ServiceAccount.objects.get()
    assert again.redirect_chain == [(detail_url(account), HTTPStatus.FOUND)]
    assert password not in text(again)
    assert "tng_sbx_sap_" not in text(again)
    assert "already sent" in text(again)
    assert "cannot be shown again" in text(again)
    assert actions(team) == [Action.CREATED, Action.VIEWED]


def test_each_create_form_makes_its_own_account(manager_client):
    body = text(manager_client.get(CREATE))
    key = re.search(r'name="create_key" value="([0-9a-f]{32})"', body).group(1)
    manager_client.post(CREATE, {"create_key": key})
    other_key = re.search(
        r'name="create_key" value="([0-9a-f]{32})"', text(manager_client.get(CREATE))
    ).group(1)

    manager_client.post(CREATE, {"create_key": other_key})

    assert other_key != key
    assert ServiceAccount.objects.count() == 2


def test_create_refuses_bad_display_name_and_changes_nothing(manager_client, team):
    response = manager_client.post(CREATE, {"display_name": "bad\x1bname"})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "contains a control character" in text(response)
    assert 'role="alert"' in text(response)
    assert not ServiceAccount.objects.exists()
    assert actions(team) == []


def test_create_when_oauth_is_not_enabled(manager_client, team):
    team.oauth_enabled = False
    team.save()

    get = manager_client.get(CREATE)
    post = manager_client.post(CREATE, {})

    assert get.status_code == HTTPStatus.OK
    assert "Tango representative" in text(get)
    assert "Create service account</button>" not in text(get)
    assert post.status_code == HTTPStatus.CONFLICT
    assert "Tango representative" in text(post)
    assert not ServiceAccount.objects.exists()


def test_create_refused_for_view_and_dont_allow(auditor_client, member_client, htmx_headers):
    for client in (auditor_client, member_client):
        for response in (
            client.get(CREATE),
            client.post(CREATE, {}),
            client.post(CREATE, {}, headers=htmx_headers),
        ):
            assert response.status_code == HTTPStatus.FORBIDDEN
            assert "Manage" in text(response)
    assert not ServiceAccount.objects.exists()


def test_create_needs_sign_in(client):
    response = client.post(CREATE, {})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")
    assert not ServiceAccount.objects.exists()


def post_while_history_is_down(user, url: str, data: dict[str, str]):
    """POST as `user`: the portal answers with its 500 page, and because history failed."""
    client = client_for(user)
    client.raise_request_exception = False
    response = client.post(url, data)
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert response.exc_info[0] is HistoryDown
    return response


def test_create_changes_nothing_when_history_fails(manager, team, history_down):
    history_down()

    response = post_while_history_is_down(manager, CREATE, {})

    assert "tng_sbx_sap_" not in text(response)
    assert not ServiceAccount.objects.exists()
    assert not CredentialHistory.objects.exists()


# --- Detail --------------------------------------------------------------------


def test_detail_shows_the_account_and_records_one_view(manager_client, manager, team):
    account = make_account(manager, team, display_name="Order server")
    account.last_token_at = timezone.now()
    account.save(update_fields=["last_token_at"])

    response = manager_client.get(detail_url(account))

    body = text(response)
    assert response.status_code == HTTPStatus.OK
    assert f'<code id="sa-username">{account.username}</code>' in body
    assert 'data-copy-target="#sa-username"' in body
    assert "Order server" in body
    assert "Manny Manager (manager@example.com)" in body
    assert "Last token issued" in body
    assert account.last_token_at.strftime("%b %-d, %Y") in body
    assert "Save display name" in body
    assert f'href="{delete_url(account)}"' in body
    assert actions(team) == [Action.CREATED, Action.VIEWED]
    # Its own history, the new view included.
    assert 'id="sa-history"' in body
    assert body.count("<td>Viewed</td>") == 1
    assert body.count("<td>Created</td>") == 1


def test_detail_history_shows_only_this_account(manager_client, manager, team):
    account = make_account(manager, team, display_name="Mine")
    other = make_account(manager, team, display_name="Someone else")

    body = text(manager_client.get(detail_url(account)))

    assert other.username not in body
    assert "Someone else" not in body


def test_htmx_refresh_of_the_history_panel_records_nothing_more(manager_client, manager, team, htmx_headers):
    account = make_account(manager, team)
    manager_client.get(detail_url(account))

    partial = manager_client.get(detail_url(account), headers=htmx_headers)

    assert partial.status_code == HTTPStatus.OK
    assert "<html" not in text(partial)
    assert 'id="sa-history"' in text(partial)
    assert "<td>Viewed</td>" in text(partial)
    assert actions(team) == [Action.CREATED, Action.VIEWED]


def test_boosted_request_is_a_full_page_view(manager_client, manager, team):
    account = make_account(manager, team)

    response = manager_client.get(detail_url(account), headers={"HX-Request": "true", "HX-Boosted": "true"})

    assert "<html" in text(response)
    assert actions(team) == [Action.CREATED, Action.VIEWED]


def test_view_user_sees_detail_without_controls_and_the_view_is_recorded(auditor_client, manager, team):
    account = make_account(manager, team, display_name="Order server")

    response = auditor_client.get(detail_url(account))

    body = text(response)
    assert response.status_code == HTTPStatus.OK
    assert account.username in body
    assert "Order server" in body
    assert "Save display name" not in body
    assert rename_url(account) not in body
    assert delete_url(account) not in body
    assert "Delete service account" not in body
    row = CredentialHistory.objects.order_by("-id").first()
    assert (row.action, row.actor_email) == (Action.VIEWED, "auditor@example.com")


def test_a_deleted_accounts_pages_say_when_and_by_whom(manager_client, manager, team, htmx_headers):
    account = make_account(manager, team)
    services.service_account_delete(actor=manager, team=team, account=account)

    for response in (
        manager_client.get(detail_url(account)),
        manager_client.get(delete_url(account)),
        manager_client.get(rename_url(account)),
    ):
        assert response.status_code == HTTPStatus.OK
        assert "was deleted on" in text(response)
        assert "by Manny Manager (manager@example.com)" in text(response)
        assert "Save display name" not in text(response)
    # The detail page's history panel still refreshes.
    assert manager_client.get(detail_url(account), headers=htmx_headers).status_code == HTTPStatus.OK
    refused = manager_client.post(rename_url(account), {"display_name": "Back"})
    assert refused.status_code == HTTPStatus.CONFLICT
    assert "was deleted on" in text(refused)
    account.refresh_from_db()
    assert account.display_name == ""
    assert actions(team) == [Action.CREATED, Action.DELETED]


def test_detail_with_no_such_account_is_404(manager_client):
    assert manager_client.get(f"{LIST}999999/").status_code == HTTPStatus.NOT_FOUND


# --- Rename ----------------------------------------------------------------------


def test_rename_saves_records_and_returns_to_detail(manager_client, manager, team):
    account = make_account(manager, team, display_name="Old name")

    response = manager_client.post(rename_url(account), {"display_name": "  New name  "})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == detail_url(account)
    account.refresh_from_db()
    assert account.display_name == "New name"
    row = CredentialHistory.objects.filter(action=Action.UPDATED).get()
    assert row.details == {"old_name": "Old name", "new_name": "New name"}
    followed = manager_client.get(response["Location"])
    assert "Display name saved: “New name”." in text(followed)
    assert "“Old name” → “New name”" in text(followed)


def test_rename_from_the_detail_page_by_htmx_swaps_the_summary(manager_client, manager, team):
    account = make_account(manager, team, display_name="Old name")
    headers = {"HX-Request": "true", "HX-Target": "sa-summary"}

    response = manager_client.post(rename_url(account), {"display_name": "New name"}, headers=headers)

    body = text(response)
    assert response.status_code == HTTPStatus.OK
    assert "<html" not in body
    assert body.lstrip().startswith('<section class="section" id="sa-summary"')
    assert '<dd class="sa-display-name">New name</dd>' in body
    assert "Display name saved." in body
    assert response["HX-Trigger"] == "service-account-changed"
    assert actions(team) == [Action.CREATED, Action.UPDATED]


def test_rename_from_the_password_page_by_htmx_swaps_the_form(manager_client, manager, team):
    account = make_account(manager, team)
    headers = {"HX-Request": "true", "HX-Target": "sa-rename"}

    response = manager_client.post(rename_url(account), {"display_name": "Order server"}, headers=headers)

    body = text(response)
    assert response.status_code == HTTPStatus.OK
    assert body.lstrip().startswith("<form")
    assert 'id="sa-rename"' in body
    assert 'value="Order server"' in body
    assert "Display name saved." in body
    account.refresh_from_db()
    assert account.display_name == "Order server"


def test_rename_get_shows_a_form(manager_client, manager, team, htmx_headers):
    account = make_account(manager, team, display_name="Order server")

    full = manager_client.get(rename_url(account))
    partial = manager_client.get(rename_url(account), headers=htmx_headers)

    assert full.status_code == partial.status_code == HTTPStatus.OK
    assert "<html" in text(full)
    assert "<html" not in text(partial)
    for response in (full, partial):
        assert 'value="Order server"' in text(response)
        assert "Save display name" in text(response)
    assert actions(team) == [Action.CREATED]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("tab\tname", "contains a control character (such as a line break or a tab); remove it"),
        ("x" * 101, "at most 100 characters"),
    ],
)
@pytest.mark.parametrize("hx", [False, True])
def test_rename_refuses_bad_names_clearly(manager_client, manager, team, name, message, hx):
    account = make_account(manager, team, display_name="Keep")
    headers = {"HX-Request": "true", "HX-Target": "sa-summary"} if hx else {}

    response = manager_client.post(rename_url(account), {"display_name": name}, headers=headers)

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert message in text(response)
    assert 'role="alert"' in text(response)
    assert 'aria-invalid="true"' in text(response)
    assert ("<html" in text(response)) is not hx
    account.refresh_from_db()
    assert account.display_name == "Keep"
    assert actions(team) == [Action.CREATED]


def test_rename_shows_markup_as_text(manager_client, manager, team):
    account = make_account(manager, team)

    manager_client.post(rename_url(account), {"display_name": "<script>alert(1)</script>"})

    account.refresh_from_db()
    assert account.display_name == "<script>alert(1)</script>"
    for url in (INDEX, LIST, detail_url(account)):
        body = text(manager_client.get(url))
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_rename_refused_for_view_users(auditor_client, manager, team, htmx_headers):
    account = make_account(manager, team, display_name="Keep")

    for response in (
        auditor_client.get(rename_url(account)),
        auditor_client.post(rename_url(account), {"display_name": "New"}),
        auditor_client.post(rename_url(account), {"display_name": "New"}, headers=htmx_headers),
    ):
        assert response.status_code == HTTPStatus.FORBIDDEN
    account.refresh_from_db()
    assert account.display_name == "Keep"
    assert actions(team) == [Action.CREATED]


def test_rename_changes_nothing_when_history_fails(manager, team, history_down):
    account = make_account(manager, team, display_name="Before")
    history_down()

    post_while_history_is_down(manager, rename_url(account), {"display_name": "After"})

    account.refresh_from_db()
    assert account.display_name == "Before"
    assert CredentialHistory.objects.count() == 1


# --- Delete --------------------------------------------------------------------


def test_delete_get_confirms_and_never_deletes(manager_client, manager, team, htmx_headers):
    account = make_account(manager, team, display_name="Order server")

    full = manager_client.get(delete_url(account))
    partial = manager_client.get(delete_url(account), headers=htmx_headers)

    assert full.status_code == partial.status_code == HTTPStatus.OK
    assert "<html" not in text(partial)
    for response in (full, partial):
        body = text(response)
        assert "cannot be reversed" in body
        assert "The password is only shown at the time of creation" in body
        assert "create a new service account first" in body
        assert "Tokens issued to this service account stop working" in body
        assert 'name="confirm"' in body
        assert 'method="post"' in body
    account.refresh_from_db()
    assert not account.is_deleted
    assert actions(team) == [Action.CREATED]


def test_delete_needs_the_confirmation_box(manager_client, manager, team):
    account = make_account(manager, team)

    response = manager_client.post(delete_url(account), {})

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "Tick the box to confirm" in text(response)
    account.refresh_from_db()
    assert not account.is_deleted
    assert actions(team) == [Action.CREATED]


def test_delete_confirmed_deletes_and_it_disappears(manager_client, manager, team):
    account = make_account(manager, team, display_name="Order server")

    response = manager_client.post(delete_url(account), {"confirm": "on"})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{INDEX}#service-accounts"
    account.refresh_from_db()
    assert account.is_deleted
    assert account.password_hash == ""
    assert actions(team) == [Action.CREATED, Action.DELETED]
    index = text(manager_client.get(INDEX))
    assert f"Service account {account.username} was deleted." in index
    assert f'href="{detail_url(account)}"' not in index
    assert account.username not in text(manager_client.get(LIST))


def test_delete_by_htmx_redirects_the_client(manager_client, manager, team, htmx_headers):
    account = make_account(manager, team)

    response = manager_client.post(delete_url(account), {"confirm": "on"}, headers=htmx_headers)

    assert response["HX-Redirect"] == f"{INDEX}#service-accounts"
    account.refresh_from_db()
    assert account.is_deleted


@pytest.mark.parametrize("hx", [False, True])
def test_deleting_again_says_already_deleted_and_records_nothing(manager_client, manager, team, hx):
    account = make_account(manager, team)
    manager_client.post(delete_url(account), {"confirm": "on"})
    headers = {"HX-Request": "true"} if hx else {}

    response = manager_client.post(delete_url(account), {"confirm": "on"}, headers=headers)

    assert response.status_code == HTTPStatus.CONFLICT
    assert "already deleted" in text(response)
    assert "Nothing changed." in text(response)
    assert actions(team) == [Action.CREATED, Action.DELETED]


def test_delete_refused_for_view_users(auditor_client, manager, team, htmx_headers):
    account = make_account(manager, team)

    for response in (
        auditor_client.get(delete_url(account)),
        auditor_client.post(delete_url(account), {"confirm": "on"}),
        auditor_client.post(delete_url(account), {"confirm": "on"}, headers=htmx_headers),
    ):
        assert response.status_code == HTTPStatus.FORBIDDEN
    account.refresh_from_db()
    assert not account.is_deleted


def test_delete_changes_nothing_when_history_fails(manager, team, history_down):
    account, password = services.service_account_create(actor=manager, team=team)
    history_down()

    post_while_history_is_down(manager, delete_url(account), {"confirm": "on"})

    account.refresh_from_db()
    assert not account.is_deleted
    assert services.service_account_check_password(account, password)
    assert CredentialHistory.objects.count() == 1


def test_no_undelete_anywhere(manager_client, manager, team):
    account = make_account(manager, team)
    manager_client.post(delete_url(account), {"confirm": "on"})

    for body in (section(manager_client.get(INDEX)), text(manager_client.get(LIST))):
        assert "undelete" not in body.lower()
        assert "restore" not in body.lower()
    assert manager_client.post(f"{LIST}{account.pk}/undelete/").status_code == HTTPStatus.NOT_FOUND


# --- Permissions: Don't allow and other teams -------------------------------------


def _every_request(client, account, headers=None):
    headers = headers or {}
    return {
        "list": client.get(LIST, headers=headers),
        "detail": client.get(detail_url(account), headers=headers),
        "rename GET": client.get(rename_url(account), headers=headers),
        "rename POST": client.post(rename_url(account), {"display_name": "x"}, headers=headers),
        "delete GET": client.get(delete_url(account), headers=headers),
        "delete POST": client.post(delete_url(account), {"confirm": "on"}, headers=headers),
        "create GET": client.get(CREATE, headers=headers),
        "create POST": client.post(CREATE, {}, headers=headers),
    }


@pytest.mark.parametrize("hx", [False, True])
def test_dont_allow_gets_the_403_page_everywhere(member_client, admin_user, manager, team, hx):
    account = make_account(manager, team, display_name="Keep")

    responses = _every_request(member_client, account, {"HX-Request": "true"} if hx else None)

    for name, response in responses.items():
        assert response.status_code == HTTPStatus.FORBIDDEN, name
        assert "Ada Admin" in text(response), name
    account.refresh_from_db()
    assert account.display_name == "Keep"
    assert not account.is_deleted
    assert ServiceAccount.objects.count() == 1
    assert actions(team) == [Action.CREATED]


@pytest.mark.parametrize("hx", [False, True])
def test_another_teams_account_is_404_for_every_url(outsider_client, manager, team, hx):
    account = make_account(manager, team, display_name="Keep")
    headers = {"HX-Request": "true"} if hx else None

    responses = _every_request(outsider_client, account, headers)

    for name in ("detail", "rename GET", "rename POST", "delete GET", "delete POST"):
        assert responses[name].status_code == HTTPStatus.NOT_FOUND, name
        assert account.username not in text(responses[name]), name
    assert account.username not in text(responses["list"])
    account.refresh_from_db()
    assert account.display_name == "Keep"
    assert not account.is_deleted
    assert actions(team) == [Action.CREATED]


def test_detail_explains_that_a_lost_token_means_a_new_service_account(manager_client, team, manager):
    from credentials import services

    account, _ = services.service_account_create(actor=manager, team=team)
    body = manager_client.get(f"{LIST}{account.pk}/").content.decode()
    assert "Lost the password or a token?" in body
    assert "Create a new service account" in body
