"""Opening a sign-up link: set a password, join the team, signed in. Bad links change nothing.

The link's token leaves the address at once (as Django's password reset does): the link
redirects to /accounts/signup/set-password/, and the session keeps only the token's digest.
"""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from tango_portal.members import services as members_services
from tango_portal.members.views import INTERNAL_SIGNUP_SESSION_KEY
from tango_portal.models import Membership, SignupInvitation, TeamActivity, User
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "plum-orbit-velvet-93"
FORM = "/accounts/signup/set-password/"


@pytest.fixture
def added(team, admin_user) -> members_services.MemberAdded:
    return members_services.member_add(
        actor=admin_user, team=team, email="nora@example.com", full_name="Nora New"
    )


def url(token: str) -> str:
    return f"/accounts/signup/{token}/"


def open_link(client, token: str):
    """Open a sign-up link as a browser does: the redirect, then the form."""
    return client.get(url(token), follow=True)


def sign_up(client, token: str, name: str = "Nora", password: str = PASSWORD, password2: str | None = None):
    client.get(url(token))
    data = {"full_name": name, "new_password1": password, "new_password2": password2 or password}
    return client.post(FORM, data)


def test_the_link_redirects_to_a_token_less_address_that_opens_the_form(client, added):
    token = added.signup_token
    response = client.get(url(token))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == FORM
    assert token not in response["Location"]
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    # The session keeps the token's digest (as the link model does), not the token.
    assert client.session[INTERNAL_SIGNUP_SESSION_KEY] == added.invitation.token_digest
    assert token not in str(dict(client.session.items()))

    page = client.get(FORM)
    assert page.status_code == HTTPStatus.OK
    assert "no-store" in page["Cache-Control"]
    # Not no-referrer here: browsers would then send `Origin: null` and fail the CSRF check.
    assert page["Referrer-Policy"] == "same-origin"
    html = page.content.decode()
    assert token not in html
    assert "Join Acme Rewards" in html
    assert "nora@example.com" in html
    assert 'value="Nora New"' in html
    assert f'action="{FORM}"' in html
    assert '<label for="id_new_password1">Password</label>' in html
    assert '<label for="id_new_password2">Password again</label>' in html


def test_the_token_never_appears_in_the_final_address_or_any_body(client, added, caplog):
    token = added.signup_token
    caplog.set_level("INFO")
    response = open_link(client, token)
    assert response.redirect_chain == [(FORM, HTTPStatus.FOUND)]
    assert token not in response.content.decode()
    response = client.post(FORM, {"full_name": "Nora", "new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == HTTPStatus.FOUND
    assert token not in response["Location"]
    assert User.objects.get(email="nora@example.com").check_password(PASSWORD)
    assert "signed_in" in caplog.text
    assert token not in caplog.text
    # Done with: the session no longer holds the link.
    assert INTERNAL_SIGNUP_SESSION_KEY not in client.session


def test_the_form_address_without_a_link_in_the_session_is_an_unknown_link(client, added):
    for response in (
        client.get(FORM),
        client.post(FORM, {"full_name": "X", "new_password1": PASSWORD, "new_password2": PASSWORD}),
    ):
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert "This sign-up link is not valid" in response.content.decode()
    assert not User.objects.get(email="nora@example.com").has_usable_password()


def test_setting_a_password_joins_signed_in(client, added, team):
    response = sign_up(client, added.signup_token, name="Nora Newcomer")
    assert response.status_code == HTTPStatus.FOUND
    user = User.objects.get(email="nora@example.com")
    assert user.check_password(PASSWORD)
    assert user.full_name == "Nora Newcomer"
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.session["current_team_id"] == team.pk
    # Signed in, in the team, with the default Don't allow permission.
    page = client.get("/team/api-credentials/", follow=True)
    assert page.status_code == HTTPStatus.FORBIDDEN
    html = page.content.decode()
    assert "Welcome to Acme Rewards" in html
    assert "Your permission is <strong>Don&#x27;t allow</strong>" in html
    assert TeamActivity.objects.filter(team=team, action="invitation_accepted", subject=user).exists()
    # And the password works for signing in later.
    client.logout()
    response = client.post("/accounts/login/", {"username": "nora@example.com", "password": PASSWORD})
    assert response.status_code == HTTPStatus.FOUND
    assert int(client.session["_auth_user_id"]) == user.pk


# --- Security issue 1: one team's link must not take over an account another team relies on ---


@pytest.fixture
def globex_admin():
    return UserFactory(email="gadmin@globex.example", full_name="Gus Globex")


@pytest.fixture
def globex(globex_admin):
    team = TeamFactory(name="Globex", slug="globex")
    Membership.objects.create(team=team, user=globex_admin, role=Membership.Role.ADMIN)
    return team


def test_a_second_teams_add_kills_the_first_teams_link(client, team, admin_user, globex, globex_admin):
    first = members_services.member_add(
        actor=globex_admin, team=globex, email="new.hire@acme-corp.example", full_name="Globex Typed"
    )
    members_services.member_add(
        actor=admin_user, team=team, email="new.hire@acme-corp.example", full_name="Nina Hire"
    )
    # Globex's admin opens the old link: no longer valid, and nothing can be set with it.
    response = client.get(url(first.signup_token))
    assert response.status_code == HTTPStatus.GONE
    assert "This sign-up link is no longer valid" in response.content.decode()
    assert INTERNAL_SIGNUP_SESSION_KEY not in client.session
    assert (
        client.post(FORM, {"full_name": "G", "new_password1": PASSWORD}).status_code == HTTPStatus.NOT_FOUND
    )
    with pytest.raises(members_services.InvitationInvalid):
        members_services.invitation_accept(token=first.signup_token, full_name="G", password=PASSWORD)
    user = User.objects.get(email="new.hire@acme-corp.example")
    assert not user.has_usable_password()
    assert "_auth_user_id" not in client.session
    assert not TeamActivity.objects.filter(action="invitation_accepted").exists()


def test_each_team_can_make_its_own_link_and_only_the_latest_works(team, admin_user, globex, globex_admin):
    globex_added = members_services.member_add(
        actor=globex_admin, team=globex, email="new.hire@acme-corp.example", full_name="Globex Typed"
    )
    acme_added = members_services.member_add(
        actor=admin_user, team=team, email="new.hire@acme-corp.example", full_name="Nina Hire"
    )
    assert acme_added.signup_token
    # Globex makes a link of its own again: Acme's stops working, and only Globex's works.
    _invitation, globex_token = members_services.signup_link_create(
        actor=globex_admin, team=globex, membership=globex_added.membership
    )
    for old in (globex_added.signup_token, acme_added.signup_token):
        with pytest.raises(members_services.InvitationInvalid) as error:
            members_services.invitation_accept(token=old, full_name="X", password=PASSWORD)
        assert error.value.problem == members_services.InvitationProblem.REVOKED
    # And Acme can make one again, which is now the only one that works.
    _invitation, acme_token = members_services.signup_link_create(
        actor=admin_user, team=team, membership=acme_added.membership
    )
    with pytest.raises(members_services.InvitationInvalid):
        members_services.invitation_accept(token=globex_token, full_name="X", password=PASSWORD)
    accepted = members_services.invitation_accept(token=acme_token, full_name="Nina Hire", password=PASSWORD)
    assert accepted.team == team


def test_accepting_joins_the_inviting_team_only(client, team, admin_user, globex, globex_admin):
    # Decided (see members_services.signup_links): a link joins the team that made it and no
    # other, so the holder of whichever link is newest can never walk into the other teams.
    members_services.member_add(
        actor=globex_admin, team=globex, email="new.hire@acme-corp.example", full_name="Globex Typed"
    )
    acme_added = members_services.member_add(
        actor=admin_user, team=team, email="new.hire@acme-corp.example", full_name="Nina Hire"
    )
    response = open_link(client, acme_added.signup_token)
    assert 'value="Nina Hire"' in response.content.decode()
    assert "Globex Typed" not in response.content.decode()
    sign_up(client, acme_added.signup_token, name="Nina Hire")
    user = User.objects.get(email="new.hire@acme-corp.example")
    assert user.check_password(PASSWORD)
    assert client.session["current_team_id"] == team.pk
    assert list(Membership.objects.filter(user=user).values_list("team__name", flat=True)) == ["Acme Rewards"]
    ended = TeamActivity.objects.get(team=globex, action="member_removed", subject=user)
    assert ended.to_value == members_services.ENDED_BY_SIGNUP
    assert ended.actor_id is None


def test_a_team_that_makes_itself_newest_gets_only_its_own_team(team, admin_user, globex, globex_admin):
    # The takeover the fix must stop: Acme has given the person Manage; Globex's admin makes a
    # fresh Globex link after Acme's add and uses it before the person uses Acme's.
    globex_added = members_services.member_add(
        actor=globex_admin, team=globex, email="new.hire@acme-corp.example", full_name="Globex Typed"
    )
    acme_added = members_services.member_add(
        actor=admin_user, team=team, email="new.hire@acme-corp.example", full_name="Nina Hire"
    )
    Membership.objects.filter(pk=acme_added.membership.pk).update(
        api_keys_permission=Membership.ApiKeysPermission.MANAGE
    )
    _invitation, token = members_services.signup_link_create(
        actor=globex_admin, team=globex, membership=globex_added.membership
    )
    members_services.invitation_accept(token=token, full_name="Gus", password=PASSWORD)
    user = User.objects.get(email="new.hire@acme-corp.example")
    assert not Membership.objects.filter(team=team, user=user).exists()
    assert TeamActivity.objects.filter(team=team, action="member_removed", subject=user).exists()


# --- Wrong input and bad links ------------------------------------------------------------


@pytest.mark.parametrize(
    ("password1", "password2", "message"),
    [
        ("short", "short", "too short"),
        ("password123456", "password123456", "too common"),
        ("12345678901234567", "12345678901234567", "entirely numeric"),
        ("nora@example.com", "nora@example.com", "too similar"),
        (PASSWORD, PASSWORD + "x", "do not match"),
    ],
)
def test_weak_or_mismatched_passwords_are_refused(client, added, password1, password2, message):
    response = sign_up(client, added.signup_token, password=password1, password2=password2)
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert message in response.content.decode()
    assert added.signup_token not in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert not User.objects.get(email="nora@example.com").has_usable_password()
    assert SignupInvitation.objects.get(pk=added.invitation.pk).used_at is None
    assert "_auth_user_id" not in client.session


def test_a_used_link_gets_a_clear_page_and_changes_nothing(client, added):
    sign_up(client, added.signup_token)
    other = type(client)()
    response = other.get(url(added.signup_token))
    assert response.status_code == HTTPStatus.GONE
    assert "already used" in response.content.decode()
    response = other.post(FORM, {"full_name": "Eve", "new_password1": "eve-pass-999-x"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    user = User.objects.get(email="nora@example.com")
    assert user.check_password(PASSWORD)
    assert user.full_name == "Nora"
    assert "_auth_user_id" not in other.session


def test_a_link_that_expires_while_the_form_is_open_changes_nothing(client, added):
    assert client.get(url(added.signup_token)).status_code == HTTPStatus.FOUND
    SignupInvitation.objects.filter(pk=added.invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    response = client.post(FORM, {"full_name": "Nora", "new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == HTTPStatus.GONE
    assert "This sign-up link has expired" in response.content.decode()
    assert not User.objects.get(email="nora@example.com").has_usable_password()
    assert "_auth_user_id" not in client.session


def test_an_expired_link_gets_a_clear_page(client, added):
    SignupInvitation.objects.filter(pk=added.invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    response = client.get(url(added.signup_token))
    assert response.status_code == HTTPStatus.GONE
    assert "This sign-up link has expired" in response.content.decode()
    assert response["Referrer-Policy"] == "no-referrer"
    assert INTERNAL_SIGNUP_SESSION_KEY not in client.session


def test_a_link_expires_after_72_hours(client, added):
    invitation = SignupInvitation.objects.get(pk=added.invitation.pk)
    assert invitation.expires_at - invitation.created_at == timedelta(hours=72)


@pytest.mark.parametrize("token", ["tng_sbx_su_madeup", "x", "tng_sbx_su_" + "A" * 43])
def test_an_unknown_link_gets_a_clear_page(client, added, token):
    response = client.get(url(token))
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "This sign-up link is not valid" in response.content.decode()
    response = client.post(
        url(token), {"full_name": "X", "new_password1": PASSWORD, "new_password2": PASSWORD}
    )
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not User.objects.get(email="nora@example.com").has_usable_password()


def test_a_link_of_a_removed_member_no_longer_works(client, added, team, admin_user):
    members_services.member_remove(actor=admin_user, team=team, membership=added.membership)
    response = client.get(url(added.signup_token))
    assert response.status_code == HTTPStatus.GONE
    assert "no longer valid" in response.content.decode()


def test_the_link_of_someone_with_an_account_says_sign_in(client, team, admin_user, outsider):
    added = members_services.member_add(
        actor=admin_user, team=team, email=outsider.email, full_name="Whoever"
    )
    response = client.get(url(added.signup_token))
    assert response.status_code == HTTPStatus.GONE
    assert "You already have a Tango Portal account" in response.content.decode()
    with pytest.raises(members_services.InvitationInvalid):
        members_services.invitation_accept(token=added.signup_token, full_name="Eve", password=PASSWORD)
    outsider.refresh_from_db()
    assert outsider.full_name == "Gloria Globex"
    assert not outsider.check_password(PASSWORD)


def test_the_token_less_address_alone_is_an_unknown_link(client):
    assert client.get("/accounts/signup/").status_code == HTTPStatus.NOT_FOUND
    response = client.post("/accounts/signup/", {"full_name": "X", "new_password1": PASSWORD})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "This sign-up link is not valid" in response.content.decode()
