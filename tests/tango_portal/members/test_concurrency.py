"""A team keeps an admin even when two admins step down at the same moment (PostgreSQL).

SQLite serialises every writer (transaction_mode IMMEDIATE), so the race exists only on
PostgreSQL, where the team row lock in members_services resolves it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tango_portal.members import activity
from tango_portal.members import services as members_services
from tango_portal.models import Membership, TeamActivity
from tests.concurrency import run_concurrently
from tests.factories import MembershipFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

Role = Membership.Role
Perm = Membership.ApiKeysPermission


@pytest.fixture(autouse=True)
def _widen_the_race(monkeypatch):
    # Hold each request between "another admin exists" and its write, so that without the
    # team row lock both requests would see the other admin and both would step down.
    original = members_services._other_admins_exist

    def slow(team, membership):
        result = original(team, membership)
        time.sleep(0.5)
        return result

    monkeypatch.setattr(members_services, "_other_admins_exist", slow)


@pytest.fixture
def two_admins(team):
    return [
        MembershipFactory(team=team, role=Role.ADMIN, api_keys_permission=Perm.NONE, user__full_name=name)
        for name in ("Ann Admin", "Bob Admin")
    ]


def test_two_admins_demoting_themselves_at_once_leave_one_admin(team, two_admins):
    def demote(membership: Membership) -> Callable[[], object]:
        return lambda: members_services.member_change(
            actor=membership.user,
            team=team,
            membership=membership,
            role=Role.MEMBER,
            api_keys_permission=Perm.NONE,
        )

    results = run_concurrently([demote(m) for m in two_admins])
    assert Membership.objects.filter(team=team, role=Role.ADMIN).count() == 1
    assert sum(isinstance(r, Membership) for r in results) == 1, results
    assert sum(isinstance(r, members_services.LastAdmin) for r in results) == 1, results
    assert TeamActivity.objects.filter(team=team, action="role_changed").count() == 1
    assert activity.verify(team)


def test_two_admins_demoting_each_other_at_once_leave_one_admin(team, two_admins):
    ann, bob = two_admins

    def demote(actor: Membership, target: Membership) -> Callable[[], object]:
        return lambda: members_services.member_change(
            actor=actor.user, team=team, membership=target, role=Role.MEMBER, api_keys_permission=Perm.NONE
        )

    results = run_concurrently([demote(ann, bob), demote(bob, ann)])
    assert Membership.objects.filter(team=team, role=Role.ADMIN).count() == 1
    assert sum(isinstance(r, Membership) for r in results) == 1, results
    assert TeamActivity.objects.filter(team=team, action="role_changed").count() == 1
    assert activity.verify(team)


def test_two_admins_leaving_at_once_leave_one_admin(team, two_admins):
    def leave(membership: Membership) -> Callable[[], object]:
        return lambda: members_services.member_remove(actor=membership.user, team=team, membership=membership)

    results = run_concurrently([leave(m) for m in two_admins])
    assert Membership.objects.filter(team=team, role=Role.ADMIN).count() == 1
    assert sum(isinstance(r, members_services.LastAdmin) for r in results) == 1, results
    assert TeamActivity.objects.filter(team=team, action="member_removed").count() == 1
    assert activity.verify(team)
