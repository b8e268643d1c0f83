"""Team settings > Users: the pages, for admins only, plain and htmx."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest

from credentials import services as credential_services
from tango_portal.members import activity
from tango_portal.members import services as members_services
from tango_portal.models import Membership, SignupInvitation, TeamActivity, User
from tests.conftest import change_member, client_for, is_fragment, membership_of
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role
Perm = Membership.ApiKeysPermission
LIST = "/team/users/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def admin_client(admin_user):
    return client_for(admin_user)


# --- who may see the page ---------------------------------------------------------------


def test_admin_sees_members_with_role_and_permission(admin_client, member, auditor, manager):
    response = admin_client.get(LIST)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    for name, email in [
        ("Ada Admin", "admin@example.com"),
        ("Mel Member", "member@example.com"),
        ("Audrey Auditor", "auditor@example.com"),
        ("Manny Manager", "manager@example.com"),
    ]:
        assert name in html and email in html
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Mel Member(?:(?!</tr>).)*</tr>", html, re.S).group(0)
    assert "Member" in row and "Don&#x27;t allow" in row
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*Audrey Auditor(?:(?!</tr>).)*</tr>", html, re.S).group(0)
    assert ">View<" in row
    assert "Team activity" in html
    assert 'href="/team/users/add/"' in html


def test_members_of_other_teams_are_not_listed(admin_client, outsider):
    html = admin_client.get(LIST).content.decode()
    assert "globex-admin@example.com" not in html


@pytest.mark.parametrize("who", ["manager", "auditor", "member"])
def test_non_admins_get_the_403_page_naming_the_admins(request, who, admin_user, htmx_headers):
    client = client_for(request.getfixturevalue(who))
    for headers in ({}, htmx_headers):
        response = client.get(LIST, headers=headers)
        assert response.status_code == HTTPStatus.FORBIDDEN
        html = response.content.decode()
        assert "Only team admins can manage users" in html
        assert "admin@example.com" in html


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(LIST)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/accounts/login/")


def test_users_link_shows_for_admins_only(admin_client, manager_client):
    assert 'href="/team/users/"' in admin_client.get("/team/api-credentials/").content.decode()
    assert 'href="/team/users/"' not in manager_client.get("/team/api-credentials/").content.decode()


def test_activity_is_newest_first_and_paginated(admin_client, team, admin_user, member):
    target = membership_of(member, team)
    perms = [Perm.VIEW, Perm.NONE]
    for i in range(30):
        members_services.member_change(
            actor=admin_user, team=team, membership=target, role=Role.MEMBER, api_keys_permission=perms[i % 2]
        )
    html = admin_client.get(LIST).content.decode()
    table = html[html.index('id="team-activity-table"') :]
    assert table.count("Tango API keys permission changed") == 25
    newest = TeamActivity.objects.filter(team=team).order_by("-id").first()
    assert newest.to_value == "none"
    # The newest row (to Don't allow) comes before the one before it (to View).
    first_row = table[table.index("<tbody") : table.index("</tr>", table.index("<tbody"))]
    assert "Don&#x27;t allow</td>" in first_row.replace("\n", "")
    page2 = admin_client.get(LIST + "?page=2", **HTMX)
    assert page2.status_code == HTTPStatus.OK
    assert is_fragment(page2)
    assert 'id="team-activity"' in page2.content.decode()
    assert page2.content.decode().count("Tango API keys permission changed") == 5
    plain2 = admin_client.get(LIST + "?page=2")
    assert "<html" in plain2.content.decode()
    assert plain2.content.decode().count("Tango API keys permission changed") == 5


def test_empty_activity_explains_itself(admin_client):
    assert "No changes yet" in admin_client.get(LIST).content.decode()


# --- changing role and permission -----------------------------------------------------------


def test_edit_form_save_button_is_rendered_enabled_and_marked_for_dirty_tracking(admin_client, team, member):
    url = f"/team/users/{membership_of(member, team).pk}/"
    for headers in ({}, HTMX):
        response = admin_client.get(url, **headers)
        assert response.status_code == HTTPStatus.OK
        html = response.content.decode()
        assert "data-dirty-submit" in html
        button = re.search(r"<button[^>]*data-dirty-submit-button[^>]*>", html).group(0)
        assert "disabled" not in button
        assert '<label for="id_api_keys_permission">Tango API keys</label>' in html
        assert re.search(r'<option value="none" selected>Don&#x27;t allow</option>', html)
    assert is_fragment(admin_client.get(url, **HTMX))
    assert "js/members.js" in admin_client.get(url).content.decode()


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_saving_asks_for_confirmation_naming_the_change_then_changes(admin_client, team, member, headers):
    target = membership_of(member, team)
    url = f"/team/users/{target.pk}/"
    response = admin_client.post(url, {"role": "member", "api_keys_permission": "view"}, **headers)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "Change Mel Member&#x27;s Tango API keys permission from Don&#x27;t allow to View" in html
    assert 'name="confirm" value="yes"' in html
    assert membership_of(member, team).api_keys_permission == Perm.NONE
    assert not TeamActivity.objects.filter(team=team).exists()

    response = admin_client.post(
        url, {"role": "member", "api_keys_permission": "view", "confirm": "yes"}, **headers
    )
    if headers:
        assert response.status_code == HTTPStatus.OK
        assert response["HX-Redirect"] == LIST
    else:
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == LIST
    assert membership_of(member, team).api_keys_permission == Perm.VIEW
    row = TeamActivity.objects.get(team=team)
    assert (row.action, row.from_value, row.to_value) == ("permission_changed", "none", "view")
    page = admin_client.get(LIST).content.decode()
    assert "Saved." in page
    assert "Tango API keys permission changed" in page


def test_confirming_a_role_change_names_it(admin_client, team, member):
    url = f"/team/users/{membership_of(member, team).pk}/"
    html = admin_client.post(url, {"role": "admin", "api_keys_permission": "manage"}).content.decode()
    assert "Change Mel Member&#x27;s role from Member to Admin" in html
    assert "Change Mel Member&#x27;s Tango API keys permission from Don&#x27;t allow to Manage" in html


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_saving_nothing_changed_says_so(admin_client, team, member, headers):
    url = f"/team/users/{membership_of(member, team).pk}/"
    response = admin_client.post(url, {"role": "member", "api_keys_permission": "none"}, **headers)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "Nothing to save" in response.content.decode()
    assert not TeamActivity.objects.filter(team=team).exists()


def test_invalid_choice_is_a_clear_422(admin_client, team, member):
    url = f"/team/users/{membership_of(member, team).pk}/"
    response = admin_client.post(url, {"role": "owner", "api_keys_permission": "view", "confirm": "yes"})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "Select a valid choice" in response.content.decode()
    assert membership_of(member, team).role == Role.MEMBER


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_last_admin_demoting_themselves_gets_a_clear_message(admin_client, team, admin_user, headers):
    url = f"/team/users/{membership_of(admin_user, team).pk}/"
    response = admin_client.post(
        url, {"role": "member", "api_keys_permission": "manage", "confirm": "yes"}, **headers
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert "You are the only admin of Acme Rewards" in response.content.decode()
    assert membership_of(admin_user, team).role == Role.ADMIN


def test_another_teams_membership_is_404(admin_client, outsider, other_team):
    pk = membership_of(outsider, other_team).pk
    assert admin_client.get(f"/team/users/{pk}/").status_code == HTTPStatus.NOT_FOUND
    response = admin_client.post(
        f"/team/users/{pk}/", {"role": "member", "api_keys_permission": "none", "confirm": "yes"}
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert admin_client.post(f"/team/users/{pk}/remove/").status_code == HTTPStatus.NOT_FOUND
    assert membership_of(outsider, other_team).role == Role.ADMIN


def test_non_admins_are_refused_by_the_server(manager_client, team, member, manager):
    target = membership_of(member, team)
    own = membership_of(manager, team)
    for url, data in [
        (f"/team/users/{target.pk}/", {"role": "admin", "api_keys_permission": "manage", "confirm": "yes"}),
        (f"/team/users/{own.pk}/", {"role": "admin", "api_keys_permission": "manage", "confirm": "yes"}),
        (f"/team/users/{target.pk}/remove/", {}),
        ("/team/users/add/", {"email": "x@example.com", "full_name": "X"}),
    ]:
        assert manager_client.post(url, data).status_code == HTTPStatus.FORBIDDEN
    assert membership_of(member, team).role == Role.MEMBER
    assert membership_of(manager, team).role == Role.MEMBER
    assert not User.objects.filter(email="x@example.com").exists()


# --- adding a member -------------------------------------------------------------------


def test_add_form_renders_plain_and_htmx(admin_client):
    for headers in ({}, HTMX):
        response = admin_client.get("/team/users/add/", **headers)
        assert response.status_code == HTTPStatus.OK
        html = response.content.decode()
        assert '<label for="id_email">Email address</label>' in html
        assert '<label for="id_full_name">Name</label>' in html
    assert is_fragment(admin_client.get("/team/users/add/", **HTMX))


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_adding_a_new_person_shows_their_link_once(admin_client, client, team, headers):
    response = admin_client.post(
        "/team/users/add/", {"email": "nora@example.com", "full_name": "Nora New"}, **headers
    )
    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    match = re.search(r"http://testserver/accounts/signup/(tng_sbx_su_[A-Za-z0-9_-]+)/", html)
    assert match, html
    token = match.group(1)
    assert "This link is shown only now" in html
    assert "72 hours" in html
    assert SignupInvitation.objects.get(user__email="nora@example.com").token_digest != token
    # The link is not shown anywhere else afterwards.
    assert token not in admin_client.get(LIST).content.decode()
    user = User.objects.get(email="nora@example.com")
    assert membership_of(user, team).api_keys_permission == Perm.NONE
    # And it works.
    assert client.get(f"/accounts/signup/{token}/", follow=True).status_code == HTTPStatus.OK


def _answer_shape(html: str, email: str) -> str:
    """The add answer with what differs by design (the address, the link, its expiry) blanked."""
    html = html.replace(email, "EMAIL")
    html = re.sub(r"tng_sbx_su_[A-Za-z0-9_-]+", "TOKEN", html)
    html = re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "WHEN", html)
    # What every response has of its own: the script nonce and the CSRF token.
    html = re.sub(r'nonce="[^"]*"', 'nonce="X"', html)
    html = re.sub(r"\b[A-Za-z0-9]{64}\b", "CSRF", html)
    return re.sub(r"/team/users/\d+/", "/team/users/PK/", html)


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_adding_an_address_reads_the_same_whether_or_not_it_has_an_account(
    admin_client, team, outsider, headers
):
    existing = admin_client.post(
        "/team/users/add/", {"email": outsider.email, "full_name": "Typed Name"}, **headers
    )
    new = admin_client.post(
        "/team/users/add/", {"email": "nobody.yet@example.com", "full_name": "Typed Name"}, **headers
    )
    assert existing.status_code == new.status_code == HTTPStatus.OK
    assert existing["Cache-Control"] == new["Cache-Control"]
    existing_html = existing.content.decode()
    assert "Gloria Globex" not in existing_html
    assert "already has" not in existing_html
    assert "Sign-up link for Typed Name" in existing_html
    assert _answer_shape(existing_html, outsider.email) == _answer_shape(
        new.content.decode(), "nobody.yet@example.com"
    )
    assert membership_of(outsider, team).role == Role.MEMBER


def test_adding_an_unused_address_never_shows_the_name_another_team_typed(
    admin_client, team, other_team, outsider
):
    members_services.member_add(
        actor=outsider, team=other_team, email="new.hire@acme-corp.example", full_name="Globex Typed"
    )
    response = admin_client.post(
        "/team/users/add/", {"email": "new.hire@acme-corp.example", "full_name": "Nina Hire"}
    )
    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "Globex Typed" not in html
    assert "Sign-up link for Nina Hire" in html
    listing = admin_client.get(LIST).content.decode()
    assert "Globex Typed" not in listing
    assert "Nina Hire" in listing


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_adding_an_existing_member_again_gets_a_clear_message(admin_client, team, member, headers):
    response = admin_client.post(
        "/team/users/add/", {"email": "Member@Example.com", "full_name": "Mel"}, **headers
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert "is already a member of Acme Rewards" in response.content.decode()
    assert Membership.objects.filter(team=team, user=member).count() == 1
    assert not TeamActivity.objects.filter(team=team).exists()


def test_adding_with_a_bad_email_is_a_422_and_changes_nothing(admin_client, team):
    before = User.objects.count()
    response = admin_client.post("/team/users/add/", {"email": "nobody-at-example", "full_name": "N"})
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert "valid email" in response.content.decode()
    assert User.objects.count() == before


def test_pending_member_shows_invited_and_gets_a_new_link(admin_client, team, admin_user):
    added = members_services.member_add(actor=admin_user, team=team, email="n@example.com", full_name="Nora")
    html = admin_client.get(LIST).content.decode()
    assert "Invited" in html
    assert f"/team/users/{added.membership.pk}/signup-link/" in html
    response = admin_client.post(f"/team/users/{added.membership.pk}/signup-link/", **HTMX)
    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    assert is_fragment(response)
    token = re.search(r"/accounts/signup/(tng_sbx_su_[A-Za-z0-9_-]+)/", response.content.decode()).group(1)
    assert token != added.signup_token
    assert admin_client.get(f"/accounts/signup/{added.signup_token}/").status_code == HTTPStatus.GONE


def test_no_new_link_for_an_active_member(admin_client, team, member):
    response = admin_client.post(f"/team/users/{membership_of(member, team).pk}/signup-link/", follow=True)
    assert "already has an account" in response.content.decode()
    assert not SignupInvitation.objects.filter(user=member).exists()


# --- removing a member ------------------------------------------------------------------


def test_remove_confirmation_lists_what_they_created_with_links(admin_client, team, manager, member):
    account, _ = credential_services.service_account_create(
        actor=manager, team=team, display_name="Order server"
    )
    client_cred, _ = credential_services.oauth_client_create(
        actor=manager, team=team, display_name="Main client"
    )
    _key, _ = credential_services.api_key_create(actor=manager, team=team, platform_name="Old shop")
    gone, _ = credential_services.service_account_create(actor=manager, team=team, display_name="Gone one")
    credential_services.service_account_delete(actor=manager, team=team, account=gone)
    others, _ = credential_services.service_account_create(actor=member_admin(team), team=team)
    url = f"/team/users/{membership_of(manager, team).pk}/remove/"
    for headers in ({}, HTMX):
        response = admin_client.get(url, **headers)
        assert response.status_code == HTTPStatus.OK
        html = response.content.decode()
        assert "Remove Manny Manager from Acme Rewards?" in html
        assert f'href="/team/api-credentials/service-accounts/{account.pk}/"' in html
        assert "Order server" in html
        assert f'href="/team/api-credentials/clients/{client_cred.pk}/"' in html
        assert "Main client" in html
        assert 'href="/team/api-credentials/#api-keys"' in html
        assert "Old shop" in html
        assert "Gone one" not in html
        assert others.username not in html
    assert is_fragment(admin_client.get(url, **HTMX))
    assert Membership.objects.filter(team=team, user=manager).exists()


def member_admin(team):
    return MembershipFactory(team=team, role=Role.ADMIN, api_keys_permission=Perm.MANAGE).user


def test_remove_confirmation_without_credentials_says_none(admin_client, team, member):
    html = admin_client.get(f"/team/users/{membership_of(member, team).pk}/remove/").content.decode()
    assert "no active service accounts, client credentials or API keys" in html


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_removing_cuts_the_members_open_session_at_once(admin_client, team, manager, manager_client, headers):
    assert manager_client.get("/team/api-credentials/").status_code == HTTPStatus.OK
    response = admin_client.post(f"/team/users/{membership_of(manager, team).pk}/remove/", **headers)
    if headers:
        assert response["HX-Redirect"] == LIST
    else:
        assert response.status_code == HTTPStatus.FOUND
    assert not Membership.objects.filter(team=team, user=manager).exists()
    # The same signed-in client, no sign-out: the team is gone from its next request.
    response = manager_client.get("/team/api-credentials/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "not a member of any team" in response.content.decode()
    assert manager_client.get("/team/api-credentials/history/").status_code == HTTPStatus.FORBIDDEN
    assert "Manny Manager was removed" in admin_client.get(LIST).content.decode()
    assert TeamActivity.objects.get(team=team).action == "member_removed"


def test_the_last_admin_removing_themselves_gets_a_clear_message(admin_client, team, admin_user):
    response = admin_client.post(f"/team/users/{membership_of(admin_user, team).pk}/remove/")
    assert response.status_code == HTTPStatus.CONFLICT
    assert "You are the only admin of Acme Rewards" in response.content.decode()
    assert Membership.objects.filter(team=team, user=admin_user).exists()


def test_an_admin_may_leave_when_another_admin_remains(admin_client, team, admin_user):
    member_admin(team)
    response = admin_client.post(f"/team/users/{membership_of(admin_user, team).pk}/remove/")
    assert response.status_code == HTTPStatus.FOUND
    assert not Membership.objects.filter(team=team, user=admin_user).exists()
    assert admin_client.get(LIST).status_code == HTTPStatus.FORBIDDEN


def test_history_chain_holds_after_a_mix_of_page_actions(admin_client, team, member):
    pk = membership_of(member, team).pk
    admin_client.post(
        f"/team/users/{pk}/", {"role": "admin", "api_keys_permission": "view", "confirm": "yes"}
    )
    admin_client.post("/team/users/add/", {"email": "n@example.com", "full_name": "Nora"})
    admin_client.post(f"/team/users/{pk}/remove/")
    assert TeamActivity.objects.filter(team=team).count() == 5
    assert activity.verify(team)


def test_an_admin_demoted_while_the_page_is_open_gets_a_full_reload(team, admin_user, member):
    second = member_admin(team)
    client = client_for(second)
    change_member(admin_user, team, second, role=Role.MEMBER, permission=Perm.NONE)
    response = client.get(f"/team/users/{membership_of(member, team).pk}/", **HTMX)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response["HX-Refresh"] == "true"
    assert "HX-Refresh" not in client.get(LIST)


def test_an_admin_stepping_down_is_sent_to_the_portal_not_a_403(admin_client, team, admin_user):
    member_admin(team)
    url = f"/team/users/{membership_of(admin_user, team).pk}/"
    response = admin_client.post(url, {"role": "member", "api_keys_permission": "manage", "confirm": "yes"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/"
    assert membership_of(admin_user, team).role == Role.MEMBER
    assert admin_client.get("/team/api-credentials/").status_code == HTTPStatus.OK


def test_an_unused_account_of_another_team_gets_a_link_button_and_this_teams_name(
    admin_client, team, admin_user, other_team, outsider
):
    members_services.member_add(
        actor=outsider, team=other_team, email="pat@example.com", full_name="Pat Pending"
    )
    added = members_services.member_add(actor=admin_user, team=team, email="pat@example.com", full_name="Pat")
    html = admin_client.get(LIST).content.decode()
    assert "Pat Pending" not in html
    assert 'aria-label="New sign-up link for Pat"' in html
    assert f"/team/users/{added.membership.pk}/signup-link/" in html


# --- a member removed meanwhile (another tab, another admin) --------------------------------


@pytest.fixture
def removed(admin_user, team, member):
    """The member's old id, after another admin removed them."""
    pk = membership_of(member, team).pk
    members_services.member_remove(actor=admin_user, team=team, membership=membership_of(member, team))
    return pk


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/team/users/{pk}/", {}),
        ("post", "/team/users/{pk}/", {"role": "member", "api_keys_permission": "view"}),
        ("post", "/team/users/{pk}/", {"role": "member", "api_keys_permission": "view", "confirm": "yes"}),
        ("get", "/team/users/{pk}/remove/", {}),
        ("post", "/team/users/{pk}/remove/", {}),
        ("post", "/team/users/{pk}/signup-link/", {}),
    ],
)
def test_htmx_steps_on_a_removed_member_load_the_list_saying_so(
    admin_client, team, removed, method, path, data
):
    url = path.format(pk=removed)
    response = getattr(admin_client, method)(url, data, **HTMX)
    # Still a 404, as for another team's member, but one htmx acts on: it loads the list,
    # rather than django-htmx's debug handler painting a 404 page over the panel.
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["HX-Redirect"] == LIST
    html = admin_client.get(LIST).content.decode()
    assert "That member is no longer in Acme Rewards" in html
    assert "Nothing was changed." in html
    assert "Edit Mel Member" not in html
    # A plain request gets the 404 page, as before.
    plain = getattr(admin_client, method)(url, data)
    assert plain.status_code == HTTPStatus.NOT_FOUND
    assert "HX-Redirect" not in plain
