from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus

import pytest
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client

from credentials import history, services, usage
from credentials import secrets as credential_secrets
from credentials.models import AccessToken, CredentialHistory, OAuthClient, ServiceAccount
from tango_portal.core.chain import lock_team
from tango_portal.members import activity
from tango_portal.members import services as members_services
from tango_portal.models import Membership, Team, TeamActivity, User
from tests.append_only import drop_triggers, install_triggers
from tests.factories import PASSWORD, MembershipFactory, TeamFactory
from tests.history_keys import history_keys  # noqa: F401  (a fixture for every test)

HISTORY_TABLE = "credentials_credentialhistory"
APPEND_ONLY_TABLES = [HISTORY_TABLE, "tango_portal_teamactivity", "tango_portal_chaincheckpoint"]
CHROMIUM = "/usr/bin/chromium"

Role = Membership.Role
Perm = Membership.ApiKeysPermission


def pytest_collection_modifyitems(config, items) -> None:
    """`@pytest.mark.postgres` tests need PostgreSQL's row locks, concurrent writers or plans.

    On SQLite (which serialises every writer and has no such planner) they are skipped
    with that reason; CI's second pass runs them on PostgreSQL, where nothing skips.
    """
    from django.conf import settings

    if "postgresql" in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(
        reason="PostgreSQL only (row locks, concurrent writers, query plans, prepared statements); "
        "CI runs it on its PostgreSQL pass"
    )
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # Users' sign-in passwords: a fast hasher in tests. Service-account passwords
    # always use argon2id (credentials.services), whatever this says.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "tango_portal.accounts.hashers.PortalArgon2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    from django.core.cache import cache

    cache.clear()
    usage.forget()
    yield
    cache.clear()
    usage.forget()


def _append_only_tables() -> list[str]:
    existing = set(connection.introspection.table_names())
    return [table for table in APPEND_ONLY_TABLES if table in existing]


@pytest.fixture(autouse=True)
def _append_only_triggers_lifted_for_flush(request) -> Iterator[None]:
    """Transactional tests end with a flush (TRUNCATE/DELETE), which the append-only
    triggers rightly refuse: lift them for the flush, put them back before the next test.
    """
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    uses_db = marker is not None or bool(
        {"db", "transactional_db", "live_server"} & set(request.fixturenames)
    )
    if not uses_db:
        yield
        return
    # Set up after the database fixture, so torn down before its flush.
    request.getfixturevalue("_django_db_helper")
    # Whatever ran before (pytest-django runs transactional tests last, but a plugin or
    # -p no:... may reorder), every database test starts with the triggers in place.
    for table in _append_only_tables():
        install_triggers(table)
    yield
    if transactional:
        for table in _append_only_tables():
            drop_triggers(table)


@pytest.fixture
def team() -> Team:
    return TeamFactory(name="Acme Rewards", slug="acme-rewards")


@pytest.fixture
def other_team() -> Team:
    return TeamFactory(name="Globex", slug="globex")


def _member(team: Team, role: str, permission: str, email: str, name: str) -> User:
    return MembershipFactory(
        team=team, role=role, api_keys_permission=permission, user__email=email, user__full_name=name
    ).user


@pytest.fixture
def admin_user(team) -> User:
    return _member(team, Role.ADMIN, Perm.MANAGE, "admin@example.com", "Ada Admin")


@pytest.fixture
def manager(team) -> User:
    return _member(team, Role.MEMBER, Perm.MANAGE, "manager@example.com", "Manny Manager")


@pytest.fixture
def auditor(team) -> User:
    return _member(team, Role.MEMBER, Perm.VIEW, "auditor@example.com", "Audrey Auditor")


@pytest.fixture
def member(team) -> User:
    return _member(team, Role.MEMBER, Perm.NONE, "member@example.com", "Mel Member")


@pytest.fixture
def outsider(other_team) -> User:
    return _member(other_team, Role.ADMIN, Perm.MANAGE, "globex-admin@example.com", "Gloria Globex")


def membership_of(user: User, team: Team) -> Membership:
    return Membership.objects.get(user=user, team=team)


def change_member(
    actor: User, team: Team, user: User, *, role: str, permission: str, of_team: Team | None = None
) -> Membership:
    """`member_change` by `actor` in `team` on `user`'s membership of `of_team` (by default `team`)."""
    return members_services.member_change(
        actor=actor,
        team=team,
        membership=membership_of(user, of_team or team),
        role=role,
        api_keys_permission=permission,
    )


def record_history(team: Team, **fields: object) -> CredentialHistory:
    """`history.record` as a service calls it: in a transaction, under the team lock."""
    with transaction.atomic():
        return history.record(team=lock_team(team), **fields)


def record_activity(team: Team, **fields: object) -> TeamActivity:
    """`activity.record` as a service calls it: in a transaction, under the team lock."""
    with transaction.atomic():
        return activity.record(team=lock_team(team), **fields)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def is_fragment(response: HttpResponse) -> bool:
    return "<html" not in response.content.decode()


def no_store(response: HttpResponse) -> bool:
    return "no-store" in response.get("Cache-Control", "")


def revealed(client: Client, posted: HttpResponse) -> HttpResponse:
    """The one-time page a create POST sent the browser to: a 303's Location, or htmx's
    HX-Redirect, opened with the key cookie the POST set (the client keeps it)."""
    if posted.get("HX-Redirect"):
        url = posted["HX-Redirect"]
    else:
        assert posted.status_code == HTTPStatus.SEE_OTHER, posted.status_code
        url = posted["Location"]
    assert "/reveal/" in url, url
    return client.get(url)


def plain_and_htmx(
    send: Callable[..., HttpResponse], *args: object, status: int = HTTPStatus.OK, **kwargs: object
) -> list[HttpResponse]:
    """Send one request plainly and as htmx (`send` is a test client's get or post).

    Both must answer `status`, the plain one with a full page and the htmx one with a
    fragment; the two responses are returned in that order for the caller's own checks.
    """
    responses = []
    for headers in ({}, {"HX-Request": "true"}):
        response = send(*args, headers=headers, **kwargs)
        assert response.status_code == status, (headers, response.status_code)
        assert is_fragment(response) is bool(headers), headers
        responses.append(response)
    return responses


@pytest.fixture
def manager_client(manager) -> Client:
    return client_for(manager)


@pytest.fixture
def auditor_client(auditor) -> Client:
    return client_for(auditor)


@pytest.fixture
def member_client(member) -> Client:
    return client_for(member)


@pytest.fixture
def outsider_client(outsider) -> Client:
    return client_for(outsider)


class HistoryDown(RuntimeError):
    """What writing credential history raises once `history_down()` has been called."""


@pytest.fixture
def history_down(monkeypatch) -> Callable[[], None]:
    """Call it to make every later write of credential history fail with HistoryDown.

    A call rather than a fixture that acts at once, so a test makes its own objects
    (and their history rows) first.
    """

    def fail(**kwargs: object) -> None:
        raise HistoryDown("history is unavailable")

    return lambda: monkeypatch.setattr(history, "record", fail)


@pytest.fixture
def htmx_headers() -> dict[str, str]:
    return {"HX-Request": "true"}


@pytest.fixture
def user_password() -> str:
    return PASSWORD


def browser_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which("chromium") is not None


@dataclass(frozen=True)
class IssuedToken:
    value: str
    client: OAuthClient
    account: ServiceAccount


def issue_access_token(
    client: OAuthClient,
    account: ServiceAccount | None,
    *,
    audience: str = "https://api.tangocard.com/",
    expires_in: int = 86400,
    value: str | None = None,
) -> AccessToken:
    """`services.access_token_issue` of `value` (by default a fresh one), scope raas.all."""
    return services.access_token_issue(
        token=value or credential_secrets.generate(credential_secrets.Kind.ACCESS_TOKEN),
        client=client,
        service_account=account,
        audience=audience,
        scope="raas.all",
        expires_in=expires_in,
    )


@pytest.fixture
def client_and_account(team, manager) -> tuple[OAuthClient, ServiceAccount]:
    """Client credentials and a service account of `team`, made through the services."""
    client, _ = services.oauth_client_create(actor=manager, team=team)
    account, _ = services.service_account_create(actor=manager, team=team)
    return client, account


@pytest.fixture
def issued_token(client_and_account) -> IssuedToken:
    """A live 24-hour access token of `team`, issued through the services (no HTTP)."""
    client, account = client_and_account
    value = credential_secrets.generate(credential_secrets.Kind.ACCESS_TOKEN)
    issue_access_token(client, account, value=value)
    return IssuedToken(value=value, client=client, account=account)
