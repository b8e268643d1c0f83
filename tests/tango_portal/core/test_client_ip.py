"""The caller's address behind a load balancer: one setting, honoured everywhere."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from credentials import services
from credentials.models import CredentialHistory
from tango_portal.core.http import client_ip
from tests.conftest import client_for
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

BALANCER = "10.0.0.5"


def _request(forwarded_for: str | None = None, peer: str = BALANCER):
    extra = {"REMOTE_ADDR": peer}
    if forwarded_for is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **extra)


def test_forwarded_for_counts_only_behind_the_trusted_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request("198.51.100.1")) == BALANCER

    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request("198.51.100.1")) == "198.51.100.1"
    # What the client wrote itself stands left of what the balancer appended.
    assert client_ip(_request("203.0.113.66, 198.51.100.1")) == "198.51.100.1"
    assert client_ip(_request("garbage, 198.51.100.1")) == "198.51.100.1"
    # A request that did not come through the balancer keeps its socket peer.
    assert client_ip(_request()) == BALANCER
    assert client_ip(_request("not an address")) == BALANCER

    # A CDN in front of the balancer: the CDN appended the client, the balancer the CDN.
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request("203.0.113.66, 198.51.100.1, 192.0.2.10")) == "198.51.100.1"
    assert client_ip(_request("192.0.2.10")) == BALANCER


def _sign_in(email: str, password: str, forwarded_for: str):
    return Client().post(
        "/accounts/login/",
        {"username": email, "password": password},
        REMOTE_ADDR=BALANCER,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_sign_in_lockout_is_per_client_behind_the_balancer(manager, settings):
    # Off: everyone behind the balancer is one address, whatever X-Forwarded-For says.
    settings.TRUSTED_PROXY_COUNT = 0
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(manager.email, "wrong", "198.51.100.1")
    assert _sign_in(manager.email, PASSWORD, "198.51.100.2").status_code == HTTPStatus.TOO_MANY_REQUESTS

    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(manager.email, "wrong", "198.51.100.1")

    assert _sign_in(manager.email, PASSWORD, "198.51.100.1").status_code == HTTPStatus.TOO_MANY_REQUESTS
    # A spoofed left-most entry is still the same client.
    spoofed = _sign_in(manager.email, PASSWORD, "203.0.113.66, 198.51.100.1")
    assert spoofed.status_code == HTTPStatus.TOO_MANY_REQUESTS
    # The real user behind the same balancer is not locked out by someone else's guesses.
    assert _sign_in(manager.email, PASSWORD, "198.51.100.2").status_code == HTTPStatus.FOUND
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.1"}


def test_history_records_the_clients_address(manager, team, settings):
    first, second = (services.service_account_create(actor=manager, team=team)[0] for _ in range(2))
    http = client_for(manager)

    def view(account, forwarded_for: str) -> None:
        url = reverse("credentials:service_accounts:detail", kwargs={"pk": account.pk})
        response = http.get(url, REMOTE_ADDR=BALANCER, HTTP_X_FORWARDED_FOR=forwarded_for)
        assert response.status_code == HTTPStatus.OK

    settings.TRUSTED_PROXY_COUNT = 0
    view(first, "198.51.100.1")
    settings.TRUSTED_PROXY_COUNT = 1
    view(second, "203.0.113.66, 198.51.100.1")

    viewed = CredentialHistory.objects.filter(action=CredentialHistory.Action.VIEWED).order_by("pk")
    assert list(viewed.values_list("ip_address", flat=True)) == [BALANCER, "198.51.100.1"]


def test_security_log_records_the_clients_address(manager, settings, caplog):
    caplog.set_level(logging.INFO, logger="tango_portal.security")

    settings.TRUSTED_PROXY_COUNT = 0
    _sign_in(manager.email, "wrong", "198.51.100.1")
    settings.TRUSTED_PROXY_COUNT = 1
    _sign_in(manager.email, "wrong", "203.0.113.66, 198.51.100.1")

    logged = [json.loads(r.getMessage()) for r in caplog.records if r.name == "tango_portal.security"]
    assert [e["ip"] for e in logged if e["event"] == "sign_in_failed"] == [BALANCER, "198.51.100.1"]
