"""A 500 with debug off: its traceback goes to stderr, without the request or its secrets."""

import io
import logging
import sys
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import path

from tests.conftest import client_for

pytestmark = pytest.mark.django_db

SECRET = "tng_sbx_cs_" + "s" * 43
SHAPELESS_SECRET = "hunter2-correct-horse-battery"


class Boom(RuntimeError):
    pass


def explode(request):
    raise Boom(f"broken while handling {request.POST.get('client_secret')}")


urlpatterns = [path("explode/", explode)]


@pytest.fixture
def error_log(settings, monkeypatch):
    """What the configured console handler writes, as the deployed settings configure it."""
    from logging.config import dictConfig

    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    dictConfig(settings.LOGGING)  # the handler binds sys.stderr when it is built
    settings.ROOT_URLCONF = __name__
    settings.DEBUG = False
    yield stream
    monkeypatch.undo()
    dictConfig(settings.LOGGING)


def test_a_500_logs_its_traceback_to_stderr(error_log, manager):
    client = client_for(manager)
    client.raise_request_exception = False

    response = client.post(
        "/explode/", {"client_secret": SECRET, "password": SHAPELESS_SECRET}, headers={"Cookie": "x=1"}
    )

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    logged = error_log.getvalue()
    assert "Internal Server Error: /explode/" in logged
    assert "Traceback (most recent call last)" in logged
    assert "Boom: broken while handling [redacted]" in logged
    assert SECRET not in logged
    assert SHAPELESS_SECRET not in logged
    assert "sessionid" not in logged


def test_the_request_never_reaches_the_handler(error_log):
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    # A handler added after the configured one, as an error reporter would be.
    keep = Keep()
    logging.getLogger("django.request").addHandler(keep)
    try:
        client = Client(raise_request_exception=False)
        client.post("/explode/", {"client_secret": SECRET})
    finally:
        logging.getLogger("django.request").removeHandler(keep)

    assert seen
    assert all(getattr(record, "request", None) is None for record in seen)
