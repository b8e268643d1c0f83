"""Every credential service that writes history locks the team once, before any other row."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credentials import services
from credentials.models import CredentialHistory
from tango_portal.core import chain

pytestmark = pytest.mark.django_db

Made = SimpleNamespace

SERVICES: dict[str, Callable[..., object]] = {
    "service_account_create": lambda actor, team, made: services.service_account_create(
        actor=actor, team=team
    ),
    "service_account_view": lambda actor, team, made: services.service_account_view(
        actor=actor, team=team, account=made.account
    ),
    "service_account_rename": lambda actor, team, made: services.service_account_rename(
        actor=actor, team=team, account=made.account, display_name="Payroll"
    ),
    "service_account_delete": lambda actor, team, made: services.service_account_delete(
        actor=actor, team=team, account=made.account
    ),
    "oauth_client_create": lambda actor, team, made: services.oauth_client_create(actor=actor, team=team),
    "oauth_client_view": lambda actor, team, made: services.oauth_client_view(
        actor=actor, team=team, client=made.client
    ),
    "oauth_client_rename": lambda actor, team, made: services.oauth_client_rename(
        actor=actor, team=team, client=made.client, display_name="Rotated"
    ),
    "oauth_client_deactivate": lambda actor, team, made: services.oauth_client_deactivate(
        actor=actor, team=team, client=made.client
    ),
    "api_key_create": lambda actor, team, made: services.api_key_create(
        actor=actor, team=team, platform_name="Other shop"
    ),
    "api_key_deactivate": lambda actor, team, made: services.api_key_deactivate(
        actor=actor, team=team, key=made.key
    ),
}


@pytest.fixture
def made(manager, team) -> Made:
    """One credential of each kind, made (and recorded) before the service under test runs."""
    return Made(
        account=services.service_account_create(actor=manager, team=team, display_name="Order server")[0],
        client=services.oauth_client_create(actor=manager, team=team, display_name="Main client")[0],
        key=services.api_key_create(actor=manager, team=team, platform_name="Shop")[0],
    )


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_locks_the_team_once_before_any_other_row(name, manager, team, made):
    before = CredentialHistory.objects.filter(team=team).count()
    with CaptureQueriesContext(connection) as captured:
        SERVICES[name](manager, team, made)
    sql = [query["sql"] for query in captured]
    team_reads = [statement for statement in sql if 'FROM "tango_portal_team"' in statement]
    assert len(team_reads) == 1, team_reads
    if connection.features.has_select_for_update:
        locks = [statement for statement in sql if statement.endswith("FOR UPDATE")]
        assert locks[0] == team_reads[0], locks
    assert CredentialHistory.objects.filter(team=team).count() == before + 1
    assert chain.verify(CredentialHistory, team.pk).ok
