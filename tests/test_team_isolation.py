"""No team sees another's data: every URL of the project, as a member of another team.

The URL list comes from the resolver, so a new URL is covered the day it is added. Each
pattern that takes an object identifier is called with the real identifiers of the first
team's objects (every kind, since a view may confuse kinds), by GET, htmx GET and POST.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest

from credentials import services
from credentials.models import ApiKey, CredentialHistory, CredentialType, OAuthClient, ServiceAccount
from tango_portal.models import Membership, TeamActivity
from tests.conftest import record_history
from tests.routes import PARAM, fill, url_patterns

pytestmark = pytest.mark.django_db

POST_DATA = {
    "confirm": "on",
    "confirmed": "1",
    "display_name": "taken over",
    "platform_name": "taken over",
    "role": "admin",
    "api_keys_permission": "manage",
    "email": "intruder@example.com",
    "full_name": "Intruder",
    "hidden": ["action"],
}


def snapshot() -> dict[str, object]:
    return {
        "accounts": list(ServiceAccount.objects.order_by("id").values()),
        "clients": list(OAuthClient.objects.order_by("id").values()),
        "keys": list(ApiKey.objects.order_by("id").values()),
        "memberships": list(Membership.objects.order_by("id").values()),
        "history": CredentialHistory.objects.count(),
        "activity": TeamActivity.objects.count(),
    }


@pytest.fixture
def first_team(team, admin_user, member, outsider):
    account, _ = services.service_account_create(
        actor=admin_user, team=team, display_name="Acme secret project"
    )
    client, _ = services.oauth_client_create(actor=admin_user, team=team, display_name="Acme client")
    key, _ = services.api_key_create(actor=admin_user, team=team, platform_name="Acme shop")
    record_history(
        team,
        actor=admin_user,
        action=CredentialHistory.Action.VIEWED,
        credential_type=CredentialType.API_KEY,
        credential_name=key.platform_name,
        credential_identifier=key.prefix,
    )
    ids = {
        account.pk,
        client.pk,
        key.pk,
        *Membership.objects.filter(team=team).values_list("pk", flat=True),
        *CredentialHistory.objects.filter(team=team).values_list("pk", flat=True),
        *TeamActivity.objects.filter(team=team).values_list("pk", flat=True),
    }
    # An identifier that is also one of the other team's own objects (of any kind) could
    # rightly answer 200 there; leave those out.
    theirs = {
        *Membership.objects.exclude(team=team).values_list("pk", flat=True),
        *CredentialHistory.objects.exclude(team=team).values_list("pk", flat=True),
        *TeamActivity.objects.exclude(team=team).values_list("pk", flat=True),
    }
    ids -= theirs
    markers = [account.username, account.display_name, client.client_id, key.prefix, member.email]
    return {"ids": sorted(ids), "markers": markers}


def test_every_url_refuses_another_teams_objects(first_team, outsider_client, other_team):
    # The outsider's own team has no credentials, so no identifier can be theirs too.
    assert not ServiceAccount.objects.filter(team=other_team).exists()
    before = snapshot()
    checked = 0
    for route, _ in url_patterns():
        if not PARAM.search(route):
            continue
        for identifier in first_team["ids"]:
            url = fill(route, identifier)
            answers = {
                "GET": outsider_client.get(url).status_code,
                "htmx GET": outsider_client.get(url, headers={"HX-Request": "true"}).status_code,
                "POST": outsider_client.post(url, POST_DATA).status_code,
            }
            refused = {HTTPStatus.NOT_FOUND, HTTPStatus.FORBIDDEN, HTTPStatus.GONE}
            assert all(code in refused | {HTTPStatus.METHOD_NOT_ALLOWED} for code in answers.values()), (
                url,
                answers,
            )
            assert any(code in refused for code in answers.values()), (url, answers)
            checked += 1
    assert checked >= 10 * len(first_team["ids"])
    assert snapshot() == before


def test_urls_without_identifiers_show_nothing_of_another_team(first_team, outsider_client):
    shown = []
    for route, _ in url_patterns():
        if PARAM.search(route):
            continue
        response = outsider_client.get("/" + route)
        assert response.status_code < HTTPStatus.INTERNAL_SERVER_ERROR, route
        if response.status_code == HTTPStatus.OK and not response.streaming:
            body = response.content.decode(errors="replace")
            for marker in first_team["markers"]:
                assert marker not in body, (route, marker)
            shown.append(route)
    # The outsider manages their own team, so its pages open: the check above really ran.
    assert {"team/api-credentials/", "team/api-credentials/history/", "team/users/"} <= set(shown), shown


def test_history_parameters_cannot_reach_another_team(first_team, outsider_client, team):
    crafted = f"?team={team.pk}&team_id={team.pk}&q={first_team['markers'][1]}&credential_type=api_key"
    for suffix in ("", "&_export=csv", "&_export=json"):
        response = outsider_client.get("/team/api-credentials/history/" + crafted + suffix)
        assert response.status_code == HTTPStatus.OK, suffix
        body = b"".join(response.streaming_content) if response.streaming else response.content
        for marker in first_team["markers"]:
            assert marker.encode() not in body
