"""Concurrency on PostgreSQL with real threads and connections.

SQLite serialises every writer (transaction_mode IMMEDIATE), so these races exist only
on PostgreSQL, where CI runs them.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

import pytest
from django.core.management import call_command

from credentials import services
from credentials.models import CredentialHistory, OAuthClient, ServiceAccount
from tango_portal.models import Membership
from tests.concurrency import run_concurrently
from tests.factories import MembershipFactory, TeamFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def test_twenty_concurrent_deletions_record_exactly_one(team, manager):
    account, _password = services.service_account_create(actor=manager, team=team)

    def delete() -> str:
        try:
            services.service_account_delete(actor=manager, team=team, account=account)
        except services.AlreadyDeleted as error:
            return f"already: {error}"
        return "deleted"

    results = run_concurrently([delete] * 20)
    assert results.count("deleted") == 1
    assert all(isinstance(r, str) and r.startswith("already: ") for r in results if r != "deleted"), results
    assert (
        CredentialHistory.objects.filter(
            credential_identifier=account.username, action=CredentialHistory.Action.DELETED
        ).count()
        == 1
    )
    account.refresh_from_db()
    assert account.is_deleted
    assert account.password_hash == ""


def test_concurrent_client_generation_never_exceeds_two_active(team, manager):
    def generate() -> str:
        try:
            services.oauth_client_create(actor=manager, team=team)
        except services.LimitReached:
            return "refused"
        return "created"

    results = run_concurrently([generate] * 6)
    assert Counter(results) == {"created": 2, "refused": 4}
    assert OAuthClient.objects.active().filter(team=team).count() == 2


@pytest.mark.usefixtures("history_keys")
def test_two_hundred_concurrent_actions_across_five_teams_keep_every_chain(capsys):
    teams = [TeamFactory() for _ in range(5)]
    managers = {
        team.pk: MembershipFactory(team=team, api_keys_permission=Membership.ApiKeysPermission.MANAGE).user
        for team in teams
    }
    accounts = {
        team.pk: [services.service_account_create(actor=managers[team.pk], team=team)[0] for _ in range(4)]
        for team in teams
    }
    rng = random.Random(20261128)

    def job_for(i: int) -> Callable[[], object]:
        team = teams[i % 5]
        actor = managers[team.pk]
        account = rng.choice(accounts[team.pk])
        kind = i % 4
        if kind == 0:
            return lambda: services.service_account_view(actor=actor, team=team, account=account)
        if kind == 1:
            return lambda: services.service_account_rename(
                actor=actor, team=team, account=account, display_name=f"name {i}"
            )
        if kind == 2:
            return lambda: services.api_key_create(actor=actor, team=team, platform_name=f"platform {i}")
        return lambda: services.oauth_client_create(actor=actor, team=team)

    # 200 actions from 20 threads at a time: PostgreSQL allows ~100 connections in all.
    jobs = [job_for(i) for i in range(200)]
    results: list[object] = []
    for start in range(0, len(jobs), 20):
        results.extend(run_concurrently(jobs[start : start + 20]))
    unexpected = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, services.CredentialError)
    ]
    assert unexpected == []
    call_command("verify_history")
    out = capsys.readouterr().out
    assert out.count("OK      ") >= 5
    assert "BROKEN" not in out
    assert ServiceAccount.objects.count() == 20
