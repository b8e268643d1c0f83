"""Leaked-secret reports: the endpoint a secret-scanning service calls, and the two portal
actions that follow a report, acknowledging it and lifting a service account's block.

The endpoint is a machine endpoint (no session, no CSRF): the scanner signs every request.
It is throttled like the token endpoint, by the caller's address (credentials.oauth.throttle):
a request without a valid signature counts as a failure, so an address that keeps guessing is
refused with 429 before its signatures are checked. credentials.scanning does the rest.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from credentials import scanning, selectors, services
from credentials.forms import ConfirmForm
from credentials.oauth import throttle
from credentials.pages import credential_path
from credentials.views.common import credentials_view, page_context
from tango_portal.accounts.sudo import sudo_exempt, sudo_required
from tango_portal.core import security_log
from tango_portal.core.http import client_ip, redirect_after, template_for
from tango_portal.models import Membership

LIFT_LABEL = "I understand that this service account can get tokens again with the same password"


def _answer(body: object, status: int = HTTPStatus.OK) -> JsonResponse:
    # The answer echoes reported values (token_raw): nothing may cache it.
    return JsonResponse(body, status=status, safe=False, headers={"Cache-Control": "no-store"})


def _refused(refused: scanning.ReportRefused) -> JsonResponse:
    return _answer({"error": refused.error, "error_description": refused.description}, refused.status)


def _too_large() -> scanning.ReportRefused:
    return scanning.ReportRefused(
        HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        "too_large",
        f"A report may be at most {settings.SECRET_SCANNING_MAX_BODY_BYTES} bytes.",
        counts=True,
    )


def _body(request: HttpRequest) -> bytes:
    """The raw body, refused (413) past SECRET_SCANNING_MAX_BODY_BYTES: by its Content-Length
    before reading, and by what was read, for a body that came without one."""
    limit = settings.SECRET_SCANNING_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise _too_large()
    body = request.read(limit + 1)
    if len(body) > limit:
        raise _too_large()
    return body


@csrf_exempt
@require_POST
@sudo_exempt("machine endpoint: the secret-scanning service signs every request, no session is used")
def reports(request: HttpRequest) -> JsonResponse:
    """POST /api/secret-scanning/reports: a signed JSON array of leaked values; the answer says,
    for each in order, whether it is one of ours (`true_positive`) or not (`false_positive`)."""
    try:
        keys = scanning.public_keys()
    except scanning.ReportRefused as refused:
        return _refused(refused)
    reservation = throttle.reserve(throttle.Presented(address=client_ip(request)))
    if reservation.retry_after is not None:
        security_log.event("secret_scanning_throttled", request=request, retry_after=reservation.retry_after)
        response = _answer(
            {
                "error": "too_many_attempts",
                "error_description": "Too many unsigned reports from this address.",
            },
            HTTPStatus.TOO_MANY_REQUESTS,
        )
        response["Retry-After"] = str(reservation.retry_after)
        return response
    try:
        signed = scanning.verify(
            _body(request),
            keys=keys,
            key_identifier=request.headers.get(scanning.KEY_IDENTIFIER_HEADER),
            signature=request.headers.get(scanning.SIGNATURE_HEADER),
        )
    except scanning.ReportRefused as refused:
        reservation.settle(throttle.Outcome.CLIENT_FAILED if refused.counts else throttle.Outcome.OK)
        security_log.event("secret_scanning_refused", request=request, error=refused.error)
        return _refused(refused)
    reservation.settle(throttle.Outcome.OK)
    try:
        findings = scanning.parse(signed)
    except scanning.ReportRefused as refused:
        security_log.event("secret_scanning_refused", request=request, error=refused.error)
        return _refused(refused)
    verdicts = scanning.leak_reports_process(findings=findings)
    ours = sum(verdict["label"] == scanning.TRUE_POSITIVE for verdict in verdicts)
    security_log.event(
        "secret_scanning_report",
        request=request,
        level=logging.WARNING if ours else logging.INFO,
        findings=len(verdicts),
        ours=ours,
    )
    return _answer(verdicts)


@require_POST
@credentials_view("manage")
@sudo_required
def acknowledge(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """Acknowledge a leak report: its banner leaves the credential's page, and history says who."""
    report = selectors.leak_report_get(team=membership.team, pk=pk)
    try:
        scanning.leak_report_acknowledge(
            actor=membership.user, team=membership.team, report=report, ip_address=client_ip(request)
        )
    except services.CredentialError as refused:
        messages.info(request, str(refused))
    else:
        messages.success(request, "Leak report acknowledged.")
    return redirect_after(request, credential_path(report.credential_type, report.credential_pk))


@require_http_methods(["GET", "POST"])
@credentials_view("manage")
@sudo_required
def lift_block(request: HttpRequest, membership: Membership, pk: int) -> HttpResponse:
    """GET: why the account is blocked and what lifting means. POST, the box ticked: lift it."""
    account = selectors.service_account_get(team=membership.team, pk=pk, include_deleted=True)
    form = ConfirmForm(request.POST if request.method == "POST" else None, label=LIFT_LABEL)
    error = ""
    status = HTTPStatus.OK
    if request.method == "POST":
        status = HTTPStatus.UNPROCESSABLE_ENTITY
        if form.is_valid():
            try:
                services.service_account_lift_block(
                    actor=membership.user,
                    team=membership.team,
                    account=account,
                    ip_address=client_ip(request),
                )
            except services.CredentialError as refused:
                error, status = str(refused), HTTPStatus.CONFLICT
                account.refresh_from_db()
            else:
                messages.success(request, f"Lifted the block of {account}: it can get tokens again.")
                return redirect_after(
                    request, reverse("credentials:service_accounts:detail", args=[account.pk])
                )
    context = page_context(membership, account=account, form=form, error=error)
    return render(
        request,
        template_for(request, "credentials/scanning/lift_block.html", "confirm"),
        context,
        status=status,
    )
