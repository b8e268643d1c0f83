"""The two-active limit under concurrent requests, on PostgreSQL with real threads."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from credentials import services
from credentials.models import ApiKey, OAuthClient
from tests.concurrency import run_concurrently
from tests.conftest import client_for
from tests.factories import MembershipFactory, TeamFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_two_concurrent_generations_leave_at_most_two_active():
    team = TeamFactory(oauth_enabled=True)
    users = [MembershipFactory(team=team).user for _ in range(2)]
    services.oauth_client_create(actor=users[0], team=team)

    results = run_concurrently([lambda u=u: services.oauth_client_create(actor=u, team=team) for u in users])

    assert OAuthClient.objects.active().filter(team=team).count() == 2
    refused = [r for r in results if isinstance(r, services.LimitReached)]
    created = [r for r in results if isinstance(r, tuple)]
    assert (len(created), len(refused)) == (1, 1), results


def test_two_concurrent_generate_requests_through_the_view():
    team = TeamFactory(oauth_enabled=True)
    users = [MembershipFactory(team=team).user for _ in range(2)]
    services.oauth_client_create(actor=users[0], team=team)
    clients = [client_for(user) for user in users]

    results = run_concurrently(
        [lambda c=c: c.post("/team/api-credentials/clients/generate/").status_code for c in clients]
    )

    # The one that generates redirects to its one-time reveal page; the other is refused.
    assert sorted(results) == [HTTPStatus.SEE_OTHER, HTTPStatus.CONFLICT]
    assert OAuthClient.objects.active().filter(team=team).count() == 2


def test_two_concurrent_api_key_generations_leave_at_most_two_active():
    team = TeamFactory()
    users = [MembershipFactory(team=team).user for _ in range(2)]
    services.api_key_create(actor=users[0], team=team, platform_name="First")

    results = run_concurrently(
        [lambda u=u: services.api_key_create(actor=u, team=team, platform_name="Racer") for u in users]
    )

    assert ApiKey.objects.active().filter(team=team).count() == 2
    assert sum(isinstance(r, services.LimitReached) for r in results) == 1, results
