"""Opening a sign-up link: set a password, join the team, signed in. Bad links change nothing."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.utils import timezone

from tango_portal.members import services as members_services
from tango_portal.models import Membership, SignupInvitation, TeamActivity, User
from tests.factories import MembershipFactory, TeamFactory

pytestmark = pytest.mark.django_db

PASSWORD = "plum-orbit-velvet-93"


@pytest.fixture
def added(team, admin_user) -> members_services.MemberAdded:
    return members_services.member_add(
        actor=admin_user, team=team, email="nora@example.com", full_name="Nora New"
    )


def url(token: str) -> str:
    return f"/accounts/signup/{token}/"


def test_the_link_opens_a_form_to_set_a_password(client, added):
    response = client.get(url(added.signup_token))
    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "Join Acme Rewards" in html
    assert "nora@example.com" in html
    assert 'value="Nora New"' in html
    assert '<label for="id_new_password1">Password</label>' in html
    assert '<label for="id_new_password2">Password again</label>' in html


def test_setting_a_password_joins_signed_in(client, added, team):
    response = client.post(
        url(added.signup_token),
        {"full_name": "Nora Newcomer", "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
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


def test_signing_up_joins_the_inviting_team_even_with_other_teams(client, team, admin_user):
    # The current team after sign-up is the one that sent the link.
    added = members_services.member_add(actor=admin_user, team=team, email="z@example.com", full_name="Zed")
    earlier = TeamFactory(name="Aardvark", slug="aardvark")
    MembershipFactory(team=earlier, user=added.membership.user)
    Membership.objects.filter(team=earlier).update(created_at=timezone.now() - timedelta(days=1))
    # Another team relies on the account now, but the link was made before that: it still works.
    client.post(
        url(added.signup_token), {"full_name": "Zed", "new_password1": PASSWORD, "new_password2": PASSWORD}
    )
    assert client.session["current_team_id"] == team.pk


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
    response = client.post(
        url(added.signup_token), {"full_name": "Nora", "new_password1": password1, "new_password2": password2}
    )
    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert message in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert not User.objects.get(email="nora@example.com").has_usable_password()
    assert SignupInvitation.objects.get(pk=added.invitation.pk).used_at is None
    assert "_auth_user_id" not in client.session


def test_a_used_link_gets_a_clear_page_and_changes_nothing(client, added):
    client.post(
        url(added.signup_token), {"full_name": "Nora", "new_password1": PASSWORD, "new_password2": PASSWORD}
    )
    other = type(client)()
    eve = {"full_name": "Eve", "new_password1": "eve-pass-999-x", "new_password2": "eve-pass-999-x"}
    for response in (other.get(url(added.signup_token)), other.post(url(added.signup_token), eve)):
        assert response.status_code == HTTPStatus.GONE
        assert "already used" in response.content.decode()
    user = User.objects.get(email="nora@example.com")
    assert user.check_password(PASSWORD)
    assert user.full_name == "Nora"
    assert "_auth_user_id" not in other.session


def test_an_expired_link_gets_a_clear_page_and_changes_nothing(client, added):
    SignupInvitation.objects.filter(pk=added.invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    response = client.get(url(added.signup_token))
    assert response.status_code == HTTPStatus.GONE
    assert "This sign-up link has expired" in response.content.decode()
    response = client.post(
        url(added.signup_token), {"full_name": "Nora", "new_password1": PASSWORD, "new_password2": PASSWORD}
    )
    assert response.status_code == HTTPStatus.GONE
    assert not User.objects.get(email="nora@example.com").has_usable_password()
    assert "_auth_user_id" not in client.session


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
    assert "no longer works" in response.content.decode()


def test_the_form_posts_the_token_in_its_body_so_no_log_line_carries_it(client, added, caplog):
    token = added.signup_token
    html = client.get(url(token)).content.decode()
    assert 'action="/accounts/signup/"' in html
    assert f'name="token" value="{token}"' in html
    caplog.set_level("INFO")
    response = client.post(
        "/accounts/signup/",
        {"token": token, "full_name": "Nora", "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert User.objects.get(email="nora@example.com").check_password(PASSWORD)
    assert "signed_in" in caplog.text
    assert token not in caplog.text


def test_the_token_less_address_alone_is_an_unknown_link(client):
    assert client.get("/accounts/signup/").status_code == HTTPStatus.NOT_FOUND
    response = client.post("/accounts/signup/", {"full_name": "X", "new_password1": PASSWORD})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "This sign-up link is not valid" in response.content.decode()
