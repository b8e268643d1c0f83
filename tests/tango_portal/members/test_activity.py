"""The team activity record is append-only at every level (model, queryset, admin, database)
and hash-chained per team, like credential history."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.db import connection, transaction

from tango_portal.admin import TeamActivityAdmin
from tango_portal.core import chain
from tango_portal.core.append_only import AppendOnlyError
from tango_portal.members import activity
from tango_portal.members import services as members_services
from tango_portal.models import TeamActivity
from tests.append_only import assert_database_refuses, emptying_statement
from tests.conftest import Perm, Role, client_for, membership_of, record_activity
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TABLE = TeamActivity._meta.db_table
Action = TeamActivity.Action


@pytest.fixture
def row(team, admin_user, member) -> TeamActivity:
    return record_activity(
        team,
        actor=admin_user,
        action=Action.PERMISSION_CHANGED,
        subject=member,
        from_value="none",
        to_value="view",
    )


def test_record_snapshots_both_people_and_chains(team, admin_user, member, row):
    assert (row.actor_name, row.actor_email) == ("Ada Admin", "admin@example.com")
    assert (row.subject_name, row.subject_email) == ("Mel Member", "member@example.com")
    assert row.prev_hash == ""
    assert row.row_hash == chain.row_hash(row)
    second = record_activity(team, actor=admin_user, action=Action.ROLE_CHANGED, subject=member)
    assert second.prev_hash == row.row_hash
    assert activity.verify(team)


def test_chains_are_per_team(team, other_team, admin_user, outsider, row):
    other = record_activity(other_team, actor=outsider, action=Action.MEMBER_ADDED, subject=outsider)
    assert other.prev_hash == ""
    assert activity.verify(other_team)


def test_tampering_behind_the_triggers_is_detected(team, admin_user, member, row):
    from django.core.management import CommandError, call_command
    from django.db import connection

    from tests.append_only import drop_triggers, install_triggers

    second = record_activity(team, actor=admin_user, action=Action.ROLE_CHANGED, subject=member)
    record_activity(team, actor=admin_user, action=Action.ROLE_CHANGED, subject=member)
    assert activity.verify(team)
    table = TeamActivity._meta.db_table
    drop_triggers(table)
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"UPDATE {table} SET to_value = %s WHERE id = %s", ["admin/manage", second.pk])
    finally:
        install_triggers(table)
    assert not activity.verify(team)
    with pytest.raises(CommandError, match=f"team activity row id {second.pk}"):
        call_command("verify_history", "--team", team.slug)


def test_unknown_actions_are_refused(team, admin_user):
    with pytest.raises(ValueError, match="Unknown team activity action"):
        record_activity(team, actor=admin_user, action="promoted_to_ceo", subject=admin_user)
    assert not TeamActivity.objects.exists()


def test_saving_an_existing_row_raises(row):
    row.to_value = "manage"
    with pytest.raises(AppendOnlyError):
        row.save()
    assert TeamActivity.objects.get(pk=row.pk).to_value == "view"


def test_deleting_a_row_raises(row):
    with pytest.raises(AppendOnlyError):
        row.delete()
    assert TeamActivity.objects.filter(pk=row.pk).exists()


def test_queryset_update_and_delete_raise(row):
    with pytest.raises(AppendOnlyError):
        TeamActivity.objects.filter(pk=row.pk).update(to_value="manage")
    with pytest.raises(AppendOnlyError):
        TeamActivity.objects.filter(pk=row.pk).delete()
    with pytest.raises(AppendOnlyError):
        TeamActivity.objects.all().delete()
    assert TeamActivity.objects.get(pk=row.pk).to_value == "view"


@pytest.mark.parametrize("sql", [f"UPDATE {TABLE} SET to_value = 'manage'", f"DELETE FROM {TABLE}"])
def test_database_refuses_raw_update_and_delete(row, sql):
    assert_database_refuses(sql)
    assert TeamActivity.objects.get(pk=row.pk).to_value == "view"


def test_database_refuses_emptying_the_table(row):
    assert_database_refuses(emptying_statement(TABLE))
    assert TeamActivity.objects.filter(pk=row.pk).exists()


def test_raw_inserts_are_still_allowed(row, team):
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (team_id, occurred_at, action, actor_name, actor_email, subject_name, "
            "subject_email, from_value, to_value, prev_hash, row_hash) "
            "VALUES (%s, %s, 'member_added', '', '', '', '', '', '', '', 'x')",
            [team.pk, row.occurred_at],
        )
    assert TeamActivity.objects.filter(team=team).count() == 2


def test_admin_is_read_only(row):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = client_for(staff)
    base = "/admin/tango_portal/teamactivity/"
    changelist = client.get(base)
    assert changelist.status_code == HTTPStatus.OK
    assert "member@example.com" in changelist.content.decode()
    change = client.get(f"{base}{row.pk}/change/")
    assert change.status_code == HTTPStatus.OK
    assert 'name="_save"' not in change.content.decode()
    assert client.post(f"{base}{row.pk}/change/", {"to_value": "manage"}).status_code == HTTPStatus.FORBIDDEN
    assert client.post(f"{base}{row.pk}/delete/", {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
    assert client.get(f"{base}add/").status_code == HTTPStatus.FORBIDDEN
    assert TeamActivity.objects.get(pk=row.pk).to_value == "view"
    admin = TeamActivityAdmin(TeamActivity, None)
    assert not admin.has_add_permission(None)
    assert not admin.has_change_permission(None, row)
    assert not admin.has_delete_permission(None, row)


def test_sign_up_link_admin_hides_the_digest(team, admin_user):
    added = members_services.member_add(actor=admin_user, team=team, email="n@example.com", full_name="N")
    client = client_for(UserFactory(is_staff=True, is_superuser=True))
    html = client.get(f"/admin/tango_portal/signupinvitation/{added.invitation.pk}/change/").content.decode()
    assert added.invitation.token_digest not in html
    assert 'name="_save"' not in html


def test_deleting_a_user_keeps_their_activity_and_snapshots(row, member, admin_user):
    member.delete()
    admin_user.delete()
    kept = TeamActivity.objects.get(pk=row.pk)
    assert (kept.subject_name, kept.subject_email) == ("Mel Member", "member@example.com")
    assert (kept.actor_name, kept.actor_email) == ("Ada Admin", "admin@example.com")


def test_values_read_as_people_say_them(team, admin_user, member):
    changed = record_activity(
        team, actor=admin_user, action=Action.PERMISSION_CHANGED, subject=member, from_value="none"
    )
    assert activity.describe_value(changed, "none") == "Don't allow"
    added = record_activity(
        team, actor=admin_user, action=Action.MEMBER_ADDED, subject=member, to_value="member/view"
    )
    assert activity.describe_value(added, added.to_value) == "Member, Tango API keys: View"


def test_platform_admin_shows_memberships_without_editing_them(team, admin_user):
    staff = client_for(UserFactory(is_staff=True, is_superuser=True))
    page = staff.get(f"/admin/tango_portal/team/{team.pk}/change/")
    assert page.status_code == HTTPStatus.OK
    body = page.content.decode()
    assert admin_user.email in body
    assert 'name="memberships-0-role"' not in body


def test_record_refuses_a_team_it_was_not_given_locked(team, admin_user, member):
    with transaction.atomic(), pytest.raises(TypeError, match="needs the team locked"):
        activity.record(team=team, actor=admin_user, action=Action.ROLE_CHANGED, subject=member)
    assert not TeamActivity.objects.exists()


def test_a_change_of_several_entries_locks_the_team_once(
    team, admin_user, member, django_assert_max_num_queries
):
    membership = membership_of(member, team)
    # Savepoint, team lock, admin check, member lock, save, a head read and an insert for
    # each of the two rows, release: the team is read once, however many rows follow.
    with django_assert_max_num_queries(10) as captured:
        members_services.member_change(
            actor=admin_user,
            team=team,
            membership=membership,
            role=Role.ADMIN,
            api_keys_permission=Perm.MANAGE,
        )
    sql = [query["sql"] for query in captured]
    team_reads = [statement for statement in sql if 'FROM "tango_portal_team"' in statement]
    assert len(team_reads) == 1, team_reads
    if connection.features.has_select_for_update:
        assert next(statement for statement in sql if statement.endswith("FOR UPDATE")) == team_reads[0]
    changes = TeamActivity.objects.filter(team=team).order_by("id")
    assert [row.action for row in changes] == [Action.ROLE_CHANGED, Action.PERMISSION_CHANGED]
    assert changes[1].prev_hash == changes[0].row_hash
    assert activity.verify(team)
