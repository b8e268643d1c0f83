"""Every URL that changes something asks for the password after the sudo window, or says why not.

The URL list comes from the resolver, so a new view is covered the day it is added: a stale
session (signed in longer ago than the sudo window) posts to every pattern, as a plain form
and from htmx, as an admin who may do everything. Each must refuse the method (405), or
answer with the password prompt and change nothing, or be declared exempt on the view with
`@sudo_exempt("why")`.
"""

from __future__ import annotations

import time
from http import HTTPStatus

import pytest

from credentials import services
from credentials.models import ApiKey, CredentialHistory, OAuthClient, PendingReveal, ServiceAccount
from tango_portal.accounts.sudo import SUDO_ATTRIBUTE
from tango_portal.models import Membership, SignupInvitation, TeamActivity
from tests.conftest import client_for
from tests.routes import fill, url_patterns
from tests.test_team_isolation import POST_DATA

pytestmark = pytest.mark.django_db


def _counts() -> dict[str, object]:
    return {
        "accounts": list(ServiceAccount.objects.order_by("id").values()),
        "clients": list(OAuthClient.objects.order_by("id").values()),
        "keys": list(ApiKey.objects.order_by("id").values()),
        "memberships": list(Membership.objects.order_by("id").values()),
        "invitations": SignupInvitation.objects.count(),
        "reveals": PendingReveal.objects.count(),
        "history": CredentialHistory.objects.count(),
        "activity": TeamActivity.objects.count(),
    }


@pytest.fixture
def stale_admin(team, admin_user, member):
    """An admin of a team with one of everything, whose sign-in is 16 minutes old."""
    services.service_account_create(actor=admin_user, team=team, display_name="Order server")
    services.oauth_client_create(actor=admin_user, team=team, display_name="Shop")
    services.api_key_create(actor=admin_user, team=team, platform_name="Shop")
    client = client_for(admin_user)
    session = client.session
    session["sudo_at"] = int(time.time()) - 16 * 60
    session.save()
    return client


def _identifier(route: str) -> object:
    """A real object of the team for every kind of route, so an uncovered view would act."""
    for prefix, model in (
        ("team/api-credentials/service-accounts/", ServiceAccount),
        ("team/api-credentials/clients/", OAuthClient),
        ("team/api-credentials/api-keys/", ApiKey),
        ("team/users/", Membership),
    ):
        if route.startswith(prefix):
            return model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return 1


def _asks_for_password(response) -> bool:
    if response.headers.get("HX-Redirect", "").startswith("/accounts/sudo/"):
        return True
    return response.status_code == HTTPStatus.OK and "registration/sudo.html" in [
        template.name for template in response.templates
    ]


def test_every_state_changing_url_asks_for_the_password_or_is_exempt(stale_admin):
    before = _counts()
    asked, exempt = [], []
    for route, pattern in url_patterns():
        declared = getattr(pattern.callback, SUDO_ATTRIBUTE, "")
        if declared.startswith("exempt: "):
            assert len(declared) > len("exempt: ") + 10, (route, "say why it is exempt")
            exempt.append(route)
            continue
        url = fill(route, _identifier(route))
        for headers in ({}, {"HX-Request": "true"}):
            response = stale_admin.post(url, POST_DATA, headers=headers)
            if response.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
                assert declared != "required", (route, "declared but accepts no POST")
                continue
            assert _asks_for_password(response), (route, headers, response.status_code)
            assert declared == "required", route
            asked.append(route)
    assert _counts() == before
    # The walk really reached the views that mint secrets and change access.
    assert {
        "team/api-credentials/service-accounts/create/",
        "team/api-credentials/service-accounts/<int:pk>/delete/",
        "team/api-credentials/clients/generate/",
        "team/api-credentials/clients/<int:pk>/deactivate/",
        "team/api-credentials/api-keys/generate/",
        "team/api-credentials/api-keys/<int:pk>/deactivate/",
        "team/users/add/",
        "team/users/<int:pk>/",
        "team/users/<int:pk>/remove/",
        "team/users/<int:pk>/signup-link/",
    } <= set(asked)
    assert {"oauth/token", "accounts/login/", "team/switch/"} <= set(exempt)


@pytest.mark.parametrize(
    "url",
    [
        "/team/api-credentials/service-accounts/create/",
        "/team/api-credentials/clients/generate/",
        "/team/api-credentials/api-keys/generate/",
    ],
)
def test_a_stale_session_mints_after_the_password_and_not_before(stale_admin, url, user_password):
    fields = {"display_name": "Order server 2", "platform_name": "Shop 2"}
    before = _counts()
    prompt = stale_admin.post(url, fields)
    assert _asks_for_password(prompt)
    assert _counts() == before
    done = stale_admin.post(url, {**fields, "sudo_password": user_password})
    assert done.status_code == HTTPStatus.SEE_OTHER
    assert "/reveal/" in done["Location"]
    assert PendingReveal.objects.count() == 1


def test_a_stale_session_makes_no_sign_up_link_before_the_password(stale_admin, team, user_password):
    pending = Membership.objects.get(team=team, user__email="member@example.com")
    pending.user.set_unusable_password()
    pending.user.save()
    url = f"/team/users/{pending.pk}/signup-link/"
    assert _asks_for_password(stale_admin.post(url))
    assert not SignupInvitation.objects.filter(user=pending.user).exists()
    done = stale_admin.post(url, {"sudo_password": user_password})
    assert done.status_code == HTTPStatus.OK
    assert SignupInvitation.objects.filter(user=pending.user).count() == 1
