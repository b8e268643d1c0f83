"""The rotation policy: the team's maximum credential age (admins only, recorded in the team
activity) and the overview's *Due for rotation* summary."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credentials import reminders, services
from credentials.models import ServiceAccount
from credentials.views.policy import max_credential_age_set
from tango_portal.members import activity
from tango_portal.models import Team, TeamActivity
from tests.conftest import client_for, plain_and_htmx

pytestmark = pytest.mark.django_db

URL = "/team/api-credentials/policy/"
OVERVIEW = "/team/api-credentials/"
Action = TeamActivity.Action


def _policy_rows(team: Team):
    return list(TeamActivity.objects.filter(team=team, action=Action.MAX_CREDENTIAL_AGE_CHANGED))


def _set_age(team: Team, days: int | None) -> None:
    Team.objects.filter(pk=team.pk).update(max_credential_age_days=days)
    team.refresh_from_db()


def _created_days_ago(credential, days: int) -> None:
    type(credential).objects.filter(pk=credential.pk).update(created_at=timezone.now() - timedelta(days=days))


@pytest.fixture
def admin_client(admin_user):
    return client_for(admin_user)


# --- The page ------------------------------------------------------------------------


def test_an_admin_sees_the_select_with_the_current_value(team, admin_client):
    plain, htmx = plain_and_htmx(admin_client.get, URL)
    for response in (plain, htmx):
        body = response.content.decode()
        assert '<label for="id_max_credential_age_days">Maximum credential age</label>' in body
        assert '<option value="off">Off</option>' in body
        assert '<option value="90">90 days</option>' in body
        assert '<option value="180">180 days</option>' in body
        assert '<option value="365" selected>365 days</option>' in body  # the default


def test_an_admin_sets_it_and_the_team_activity_records_it(team, admin_user, admin_client):
    response = admin_client.post(URL, {"max_credential_age_days": "90"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == URL
    team.refresh_from_db()
    assert team.max_credential_age_days == 90
    [row] = _policy_rows(team)
    assert (row.actor_email, row.from_value, row.to_value) == (admin_user.email, "365", "90")
    assert activity.verify(team)
    page = admin_client.get(URL).content.decode()
    assert "Saved: the maximum credential age of Acme Rewards is now 90 days." in page
    assert '<option value="90" selected>' in page
    # The team activity on the Users page reads it.
    users = admin_client.get("/team/users/").content.decode()
    assert "Maximum credential age changed" in users
    assert "365 days" in users and "90 days" in users


def test_off_turns_the_policy_off(team, admin_client):
    admin_client.post(URL, {"max_credential_age_days": "off"})
    team.refresh_from_db()
    assert team.max_credential_age_days is None
    [row] = _policy_rows(team)
    assert row.to_value == "off"
    assert activity.describe_value(row, row.to_value) == "Off"


def test_htmx_saves_and_sends_the_page_to_reload(team, admin_client):
    response = admin_client.post(URL, {"max_credential_age_days": "180"}, headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == URL
    team.refresh_from_db()
    assert team.max_credential_age_days == 180


def test_the_same_value_again_changes_and_records_nothing(team, admin_client):
    admin_client.post(URL, {"max_credential_age_days": "365"})
    assert _policy_rows(team) == []
    assert "Nothing to save" in admin_client.get(URL).content.decode()


@pytest.mark.parametrize(
    "posted",
    [
        {"max_credential_age_days": "45"},
        {"max_credential_age_days": ""},
        {},
        {"max_credential_age_days": "9" * 30},
    ],
)
def test_bad_input_is_an_error_in_place_and_changes_nothing(team, admin_client, posted):
    plain, htmx = plain_and_htmx(admin_client.post, URL, posted, status=HTTPStatus.UNPROCESSABLE_ENTITY)
    for response in (plain, htmx):
        body = response.content.decode()
        assert "Nothing was changed." in body
        assert "Choose" in body
    team.refresh_from_db()
    assert team.max_credential_age_days == 365
    assert _policy_rows(team) == []


@pytest.mark.parametrize("who", ["manager", "auditor", "member"])
def test_only_admins_may_see_or_change_it(request, team, who):
    client = client_for(request.getfixturevalue(who))
    assert client.get(URL).status_code == HTTPStatus.FORBIDDEN
    assert client.post(URL, {"max_credential_age_days": "90"}).status_code == HTTPStatus.FORBIDDEN
    team.refresh_from_db()
    assert team.max_credential_age_days == 365
    assert _policy_rows(team) == []


def test_another_team_s_admin_changes_only_their_own(team, other_team, outsider_client):
    _set_age(other_team, 180)
    assert '<option value="180" selected>' in outsider_client.get(URL).content.decode()
    outsider_client.post(URL, {"max_credential_age_days": "90"})
    team.refresh_from_db()
    other_team.refresh_from_db()
    assert (team.max_credential_age_days, other_team.max_credential_age_days) == (365, 90)
    assert _policy_rows(team) == []


def test_the_service_checks_the_admin_role_and_the_value(team, admin_user, manager):
    with pytest.raises(PermissionDenied):
        max_credential_age_set(actor=manager, team=team, days=90)
    with pytest.raises(ValidationError):
        max_credential_age_set(actor=admin_user, team=team, days=45)
    team.refresh_from_db()
    assert team.max_credential_age_days == 365
    assert _policy_rows(team) == []
    assert max_credential_age_set(actor=admin_user, team=team, days=None) is True
    assert max_credential_age_set(actor=admin_user, team=team, days=None) is False
    assert len(_policy_rows(team)) == 1


def test_the_overview_links_admins_to_it(team, admin_client, manager_client):
    assert f'href="{URL}"' in admin_client.get(OVERVIEW).content.decode()
    body = manager_client.get(OVERVIEW).content.decode()
    assert f'href="{URL}"' not in body
    assert "Maximum credential age: <strong>365 days</strong>" in body


# --- The overview's summary -------------------------------------------------------------


@pytest.fixture
def aged(team, manager):
    """A client credential 400 days old, service accounts 200 and 10 days old, an API key 100."""
    client, _ = services.oauth_client_create(actor=manager, team=team, display_name="Old client")
    _created_days_ago(client, 400)
    middle, _ = services.service_account_create(actor=manager, team=team, display_name="Middle")
    _created_days_ago(middle, 200)
    young, _ = services.service_account_create(actor=manager, team=team, display_name="Young")
    _created_days_ago(young, 10)
    key, _ = services.api_key_create(actor=manager, team=team, platform_name="Shop")
    _created_days_ago(key, 100)
    return {"client": client, "middle": middle, "young": young, "key": key}


def test_two_due_credentials_are_summed_up_with_links_to_their_lists(team, aged, auditor_client):
    _set_age(team, 180)
    body = auditor_client.get(OVERVIEW).content.decode()
    assert "2 credentials are due for rotation" in body
    assert '<a href="/team/api-credentials/clients/">Client credentials</a>: 1 due' in body
    assert '<a href="/team/api-credentials/service-accounts/">Service accounts</a>: 1 due' in body
    assert (
        '<a href="/team/api-credentials/api-keys/">API keys</a>'
        not in body.split('id="due-for-rotation"')[1].split("</div>")[0]
    )


def test_one_due_credential_reads_in_the_singular(team, aged, auditor_client):
    _set_age(team, 365)
    assert "1 credential is due for rotation" in auditor_client.get(OVERVIEW).content.decode()


def test_no_summary_when_nothing_is_due_or_there_is_no_policy(team, aged, manager, auditor_client):
    services.oauth_client_deactivate(actor=manager, team=team, client=aged["client"])
    _set_age(team, 365)
    assert "due for rotation" not in auditor_client.get(OVERVIEW).content.decode()
    _set_age(team, None)
    body = auditor_client.get(OVERVIEW).content.decode()
    assert "due for rotation" not in body
    assert "Maximum credential age: <strong>Off</strong>" in body


def test_deleted_and_other_teams_credentials_are_not_counted(team, other_team, aged, manager, outsider):
    _set_age(team, 90)
    services.service_account_delete(actor=manager, team=team, account=aged["middle"])
    theirs, _ = services.service_account_create(actor=outsider, team=other_team)
    _created_days_ago(theirs, 400)
    assert reminders.due_for_rotation_counts(team=team) == {"oauth_client": 1, "api_key": 1}
    _set_age(other_team, 90)
    assert reminders.due_for_rotation_counts(team=other_team) == {"service_account": 1}


def test_the_summary_is_one_query_whatever_the_count(
    team, aged, auditor_client, django_assert_max_num_queries
):
    _set_age(team, 90)
    with django_assert_max_num_queries(1):
        assert reminders.due_for_rotation_counts(team=team) == {
            "oauth_client": 1,
            "service_account": 1,
            "api_key": 1,
        }
    with CaptureQueriesContext(connection) as few:
        auditor_client.get(OVERVIEW)
    old = timezone.now() - timedelta(days=200)
    ServiceAccount.objects.bulk_create(
        ServiceAccount(team=team, username=f"tng_sbx_sa_due{i}", password_hash="x", created_at=old)
        for i in range(8)
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        body = auditor_client.get(OVERVIEW).content.decode()
    assert "11 credentials are due for rotation" in body


def test_without_a_policy_the_summary_costs_no_query(team, aged, django_assert_num_queries):
    _set_age(team, None)
    with django_assert_num_queries(0):
        assert reminders.due_for_rotation_counts(team=team) == {}
