"""A write follows the page it came from: a form of one team is never written to another."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from credentials import services
from credentials.models import ApiKey, CredentialHistory
from tango_portal.models import Membership
from tests.conftest import client_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

GENERATE = "/team/api-credentials/api-keys/generate/"


@pytest.fixture
def both_teams(team, other_team, manager):
    """The manager manages Acme and Globex; the session works in Globex (switched in another tab)."""
    MembershipFactory(
        team=other_team,
        user=manager,
        role=Membership.Role.MEMBER,
        api_keys_permission=Membership.ApiKeysPermission.MANAGE,
    )
    http = client_for(manager)
    assert http.post("/team/switch/", {"team": other_team.pk}).status_code == HTTPStatus.FOUND
    return http


def test_every_form_carries_the_team_it_was_rendered_for(manager_client, team):
    page = manager_client.get("/team/api-credentials/").content.decode()
    assert f'name="page_team" value="{team.pk}"' in page
    assert f'"X-Portal-Team": "{team.pk}"' in page  # and every htmx request, as a header


@pytest.mark.parametrize("htmx", [False, True])
def test_a_form_of_the_other_team_is_refused_and_nothing_is_written(both_teams, team, other_team, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    response = both_teams.post(
        GENERATE, {"platform_name": "Acme order server", "page_team": team.pk}, headers=headers
    )

    assert response.status_code == HTTPStatus.CONFLICT
    assert not ApiKey.objects.exists()
    assert not CredentialHistory.objects.exists()
    if htmx:
        assert response["HX-Redirect"] == "/"
        page = both_teams.get("/team/api-credentials/").content.decode()
    else:
        page = response.content.decode()
    assert "Nothing was changed: this page was for Acme Rewards" in page
    assert "switched to Globex" in page


def test_the_header_of_an_htmx_request_counts_too(both_teams, team):
    response = both_teams.post(
        GENERATE,
        {"platform_name": "Acme order server"},
        headers={"HX-Request": "true", "X-Portal-Team": str(team.pk)},
    )
    assert response.status_code == HTTPStatus.CONFLICT
    assert not ApiKey.objects.exists()


def test_a_form_of_the_current_team_goes_through(both_teams, other_team):
    response = both_teams.post(GENERATE, {"platform_name": "Globex shop", "page_team": other_team.pk})
    assert response.status_code == HTTPStatus.SEE_OTHER
    assert ApiKey.objects.get().team == other_team


def test_a_team_the_user_is_not_in_is_not_named(manager_client, other_team):
    response = manager_client.post(GENERATE, {"platform_name": "x", "page_team": other_team.pk})
    assert response.status_code == HTTPStatus.CONFLICT
    assert "this page was for another team" in response.content.decode()
    assert other_team.name not in response.content.decode()
    garbage = manager_client.post(GENERATE, {"platform_name": "x", "page_team": "nope"})
    assert garbage.status_code == HTTPStatus.CONFLICT
    assert not ApiKey.objects.exists()


def test_switching_team_from_a_detail_page_goes_to_that_kind_of_list(both_teams, team, manager, other_team):
    account, _ = services.service_account_create(actor=manager, team=other_team)
    back = both_teams.post(
        "/team/switch/", {"team": team.pk, "next": f"/team/api-credentials/service-accounts/{account.pk}/"}
    )
    assert back["Location"] == "/team/api-credentials/service-accounts/"
    member = both_teams.post("/team/switch/", {"team": other_team.pk, "next": "/team/users/3/"})
    assert member["Location"] == "/team/users/"
    listed = both_teams.post("/team/switch/", {"team": team.pk, "next": "/team/api-credentials/history/?q=x"})
    assert listed["Location"] == "/team/api-credentials/history/?q=x"


def test_an_htmx_write_held_for_the_password_keeps_its_page_team(both_teams, team, other_team, user_password):
    both_teams.post("/team/switch/", {"team": team.pk})  # back in Acme, where the page is
    session = both_teams.session
    session["sudo_at"] = 0  # stale: the generate form waits for the password
    session.save()
    held = both_teams.post(
        GENERATE,
        {"platform_name": "Acme order server"},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/", "X-Portal-Team": str(team.pk)},
    )
    prompt = both_teams.get(held["HX-Redirect"])
    assert f'name="page_team" value="{team.pk}"' in prompt.content.decode()

    # Another tab switches to Globex while the prompt is open; the prompt then posts the
    # fields again, the page's team among them: refused, nothing written to Globex.
    both_teams.post("/team/switch/", {"team": other_team.pk})
    refused = both_teams.post(
        GENERATE, {"platform_name": "Acme order server", "page_team": team.pk, "sudo_password": user_password}
    )
    assert refused.status_code == HTTPStatus.CONFLICT
    assert not ApiKey.objects.exists()
