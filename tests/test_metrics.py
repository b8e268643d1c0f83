"""/metrics: who may read it, and the portal's own counters, each moved by what it counts."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import urlencode

import pytest
from django.test import Client
from prometheus_client import REGISTRY

from credentials import services
from tango_portal.core import metrics

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
SECRET = "scrape-" + "s" * 40
LEGACY_CREATED_AT = datetime(2025, 1, 15, tzinfo=UTC)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def token_request(**form: str):
    return Client().post("/oauth/token", urlencode(form), content_type=FORM)


def password_grant(client, secret: str, account, password: str, **overrides: str) -> dict[str, str]:
    return {
        "grant_type": "password",
        "client_id": client.client_id,
        "client_secret": secret,
        "username": account.username,
        "password": password,
        "scope": "raas.all",
        "audience": "https://api.tangocard.com/",
        **overrides,
    }


# --- Who may read it ----------------------------------------------------------------


def scrape(**extra) -> object:
    return Client().get("/metrics", **extra)


def test_loopback_reads_the_metrics():
    response = scrape()
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    for name in (
        "django_http_requests_total_by_method",
        "tango_portal_tokens_issued",
        "tango_portal_token_failures",
        "tango_portal_token_throttled",
        "tango_portal_credentials_created",
        "tango_portal_credentials_deactivated",
    ):
        # prometheus_client names a counter's TYPE line with or without `_total` by version.
        assert re.search(rf"^# TYPE {name}(_total)? counter$", body, re.MULTILINE), name
    assert "no-store" in response["Cache-Control"]


def test_anyone_else_gets_the_404_of_an_unknown_address():
    refused = scrape(REMOTE_ADDR="203.0.113.9")
    unknown = Client().get("/no-such-page", REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == unknown.status_code == HTTPStatus.NOT_FOUND
    assert refused["Content-Type"] == unknown["Content-Type"]
    assert "tango_portal" not in refused.content.decode()


def test_a_request_that_came_through_a_proxy_is_not_from_the_network():
    # nginx on the same machine: the socket peer is loopback for every client it forwards.
    assert scrape(HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == HTTPStatus.NOT_FOUND
    assert scrape(HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == HTTPStatus.NOT_FOUND


def test_configured_networks_by_the_socket_peer(settings):
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "2001:db8::/32"]
    assert scrape(REMOTE_ADDR="10.20.30.40").status_code == HTTPStatus.OK
    # An IPv4 peer on a dual-stack socket.
    assert scrape(REMOTE_ADDR="::ffff:10.20.30.40").status_code == HTTPStatus.OK
    assert scrape(REMOTE_ADDR="2001:db8::5").status_code == HTTPStatus.OK
    assert scrape(REMOTE_ADDR="127.0.0.1").status_code == HTTPStatus.NOT_FOUND
    assert scrape(REMOTE_ADDR="11.0.0.1").status_code == HTTPStatus.NOT_FOUND


def test_the_bearer_secret_opens_it_from_anywhere(settings):
    settings.METRICS_BEARER_SECRET = SECRET
    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert scrape(HTTP_AUTHORIZATION=f"Bearer {SECRET}", **outside).status_code == HTTPStatus.OK
    assert (
        scrape(
            HTTP_AUTHORIZATION=f"Bearer {SECRET}", HTTP_X_FORWARDED_FOR="198.51.100.7", **outside
        ).status_code
        == HTTPStatus.OK
    )
    for wrong in (f"Bearer {SECRET}x", f"Bearer {SECRET[:-1]}", "Bearer ", f"Basic {SECRET}", SECRET):
        assert scrape(HTTP_AUTHORIZATION=wrong, **outside).status_code == HTTPStatus.NOT_FOUND, wrong


def test_without_a_configured_secret_no_bearer_opens_it(settings):
    settings.METRICS_BEARER_SECRET = ""
    for presented in ("Bearer ", "Bearer x"):
        assert scrape(HTTP_AUTHORIZATION=presented, REMOTE_ADDR="203.0.113.9").status_code == 404


def test_metrics_answer_get_only():
    assert Client().post("/metrics").status_code == HTTPStatus.METHOD_NOT_ALLOWED


# --- The portal's counters --------------------------------------------------------------


def test_issued_tokens_count_by_grant_and_environment(team, manager, django_capture_on_commit_callbacks):
    client, secret = services.oauth_client_create(actor=manager, team=team)
    account, password = services.service_account_create(actor=manager, team=team)
    legacy, legacy_secret = services.oauth_client_create(
        actor=manager, team=team, created_at=LEGACY_CREATED_AT
    )
    password_before = value("tango_portal_tokens_issued_total", grant="password", environment="sandbox")
    legacy_before = value(
        "tango_portal_tokens_issued_total", grant="client_credentials", environment="sandbox"
    )

    with django_capture_on_commit_callbacks(execute=True):
        issued = token_request(**password_grant(client, secret, account, password))
        assert issued.status_code == HTTPStatus.OK, issued.content
        legacy_issued = token_request(
            grant_type="client_credentials",
            client_id=legacy.client_id,
            client_secret=legacy_secret,
            scope="raas.all",
        )
        assert legacy_issued.status_code == HTTPStatus.OK, legacy_issued.content
        # Refused by the once-a-day rule: nothing issued, a failure counted.
        again = token_request(**password_grant(client, secret, account, password))
        assert again.status_code == HTTPStatus.TOO_MANY_REQUESTS

    assert (
        value("tango_portal_tokens_issued_total", grant="password", environment="sandbox")
        == password_before + 1
    )
    assert (
        value("tango_portal_tokens_issued_total", grant="client_credentials", environment="sandbox")
        == legacy_before + 1
    )


def test_an_issued_token_is_counted_when_its_transaction_commits(
    team, manager, django_capture_on_commit_callbacks
):
    client, secret = services.oauth_client_create(actor=manager, team=team)
    account, password = services.service_account_create(actor=manager, team=team)
    before = value("tango_portal_tokens_issued_total", grant="password", environment="sandbox")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert token_request(**password_grant(client, secret, account, password)).status_code == HTTPStatus.OK
    assert value("tango_portal_tokens_issued_total", grant="password", environment="sandbox") == before
    for callback in callbacks:
        callback()
    assert value("tango_portal_tokens_issued_total", grant="password", environment="sandbox") == before + 1


def test_failures_count_by_rfc_error_and_throttling_apart(team, manager, settings):
    settings.TOKEN_FAILURE_LIMIT = 3
    client, secret = services.oauth_client_create(actor=manager, team=team)
    account, password = services.service_account_create(actor=manager, team=team)
    invalid_client = value("tango_portal_token_failures_total", error="invalid_client")
    invalid_grant = value("tango_portal_token_failures_total", error="invalid_grant")
    unsupported = value("tango_portal_token_failures_total", error="unsupported_grant_type")
    throttled = value("tango_portal_token_throttled_total")

    # Not a wrong secret: no step towards the throttle.
    assert (
        token_request(**password_grant(client, secret, account, password, grant_type="x")).status_code == 400
    )
    assert token_request(**password_grant(client, "wrong", account, password)).status_code == 401
    assert token_request(**password_grant(client, secret, account, "wrong")).status_code == 400
    # The third wrong secret of this client and account reaches the limit; the next request
    # is throttled, not tried.
    assert token_request(**password_grant(client, "wrong", account, password)).status_code == 401
    assert token_request(**password_grant(client, "wrong", account, password)).status_code == 429

    assert value("tango_portal_token_failures_total", error="invalid_client") == invalid_client + 2
    assert value("tango_portal_token_failures_total", error="invalid_grant") == invalid_grant + 1
    assert value("tango_portal_token_failures_total", error="unsupported_grant_type") == unsupported + 1
    assert value("tango_portal_token_throttled_total") == throttled + 1


def test_an_unexpected_error_code_cannot_add_a_series():
    before = value("tango_portal_token_failures_total", error="other")
    metrics.token_failed("Invalid Client!\n")
    assert value("tango_portal_token_failures_total", error="other") == before + 1
    assert (
        REGISTRY.get_sample_value("tango_portal_token_failures_total", {"error": "Invalid Client!\n"}) is None
    )


TYPES = ("service_account", "oauth_client", "api_key")


def test_credentials_created_and_deactivated_count_by_type(team, manager, django_capture_on_commit_callbacks):
    created = {kind: value("tango_portal_credentials_created_total", type=kind) for kind in TYPES}
    deactivated = {kind: value("tango_portal_credentials_deactivated_total", type=kind) for kind in TYPES}

    with django_capture_on_commit_callbacks(execute=True):
        account, _ = services.service_account_create(actor=manager, team=team)
        other_account, _ = services.service_account_create(actor=manager, team=team)
        client, _ = services.oauth_client_create(actor=manager, team=team)
        key, _ = services.api_key_create(actor=manager, team=team, platform_name="Shop")
        # A rename is a save too, and no deactivation.
        services.service_account_rename(
            actor=manager, team=team, account=other_account, display_name="Renamed"
        )
        services.service_account_delete(actor=manager, team=team, account=account)
        services.oauth_client_deactivate(actor=manager, team=team, client=client)
        services.api_key_deactivate(actor=manager, team=team, key=key)

    assert {
        kind: value("tango_portal_credentials_created_total", type=kind) - created[kind] for kind in TYPES
    } == {
        "service_account": 2,
        "oauth_client": 1,
        "api_key": 1,
    }
    assert {
        kind: value("tango_portal_credentials_deactivated_total", type=kind) - deactivated[kind]
        for kind in TYPES
    } == {"service_account": 1, "oauth_client": 1, "api_key": 1}


def test_a_credential_whose_transaction_rolls_back_is_not_counted(team, manager, history_down):
    from tests.conftest import HistoryDown

    before = value("tango_portal_credentials_created_total", type="service_account")
    history_down()
    with pytest.raises(HistoryDown):
        services.service_account_create(actor=manager, team=team)
    assert value("tango_portal_credentials_created_total", type="service_account") == before


def test_the_scraped_page_shows_the_counts(team, manager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.api_key_create(actor=manager, team=team, platform_name="Shop")
    count = value("tango_portal_credentials_created_total", type="api_key")
    body = scrape().content.decode()
    assert f'tango_portal_credentials_created_total{{type="api_key"}} {count}' in body
