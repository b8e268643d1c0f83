"""The two-active limit under concurrent requests, on PostgreSQL with real threads."""

from __future__ import annotations

import threading
from http import HTTPStatus

import pytest
from django.db import connection

from credentials import services
from credentials.models import ApiKey, OAuthClient
from tests.conftest import client_for
from tests.factories import MembershipFactory, TeamFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def _race(targets) -> list[object]:
    """Run each target in its own thread, released together; return what each returned or raised."""
    barrier = threading.Barrier(len(targets))
    results: list[object] = [None] * len(targets)

    def run(index: int, target) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = target()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results


def test_two_concurrent_generations_leave_at_most_two_active():
    team = TeamFactory(oauth_enabled=True)
    users = [MembershipFactory(team=team).user for _ in range(2)]
    services.oauth_client_create(actor=users[0], team=team)

    results = _race([lambda u=u: services.oauth_client_create(actor=u, team=team) for u in users])

    assert OAuthClient.objects.active().filter(team=team).count() == 2
    refused = [r for r in results if isinstance(r, services.LimitReached)]
    created = [r for r in results if isinstance(r, tuple)]
    assert (len(created), len(refused)) == (1, 1), results


def test_two_concurrent_generate_requests_through_the_view():
    team = TeamFactory(oauth_enabled=True)
    users = [MembershipFactory(team=team).user for _ in range(2)]
    services.oauth_client_create(actor=users[0], team=team)
    clients = [client_for(user) for user in users]

    results = _race(
        [lambda c=c: c.post("/team/api-credentials/clients/generate/").status_code for c in clients]
    )

    assert sorted(results) == [HTTPStatus.OK, HTTPStatus.CONFLICT]
    assert OAuthClient.objects.active().filter(team=team).count() == 2


def test_two_concurrent_api_key_generations_leave_at_most_two_active():
    team = TeamFactory()
    users = [MembershipFactory(team=team).user for _ in range(2)]
    services.api_key_create(actor=users[0], team=team, platform_name="First")

    results = _race(
        [lambda u=u: services.api_key_create(actor=u, team=team, platform_name="Racer") for u in users]
    )

    assert ApiKey.objects.active().filter(team=team).count() == 2
    assert sum(isinstance(r, services.LimitReached) for r in results) == 1, results
